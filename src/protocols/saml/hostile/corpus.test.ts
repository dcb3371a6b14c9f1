/**
 * The hostile corpus (issue 9): one file per attack, each `*.attack.ts` beside this one with a
 * comment naming the attack and its source. They run from this one test file because every
 * test file of the Workers pool starts its own runtime (seconds of CPU each): one runtime for
 * the corpus keeps CI within its budget without dropping a single case.
 */
import "./comment-in-nameid.attack";
import "./cve-2025-29775-xml-crypto.attack";
import "./cve-2025-47949-samlify.attack";
import "./cve-2025-54419-node-saml.attack";
import "./dtd-entities.attack";
import "./duplicate-ids.attack";
import "./expired-assertion.attack";
import "./not-yet-valid-assertion.attack";
import "./replayed-assertion-id.attack";
import "./signature-removed.attack";
import "./unsigned-assertion-in-signed-response.attack";
import "./wrong-audience.attack";
import "./wrong-destination.attack";
import "./wrong-recipient.attack";
import "./xsw1.attack";
import "./xsw2.attack";
import "./xsw3.attack";
import "./xsw4.attack";
import "./xsw5.attack";
import "./xsw6.attack";
import "./xsw7.attack";
import "./xsw8.attack";

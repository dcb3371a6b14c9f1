import { uuid } from "../../crypto/random";
import { AuthError } from "../errors";
import { objectId } from "./object-id";
import type { NameIdInput, SamlAttributeInput, SamlConfigInput } from "./types";
import { endpointProblem, linkProblem } from "./urls";
import { certificateProblem } from "./x509";

/**
 * The document's `saml_config` of a service provider of type `saml`, validated and stored now
 * for the SAML issue: the entity id (SAML 2.0 Metadata §2.3.2: a URI of at most 1024
 * characters; unique per community), where assertions go (https, or http on loopback), what
 * must be signed, the SP's certificates (parsed enough to refuse garbage), the NameID and
 * the attributes, each sub-object with its own `_id` as the document's example shows.
 */

const bad = (msg: string) => new AuthError("invalid_request", msg);

/** NameID formats: the short names the document uses, or a SAML 1.1/2.0 format URN (SAML Core §8.3). */
const NAMEID_SHORT = new Set(["unspecified", "emailAddress", "X509SubjectName", "WindowsDomainQualifiedName", "kerberos", "entity", "persistent", "transient"]);
const NAMEID_URN = /^urn:oasis:names:tc:SAML:(1\.1|2\.0):nameid-format:[A-Za-z0-9]+$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function cert(field: string, v: string | null | undefined): string | null {
  if (v === null || v === undefined || v.trim() === "") return null;
  const problem = certificateProblem(v);
  if (problem) throw bad(`saml_config.${field} ${problem}`);
  return v.trim();
}

function nameId(n: NameIdInput & { _id?: string }): Record<string, unknown> {
  if (!NAMEID_SHORT.has(n.format) && !NAMEID_URN.test(n.format)) throw bad("saml_config.nameid.format: a NameID format (emailAddress, persistent, ... or its urn:oasis:names:tc:SAML URN)");
  return { _id: n._id ?? objectId(), format: n.format, value: n.value, attribute_type: n.attribute_type };
}

function attribute(a: SamlAttributeInput & { _id?: string }, i: number, seen: Set<string>): Record<string, unknown> {
  const at = `saml_config.attributes[${i}]`;
  const id = a.uuid ?? uuid();
  if (!UUID.test(id)) throw bad(`${at}.uuid must be a UUID`);
  if (seen.has(id.toLowerCase())) throw bad(`${at}.uuid: duplicate`);
  seen.add(id.toLowerCase());
  if (a.value_type === "dynamic" && !a.attribute_name) throw bad(`${at}: value_type dynamic needs attribute_name`);
  if (a.value_type === "static" && (a.value === undefined || a.value === null)) throw bad(`${at}: value_type static needs value`);
  return {
    _id: a._id ?? objectId(),
    uuid: id,
    claim_name: a.claim_name,
    attribute_name: a.attribute_name ?? null,
    attribute_type: a.attribute_type,
    value_type: a.value_type,
    value: a.value ?? null,
  };
}

/** Validates a whole saml_config (a create, or a PATCH merged over the stored one); the stored form. */
export function samlConfig(input: SamlConfigInput & { _id?: string }): Record<string, unknown> {
  const entityId = input.entityId.trim();
  if (entityId.length === 0 || entityId.length > 1024 || /\s/.test(entityId)) throw bad("saml_config.entityId: a URI of 1 to 1024 characters without spaces");
  const acsProblem = endpointProblem(input.assertionConsumerServiceURL);
  if (acsProblem) throw bad(`saml_config.assertionConsumerServiceURL ${acsProblem}`);
  if (input.accessUrl) {
    const problem = linkProblem(input.accessUrl);
    if (problem) throw bad(`saml_config.accessUrl ${problem}`);
  }
  const signingCert = cert("signingCert", input.signingCert);
  const encryptionCert = cert("encryptionCert", input.encryptionCert);
  const authRequestSignRequired = input.authRequestSignRequired === true;
  const logoutRequestSignRequired = input.logoutRequestSignRequired === true;
  // Signatures we must verify need the key that made them.
  if ((authRequestSignRequired || logoutRequestSignRequired) && !signingCert) {
    throw bad("saml_config.signingCert is required when authRequestSignRequired or logoutRequestSignRequired is true");
  }
  if (input.metadata && !input.metadata.trimStart().startsWith("<")) throw bad("saml_config.metadata must be XML");
  const seen = new Set<string>();
  return {
    _id: input._id ?? objectId(),
    ...(input.accessUrl ? { accessUrl: input.accessUrl } : {}),
    entityId,
    assertionMethod: input.assertionMethod ?? "post",
    assertionConsumerServiceURL: input.assertionConsumerServiceURL,
    logoutRequestSignRequired,
    logoutResponseSignRequired: input.logoutResponseSignRequired === true,
    authRequestSignRequired,
    // Signed assertions unless the SP says otherwise (SAML Profiles §4.1.3.5 needs them over POST
    // when the response itself is unsigned; we sign by default and let an SP opt out).
    assertionSignRequired: input.assertionSignRequired !== false,
    // Unsolicited responses (seed 004 saml/idp-init) only when the admin opts in: an SP that
    // never asked for one should not be sent assertions it did not request.
    idpInitiated: input.idpInitiated === true,
    signingCert,
    encryptionCert,
    encryptionAlgo: input.encryptionAlgo ?? null,
    nameid: input.nameid ? nameId(input.nameid) : null,
    attributes: (input.attributes ?? []).map((a, i) => attribute(a, i, seen)),
    metadata: input.metadata ?? null,
    // WS-Federation (docs/api/saml.md): off unless asked; SAML 1.1 tokens by default, which is
    // what ADFS answers and SharePoint/WIF relying parties expect.
    wsfed: input.wsfed ? { enabled: input.wsfed.enabled === true, tokenType: input.wsfed.tokenType ?? "saml11" } : null,
  };
}

/**
 * The SAML and WS-Fed codec tests (`saml/*.spec.ts`, `wsfed/*.spec.ts`, one per codec, beside
 * the codec). They run from this one test file because every test file of the Workers pool
 * starts its own runtime, seconds of CPU each; the hostile corpus has its own runner
 * (saml/hostile/corpus.test.ts).
 */
import "./saml/assertion.spec";
import "./saml/authn-request-build.spec";
import "./saml/authn-request.spec";
import "./saml/c14n-signer.spec";
import "./saml/idp-metadata.spec";
import "./saml/logout.spec";
import "./saml/response-reader.spec";
import "./saml/xmldsig.spec";
import "./wsfed/wsfed.spec";

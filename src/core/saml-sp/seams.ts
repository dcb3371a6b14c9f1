/**
 * What the ACS needs from the outbound side (core/external-idps): our SP's endpoint URLs and
 * the single-use record of each AuthnRequest we sent. One definition, re-exported here so the
 * inbound modules keep one import site.
 */
export { communitySpEndpoints, type SpEndpoints } from "../external-idps/endpoints";
export { consumeAuthnRequest, rememberAuthnRequest, REQUEST_TTL_SECONDS, type RememberedAuthnRequest } from "../external-idps/requests";

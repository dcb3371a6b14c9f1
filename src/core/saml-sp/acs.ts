import { importCertificateKey } from "../../crypto/x509";
import { sha256Hex } from "../../crypto/hash";
import { DEFAULT_CLOCK_SKEW_MS, parseSamlMessage, readSamlResponse, SamlRejected, type SamlAssertionIdentity } from "../../protocols/saml/response-reader";
import { childElements, NS, optionalChild, textOf, XmlRejected, type ParsedDocument } from "../../protocols/saml/xml";
import type { ExternalIdpRecord } from "../../storage/ports-idp";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { provisionFederatedUser, type FederatedIdentity } from "../federation/provision";
import { consumeAuthnRequest, type RememberedAuthnRequest } from "./seams";
import { linkedUser } from "./users";

/**
 * The service as a SAML SP, inbound (Web Browser SSO, Profiles §4.1): a Response posted to one
 * of our ACS URLs becomes a signed-in user of the community, or an AuthError.
 *
 * 1. The external IdP is the caller's (found by the Response's Issuer: externalIdpForResponse).
 *    Its pinned certificate is the only key; our SP entity ID is its connection.spEntityId.
 * 2. protocols/saml/response-reader checks everything the message says (signatures, Issuer,
 *    Destination, Recipient, Audience, time window), and last the InResponseTo: a request we
 *    sent (consumeAuthnRequest: single use in the ReplayGuard), sent to THIS IdP with THIS ACS
 *    URL; or none, when the caller allows unsolicited (IdP-initiated) responses.
 * 3. The assertion ID is claimed single use in the ReplayGuard until the assertion's
 *    NotOnOrAfter (plus skew): the same Response posted twice, or ten times at once, signs in
 *    once (Profiles §4.1.4.5: the SP MUST ensure bearer assertions are not replayed).
 * 4. The user, per routingPolicy.usersInIdpStore (core/saml-sp/users.ts).
 *
 * Every refusal is AuthError "invalid_token" with the same public message: the reason goes to
 * the audit log only, and an unknown user reads like a bad signature.
 */

export interface AcsInput {
  SAMLResponse: unknown;
  RelayState?: unknown;
  /** SAMLResponse already parsed by parseAcsResponse (its Issuer chose the IdP): read as is. */
  parsed?: ParsedDocument | null;
}

export interface AcsContext {
  /** Where this Response was posted: Destination and Recipient must equal it. */
  acsUrl: string;
  /** Accept a Response with no InResponseTo (IdP-initiated). Default false. */
  allowUnsolicited?: boolean;
  now?: number;
}

export interface SamlLogin {
  user: User;
  created: boolean;
  identity: SamlAssertionIdentity;
  /** The request this answered (its server-side relay data), null when unsolicited. */
  request: RememberedAuthnRequest | null;
  /** The RelayState as posted (opaque, untrusted: only the caller's allow-list may use it). */
  relayState: string | null;
}

export const PUBLIC_FAILURE = "the SAML response was not accepted";
const MAX_RELAY_STATE = 1024;
const ASSERTION_PREFIX = "samlassert";

/** The ExternalIdpBody fields this module reads (engineer A's validate.ts owns the type). */
interface ConnectionView {
  connection?: { spEntityId?: unknown; idpSigningCertificate?: unknown };
  routingPolicy?: { usersInIdpStore?: unknown };
}

function refuse(svc: Services, scope: Scope, reason: string, detail: Record<string, unknown> = {}): never {
  recordAudit(svc, scope, "saml_response_rejected", { detail: { reason, ...detail } });
  throw new AuthError("invalid_token", PUBLIC_FAILURE);
}

/** The posted SAMLResponse parsed once (null when it is not one), for the IdP lookup and the read. */
export function parseAcsResponse(samlResponse: unknown): ParsedDocument | null {
  if (typeof samlResponse !== "string") return null;
  try {
    return parseSamlMessage(samlResponse);
  } catch (e) {
    if (e instanceof SamlRejected || e instanceof XmlRejected) return null;
    throw e;
  }
}

/**
 * The external IdP a Response names by its Issuer (the Assertion's, else the Response's), in
 * this community; null when none. Reads the UNVERIFIED message only to pick the pinned key
 * and expectations: readSamlResponse then verifies against exactly that IdP. Takes the
 * message or its parse (parseAcsResponse).
 */
export async function externalIdpForResponse(svc: Services, scope: Scope, samlResponse: unknown, parsed?: ParsedDocument | null): Promise<ExternalIdpRecord | null> {
  const doc = parsed !== undefined ? parsed : parseAcsResponse(samlResponse);
  if (!doc) return null;
  const root = doc.documentElement;
  const assertion = childElements(root, NS.saml, "Assertion")[0];
  const el = (assertion && optionalChild(assertion, NS.saml, "Issuer")) ?? optionalChild(root, NS.saml, "Issuer");
  const issuer = el ? textOf(el).trim() : null;
  if (!issuer || issuer.length > 1024) return null;
  return svc.identity.externalIdps.findByEntityId(scope.tenant.id, scope.community.id, issuer);
}

export async function consumeSamlResponse(svc: Services, scope: Scope, externalIdp: ExternalIdpRecord | null, input: AcsInput, ctx: AcsContext): Promise<SamlLogin> {
  if (typeof input.SAMLResponse !== "string" || input.SAMLResponse.length === 0) refuse(svc, scope, "no SAMLResponse");
  const relayState = typeof input.RelayState === "string" && input.RelayState.length > 0 ? input.RelayState : null;
  if (relayState !== null && relayState.length > MAX_RELAY_STATE) refuse(svc, scope, "RelayState too long");
  if (!externalIdp || externalIdp.tenantId !== scope.tenant.id || externalIdp.communityId !== scope.community.id) {
    refuse(svc, scope, "no external IdP of this community has the Response's Issuer");
  }
  const body = externalIdp.body as ConnectionView;
  const cert = body.connection?.idpSigningCertificate;
  const spEntityId = body.connection?.spEntityId;
  if (typeof cert !== "string" || typeof spEntityId !== "string") throw new AuthError("not_configured", "the external IdP has no signing certificate or SP entity ID");
  let key: CryptoKey;
  try {
    key = await importCertificateKey(cert);
  } catch {
    throw new AuthError("not_configured", "the external IdP's signing certificate cannot be used");
  }

  const now = ctx.now ?? Date.now();
  let request: RememberedAuthnRequest | null = null;
  let identity: SamlAssertionIdentity;
  try {
    identity = await readSamlResponse(input.parsed ?? (input.SAMLResponse as string), {
      idpEntityId: externalIdp.idpEntityId,
      spEntityId,
      acsUrl: ctx.acsUrl,
      keys: [key],
      now,
      requireSignedAssertion: true,
      inResponseTo: async (id) => {
        if (id === null) return ctx.allowUnsolicited === true;
        request = await consumeAuthnRequest(svc, scope.tenant.id, scope.community.id, id);
        // The request must have gone to this IdP and named this ACS URL.
        return request !== null && request.idpId === externalIdp.id && request.acsUrl === ctx.acsUrl;
      },
    });
  } catch (e) {
    if (e instanceof SamlRejected) refuse(svc, scope, e.reason, { externalIdpId: externalIdp.id });
    throw e;
  }

  // Single use of the assertion, decided in the ReplayGuard, for as long as it could be accepted.
  const digest = await sha256Hex(`${identity.issuer}\n${identity.assertionId}`);
  const first = await svc.once.claim(`${ASSERTION_PREFIX}:${scope.tenant.id}`, digest, identity.notOnOrAfter + DEFAULT_CLOCK_SKEW_MS);
  if (!first) refuse(svc, scope, "assertion replayed", { externalIdpId: externalIdp.id, assertionId: identity.assertionId });

  const usersInIdpStore = body.routingPolicy?.usersInIdpStore === true;
  let user: User;
  let created = false;
  if (usersInIdpStore) {
    try {
      ({ user, created } = await provisionFederatedUser(svc, scope, federatedIdentity(identity), { communityId: scope.community.id }));
    } catch (e) {
      if (e instanceof AuthError && (e.code === "conflict" || e.code === "user_disabled" || e.code === "invalid_request")) refuse(svc, scope, `provisioning refused: ${e.code}`);
      throw e;
    }
  } else {
    const found = await linkedUser(svc, scope, identity);
    if (!found) refuse(svc, scope, "no enabled user of the community matches the NameID", { externalIdpId: externalIdp.id });
    user = found;
  }
  recordAudit(svc, scope, "login", { userId: user.uid, detail: { method: "saml", externalIdpId: externalIdp.id, created } });
  return { user, created, identity, request, relayState };
}

const EMAIL_ATTRS = ["email", "mail", "emailaddress", "urn:oid:0.9.2342.19200300.100.1.3", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"];
const FIRST_ATTRS = ["firstname", "givenname", "urn:oid:2.5.4.42", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"];
const LAST_ATTRS = ["lastname", "surname", "sn", "urn:oid:2.5.4.4", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"];
const GROUP_ATTRS = ["groups", "group", "memberof", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"];
const EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

/** The first value of the first attribute with one of these names (case-insensitive). */
export function attribute(identity: SamlAssertionIdentity, names: string[]): string | null {
  for (const [k, vs] of Object.entries(identity.attributes)) if (names.includes(k.toLowerCase()) && vs[0]) return vs[0];
  return null;
}

function allValues(identity: SamlAssertionIdentity, names: string[]): string[] | undefined {
  for (const [k, vs] of Object.entries(identity.attributes)) if (names.includes(k.toLowerCase())) return vs.slice(0, 100);
  return undefined;
}

/** The assertion as the federation seam's identity: `<IdP entity ID>|<NameID>`. */
export function federatedIdentity(identity: SamlAssertionIdentity): FederatedIdentity {
  const email = attribute(identity, EMAIL_ATTRS) ?? (identity.nameIdFormat === EMAIL_FORMAT ? identity.nameId : null);
  const groups = allValues(identity, GROUP_ATTRS);
  return {
    issuer: identity.issuer,
    sub: identity.nameId,
    email,
    // The IdP vouches for the address it asserts (signed by its pinned key).
    emailVerified: email !== null,
    username: identity.nameId,
    firstName: attribute(identity, FIRST_ATTRS),
    lastName: attribute(identity, LAST_ATTRS),
    ...(groups ? { groups } : {}),
  };
}

import { toBase64, utf8 } from "../../crypto/encoding";
import { buildResponse } from "../../protocols/saml/assertion";
import { rawQueryOf, SamlMessageRejected, verifyPostSignature, verifyRedirectSignature, type AuthnRequest } from "../../protocols/saml/authn-request";
import { hasSignature, SignatureRejected, type SignatureAlg } from "../../protocols/saml/xmldsig";
import type { User } from "../../storage/ports";
import { recordAudit } from "../audit/audit";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { authnContextClassRef, resolveAttributes, resolveNameId, type SignInFacts } from "./attributes";
import { findSamlSpByEntityId, findSamlSpById, spEncryptionKey, spVerifyKeys, type SamlSp } from "./service-provider";

/**
 * The service as a SAML 2.0 IdP (Web Browser SSO Profile, SAML Profiles §4.1): the decisions
 * shared by the Authn API (`saml/sso`, `saml/idp-init`) and the hosted front channel
 * (`/saml/<communityId>/sso`). Pure behaviour over storage ports: the caller has authenticated
 * the user, parsed the request (protocols/saml/authn-request.ts) and loaded the signing
 * credential (credential.ts); this module decides whether the request may be answered and
 * builds the answer.
 */

/** AuthnRequest IssueInstant accepted this far from now, either way. */
export const ISSUE_INSTANT_SKEW_MS = 5 * 60 * 1000;
/** A request ID is remembered (single use) this long after its IssueInstant: past the skew window either side. */
const REPLAY_TTL_MS = 2 * ISSUE_INSTANT_SKEW_MS + 60_000;
const HTTP_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/** What signs the answer: credential.ts `samlSigningCredential` (or a test's). */
export interface IdpSigner {
  key: CryptoKey;
  alg: SignatureAlg;
  certB64?: string;
  /** The IdP's entityID: the Issuer of everything it sends. */
  entityId: string;
}

/** The Redirect binding's signature parameters as they arrived (SAML Bindings §3.4.4.1). */
export interface RedirectSignature {
  /**
   * The raw query string (still percent-encoded) when the caller has it (the front channel);
   * otherwise the decoded values, re-encoded (rawQueryOf).
   */
  rawQuery?: string;
  SAMLRequest?: string;
  RelayState?: string;
  SigAlg?: string;
  Signature?: string;
}

export interface SamlSsoInput {
  /** The parsed AuthnRequest. */
  request: AuthnRequest;
  /** How it came: "redirect" carries its signature in the query, "post" inside the XML. */
  binding: "redirect" | "post";
  /** The Redirect binding's signature parameters, when it was signed that way. */
  redirectSignature?: RedirectSignature;
  relayState?: string;
  user: User | null;
  /** The sign-in's facts, or how to make them (e.g. start an SSO session) once the request is accepted. */
  signIn: Lazy<SignInFacts>;
  signer: Lazy<IdpSigner>;
  /** Where the front channel received the request: a Destination present must be one of them (Bindings §3.4.5.2). */
  receivedAt?: string[];
}

export interface SamlSsoOutcome {
  /** base64 of the signed Response XML (SAML Bindings §3.5.4). */
  SAMLResponse: string;
  relayState?: string;
  sp: { assertionConsumerServiceURL: string; assertionMethod: string };
  /** Who it was for and the session it names (for logout). */
  spId: string;
  sessionIndex: string;
  nameId: { value: string; format: string };
}

/** A value, or a function giving it: called only once every check has passed, so a refused request changes no state. */
export type Lazy<T> = T | (() => Promise<T>);
const resolve = <T>(v: Lazy<T>): Promise<T> => (typeof v === "function" ? (v as () => Promise<T>)() : Promise.resolve(v));

const refuse = (why: string) => new AuthError("invalid_request", why);

/** Users of another community, disabled or missing users: one answer for all. */
export function checkUser(scope: Scope, user: User | null): User {
  if (!user || user.communityId !== scope.community.id || user.disabled) throw new AuthError("not_found", "user not found in this community");
  return user;
}

async function checkRequestSignature(sp: SamlSp, input: SamlSsoInput): Promise<void> {
  const rs = input.redirectSignature;
  const redirectSigned = input.binding === "redirect" && !!rs && (rs.rawQuery !== undefined || (rs.Signature !== undefined && rs.SigAlg !== undefined));
  const postSigned = input.binding === "post" && hasSignature(input.request.element);
  if (!redirectSigned && !postSigned) {
    if (sp.authRequestSignRequired) throw refuse("the service provider's AuthnRequests must be signed");
    return;
  }
  // A signature that is present is checked whenever the SP has a certificate to check it
  // with, required or not: a request that claims to be signed and is not is refused.
  const keys = await spVerifyKeys(sp);
  if (keys.length === 0) {
    if (sp.authRequestSignRequired) throw new AuthError("not_configured", "the service provider has no signingCert");
    return;
  }
  try {
    if (redirectSigned) await verifyRedirectSignature(rs!.rawQuery ?? rawQueryOf({ SAMLRequest: rs!.SAMLRequest, RelayState: rs!.RelayState, SigAlg: rs!.SigAlg, Signature: rs!.Signature }), keys);
    else await verifyPostSignature(input.request, keys);
  } catch (e) {
    if (e instanceof SignatureRejected || e instanceof SamlMessageRejected) throw refuse(`AuthnRequest signature: ${e.reason}`);
    throw e;
  }
}

async function respond(svc: Services, scope: Scope, sp: SamlSp, lazy: { inResponseTo?: string; relayState?: string; user: User; signIn: Lazy<SignInFacts>; signer: Lazy<IdpSigner> }): Promise<SamlSsoOutcome> {
  const [signIn, signer] = await Promise.all([resolve(lazy.signIn), resolve(lazy.signer)]);
  const opts = { ...lazy, signIn, signer };
  const nameId = resolveNameId(sp, opts.user, opts.signIn);
  const encryptTo = await spEncryptionKey(sp);
  const xml = await buildResponse({
    issuer: opts.signer.entityId,
    destination: sp.acsUrl,
    ...(opts.inResponseTo !== undefined ? { inResponseTo: opts.inResponseTo } : {}),
    audience: sp.entityId,
    nameId,
    authnInstant: opts.signIn.authTime * 1000,
    sessionIndex: opts.signIn.sid,
    authnContextClassRef: authnContextClassRef(opts.signIn),
    attributes: resolveAttributes(sp, opts.user, opts.signIn),
    signing: { key: opts.signer.key, alg: opts.signer.alg, ...(opts.signer.certB64 ? { certB64: opts.signer.certB64 } : {}) },
    signAssertion: sp.assertionSignRequired,
    ...(encryptTo ? { encryptTo } : {}),
  });
  recordAudit(svc, scope, "saml_assertion_issued", { userId: opts.user.uid, detail: { spId: sp.spId, sid: opts.signIn.sid, solicited: opts.inResponseTo !== undefined } });
  return {
    SAMLResponse: toBase64(utf8(xml)),
    ...(opts.relayState !== undefined ? { relayState: opts.relayState } : {}),
    sp: { assertionConsumerServiceURL: sp.acsUrl, assertionMethod: sp.assertionMethod },
    spId: sp.spId,
    sessionIndex: opts.signIn.sid,
    nameId,
  };
}

/** The SP an AuthnRequest names by its Issuer; refused when this community has none by that entityID. */
export async function spOfRequest(svc: Services, scope: Scope, request: AuthnRequest): Promise<SamlSp> {
  const sp = await findSamlSpByEntityId(svc, scope, request.issuer);
  if (!sp) throw refuse("no SAML service provider with this Issuer in this community");
  return sp;
}

/**
 * Answers an SP-initiated AuthnRequest (SAML Profiles §4.1.4) for an authenticated user. In
 * order: the SP (Issuer = its saml_config.entityId in this community), the signature (required
 * when authRequestSignRequired; checked whenever present), IssueInstant within ±5 minutes,
 * Destination (when the caller says where it received the request), the ACS URL (a requested
 * AssertionConsumerServiceURL must equal the registered one: we never post elsewhere), the
 * binding (HTTP-POST only: Profiles §4.1.2 forbids Redirect for responses), then the request
 * ID's single use (ReplayGuard: of racing copies exactly one is answered).
 */
export async function samlSso(svc: Services, scope: Scope, input: SamlSsoInput): Promise<SamlSsoOutcome> {
  const req = input.request;
  const sp = await spOfRequest(svc, scope, req);
  await checkRequestSignature(sp, input);
  const now = Date.now();
  if (Math.abs(now - req.issueInstant) > ISSUE_INSTANT_SKEW_MS) throw refuse("the AuthnRequest's IssueInstant is more than 5 minutes from now");
  if (input.receivedAt && req.destination !== undefined && !input.receivedAt.includes(req.destination)) throw refuse("the AuthnRequest's Destination is not this endpoint");
  if (req.acsUrl !== undefined && req.acsUrl !== sp.acsUrl) throw refuse("AssertionConsumerServiceURL is not the service provider's registered one");
  if (req.protocolBinding !== undefined && req.protocolBinding !== HTTP_POST) throw refuse("only the HTTP-POST binding is supported for responses");
  const user = checkUser(scope, input.user);
  const first = await svc.once.claim(`samlreq:${scope.tenant.id}:${scope.community.id}`, `${sp.spId}:${req.id}`, Math.max(req.issueInstant, now) + REPLAY_TTL_MS);
  if (!first) throw refuse("this AuthnRequest was already answered");
  return respond(svc, scope, sp, { inResponseTo: req.id, ...(input.relayState !== undefined ? { relayState: input.relayState } : {}), user, signIn: input.signIn, signer: input.signer });
}

export interface IdpInitiatedInput {
  serviceProviderId: string;
  relayState?: string;
  user: User | null;
  signIn: Lazy<SignInFacts>;
  signer: Lazy<IdpSigner>;
}

/**
 * An unsolicited Response (SAML Profiles §4.1.5): only to an SP of this community whose
 * saml_config.idpInitiated is true; no InResponseTo. Missing, foreign, non-SAML and
 * not-enabled SPs are all not_found (the document's 404).
 */
export async function idpInitiated(svc: Services, scope: Scope, input: IdpInitiatedInput): Promise<SamlSsoOutcome> {
  const sp = /^[0-9a-f]{24}$/.test(input.serviceProviderId) ? await findSamlSpById(svc, scope, input.serviceProviderId) : null;
  if (!sp || !sp.idpInitiated) throw new AuthError("not_found", "no SAML service provider with IdP-initiated SSO enabled has this id");
  const user = checkUser(scope, input.user);
  return respond(svc, scope, sp, { ...(input.relayState !== undefined ? { relayState: input.relayState } : {}), user, signIn: input.signIn, signer: input.signer });
}

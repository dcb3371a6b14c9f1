import type { Scope, Services } from "../../core/context";
import { AuthError } from "../../core/errors";
import type { SamlContinuation, SamlIdpInitContinuation } from "../../core/oidc-provider/login-transaction";
import type { SsoSession } from "../../core/oidc-provider/sso-session";
import { samlSigningCredential } from "../../core/saml-idp/credential";
import { idpMetadata } from "../../core/saml-idp/metadata";
import { idpInitiated, samlSso, spOfRequest, ISSUE_INSTANT_SKEW_MS } from "../../core/saml-idp/sso";
import { toBase64, utf8 } from "../../crypto/encoding";
import {
  decodePostRequest,
  decodeRedirectRequest,
  encodeRedirectMessage,
  parseAuthnRequest,
  SamlMessageRejected,
  signRedirectQuery,
  verifyPostSignature,
  verifyRedirectSignature,
  type AuthnRequest,
} from "../../protocols/saml/authn-request";
import { buildStatusResponse, STATUS_NO_PASSIVE, STATUS_RESPONDER } from "../../protocols/saml/status-response";
import { SignatureRejected, type SignatureAlg } from "../../protocols/saml/xmldsig";
import { spVerifyKeys } from "../../core/saml-idp/service-provider";
import type { User } from "../../storage/ports";

/**
 * The front channel's one door into the SAML IdP core (src/core/saml-idp, engineer B) and its
 * codecs (protocols/saml/authn-request.ts, status-response.ts). `checkSsoRequest` runs the
 * checks that decide whether a login page may be shown at all (a readable AuthnRequest, an SP
 * of this community by Issuer, the registered ACS URL, the POST response binding, IssueInstant);
 * `samlResponse` answers after sign-in through `samlSso`, which checks the very same message
 * again, the signature included, and claims its ID (single use).
 */
const refuse = (why: string) => new AuthError("invalid_request", why);
const HTTP_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

export interface SsoInput {
  binding: "redirect" | "post";
  SAMLRequest: string;
  RelayState?: string | undefined;
  rawQuery?: string | undefined;
}

export interface CheckedAuthnRequest {
  spId: string;
  /** The SP's entityID: the application the authentication policy is asked about. */
  entityId: string;
  continuation: SamlContinuation;
}

async function read(input: SsoInput): Promise<AuthnRequest> {
  try {
    return parseAuthnRequest(input.binding === "redirect" ? await decodeRedirectRequest(input.SAMLRequest) : decodePostRequest(input.SAMLRequest));
  } catch (e) {
    if (e instanceof SamlMessageRejected) throw refuse(`AuthnRequest: ${e.reason}`);
    throw e;
  }
}

export async function checkSsoRequest(svc: Services, scope: Scope, input: SsoInput): Promise<CheckedAuthnRequest> {
  const req = await read(input);
  const sp = await spOfRequest(svc, scope, req);
  if (req.acsUrl !== undefined && req.acsUrl !== sp.acsUrl) throw refuse("AssertionConsumerServiceURL is not the service provider's registered one");
  if (req.protocolBinding !== undefined && req.protocolBinding !== HTTP_POST) throw refuse("only the HTTP-POST binding is supported for responses");
  if (Math.abs(Date.now() - req.issueInstant) > ISSUE_INSTANT_SKEW_MS) throw refuse("the AuthnRequest's IssueInstant is more than 5 minutes from now");
  // A required signature is checked before any page is shown (samlSso checks it again, with
  // the single use of the ID, after the login): a forged request never reaches the login.
  if (sp.authRequestSignRequired) {
    const keys = await spVerifyKeys(sp);
    try {
      if (input.binding === "redirect") await verifyRedirectSignature(input.rawQuery ?? "", keys);
      else await verifyPostSignature(req, keys);
    } catch (e) {
      if (e instanceof SignatureRejected || e instanceof SamlMessageRejected) throw refuse(`AuthnRequest signature: ${e.reason}`);
      throw e;
    }
  }
  return {
    spId: sp.spId,
    entityId: sp.entityId,
    continuation: {
      kind: "saml",
      spId: sp.spId,
      request: {
        id: req.id,
        acsUrl: sp.acsUrl,
        forceAuthn: req.forceAuthn,
        isPassive: req.isPassive,
        ...(input.RelayState !== undefined ? { relayState: input.RelayState } : {}),
        message: { binding: input.binding, SAMLRequest: input.SAMLRequest, ...(input.rawQuery !== undefined ? { rawQuery: input.rawQuery } : {}) },
      },
    },
  };
}

export interface PostedResponse {
  acsUrl: string;
  SAMLResponse: string;
  relayState?: string | undefined;
}

const facts = (s: SsoSession) => ({ sid: s.sid, authTime: s.authTime, amr: s.amr, acr: s.acr });

export async function samlResponse(
  svc: Services,
  scope: Scope,
  continuation: SamlContinuation | SamlIdpInitContinuation,
  signedIn: { user: User; session: SsoSession },
  receivedAt: string[],
): Promise<PostedResponse> {
  const signer = () => samlSigningCredential(svc, scope);
  const relay = continuation.kind === "saml" ? continuation.request.relayState : continuation.relayState;
  const common = { ...(relay !== undefined ? { relayState: relay } : {}), user: signedIn.user, signIn: facts(signedIn.session), signer };
  let out;
  if (continuation.kind === "saml-idp-init") {
    out = await idpInitiated(svc, scope, { serviceProviderId: continuation.spId, ...common });
  } else {
    const m = continuation.request.message;
    if (!m) throw refuse("the sign-in request was not kept");
    const request = await read(m);
    out = await samlSso(svc, scope, {
      request,
      binding: m.binding,
      ...(m.binding === "redirect" && m.rawQuery !== undefined && /(^|&)Signature=/.test(m.rawQuery) ? { redirectSignature: { rawQuery: m.rawQuery } } : {}),
      receivedAt,
      ...common,
    });
  }
  return { acsUrl: out.sp.assertionConsumerServiceURL, SAMLResponse: out.SAMLResponse, ...(out.relayState !== undefined ? { relayState: out.relayState } : {}) };
}

/** A Response with a non-success status (NoPassive, SAML Core §3.4.1) to the checked ACS URL. */
export async function samlErrorResponse(svc: Services, scope: Scope, continuation: SamlContinuation, status: string): Promise<PostedResponse> {
  const cred = await samlSigningCredential(svc, scope);
  const xml = await buildStatusResponse({
    issuer: cred.entityId,
    destination: continuation.request.acsUrl,
    inResponseTo: continuation.request.id,
    status: STATUS_RESPONDER,
    subStatus: status === STATUS_NO_PASSIVE ? STATUS_NO_PASSIVE : status,
    signing: { key: cred.key, alg: cred.alg, certB64: cred.certB64 },
  });
  return { acsUrl: continuation.request.acsUrl, SAMLResponse: toBase64(utf8(xml)), ...(continuation.request.relayState !== undefined ? { relayState: continuation.request.relayState } : {}) };
}

export async function idpMetadataXml(svc: Services, scope: Scope, urls: { ssoUrl: string; sloUrl: string }): Promise<string> {
  await samlSigningCredential(svc, scope); // makes the community's idp_config on first use
  const config = await svc.authnConfig.idpConfigs.get(scope.tenant.id, scope.community.id);
  if (!config) throw new AuthError("not_configured", "no SAML IdP configuration");
  return idpMetadata(svc, scope, config.identifier, urls, () => samlSigningCredential(svc, scope));
}

export async function decodeRedirectMessage(value: string): Promise<string> {
  return decodeRedirectRequest(value);
}

export async function verifyRedirectQuery(rawQuery: string, keys: CryptoKey[]): Promise<void> {
  return verifyRedirectSignature(rawQuery, keys);
}

export async function redirectQuery(params: { SAMLResponse: string; RelayState?: string }, signer?: { key: CryptoKey; alg: SignatureAlg }): Promise<string> {
  const value = await encodeRedirectMessage(params.SAMLResponse);
  const p = { SAMLResponse: value, ...(params.RelayState !== undefined ? { RelayState: params.RelayState } : {}) };
  if (signer) return signRedirectQuery(p, signer.key, signer.alg);
  return `SAMLResponse=${encodeURIComponent(value)}${params.RelayState !== undefined ? `&RelayState=${encodeURIComponent(params.RelayState)}` : ""}`;
}

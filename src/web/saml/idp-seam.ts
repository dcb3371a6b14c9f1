import type { Scope, Services } from "../../core/context";
import { AuthError } from "../../core/errors";
import type { SamlContinuation, SamlIdpInitContinuation } from "../../core/oidc-provider/login-transaction";
import type { SsoSession } from "../../core/oidc-provider/sso-session";
import type { User } from "../../storage/ports";
import type { SignatureAlg } from "../../protocols/saml/xmldsig";

/**
 * SEAM — engineer B's SAML IdP (src/core/saml-idp `samlSso`/`idpInitiated`/`idpMetadata`,
 * src/protocols/saml/authn-request.ts, idp-metadata.ts) is not on main yet. Everything the
 * front channel needs from it goes through this one module, each function answering
 * AuthError `not_configured` (the hosted login shows "Sign-in is not available", 404) until
 * the lead merges B and these bodies become calls to B's exports. Nothing here is a stub
 * presented as done: the routes around it are real and tested up to this line.
 *
 * What the front channel expects (written for B in /tmp/briefs9/E-transaction.md):
 * - `checkSsoRequest` decodes the binding, parses, finds the SP by Issuer in this community,
 *   checks the ACS URL against the registered one, the signature when authRequestSignRequired,
 *   IssueInstant, and CLAIMS the request ID (single use) — so the login in between does not
 *   re-check, and a replayed AuthnRequest is refused here, before any page.
 * - `samlResponse` builds and signs the Response for a continuation and a signed-in user
 *   (SessionIndex = session.sid, which single logout relies on).
 */
const pending = (what: string) => new AuthError("not_configured", `SAML IdP ${what} is not merged yet`);

export interface SsoInput {
  binding: "redirect" | "post";
  SAMLRequest: string;
  RelayState?: string | undefined;
  /** Redirect binding: the raw query string, for the query signature (Bindings §3.4.4.1). */
  rawQuery?: string | undefined;
}

export interface CheckedAuthnRequest {
  spId: string;
  continuation: SamlContinuation;
}

export async function checkSsoRequest(_svc: Services, _scope: Scope, _input: SsoInput): Promise<CheckedAuthnRequest> {
  throw pending("AuthnRequest checking (samlSso)");
}

export interface PostedResponse {
  acsUrl: string;
  SAMLResponse: string;
  relayState?: string | undefined;
}

export async function samlResponse(
  _svc: Services,
  _scope: Scope,
  _continuation: SamlContinuation | SamlIdpInitContinuation,
  _signedIn: { user: User; session: SsoSession },
  /** Where the request was received (its Destination must be one of them). */
  _receivedAt: string[],
): Promise<PostedResponse> {
  throw pending("Response building (samlSso / idpInitiated)");
}

/** A Response with a non-success status (e.g. NoPassive, SAML Core §3.2.2.2) to the request's ACS URL. */
export async function samlErrorResponse(_svc: Services, _scope: Scope, _continuation: SamlContinuation, _status: string): Promise<PostedResponse> {
  throw pending("status Responses");
}

export async function idpMetadataXml(_svc: Services, _scope: Scope, _urls: { ssoUrl: string; sloUrl: string }): Promise<string> {
  throw pending("IdP metadata");
}

/** authn-request.ts `decodeRedirectRequest` (inflate with caps). */
export async function decodeRedirectMessage(_value: string): Promise<string> {
  throw pending("HTTP-Redirect decoding");
}

/** authn-request.ts `verifyRedirectSignature`. */
export async function verifyRedirectQuery(_rawQuery: string, _keys: CryptoKey[]): Promise<void> {
  throw pending("HTTP-Redirect signatures");
}

/** authn-request.ts `encodeRedirectMessage` + `signRedirectQuery` (unsigned when no signer). */
export async function redirectQuery(_params: { SAMLResponse: string; RelayState?: string }, _signer?: { key: CryptoKey; alg: SignatureAlg }): Promise<string> {
  throw pending("HTTP-Redirect encoding");
}

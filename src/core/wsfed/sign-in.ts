import { parseSignInRequest, type PassiveParams, type SignInRequest } from "../../protocols/wsfed/passive-request";
import { buildSaml11Assertion, SAML11_AM_PASSWORD, SAML11_AM_UNSPECIFIED } from "../../protocols/wsfed/saml11-assertion";
import { buildWresult } from "../../protocols/wsfed/wresult";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { acrOf } from "../oidc-provider/sso-session";
import type { SamlSigningCredential } from "../saml-idp/credential";
import { findRelyingParty, replyTarget, type RelyingParty } from "./relying-party";
import { authnContextClassRef, resolveAttributes, resolveNameId, type SignInFacts } from "../saml-idp/attributes";
import { assertionXml, ASSERTION_LIFETIME_SECONDS } from "../../protocols/saml/assertion";
import { newSamlId, parseXml, serializeXml } from "../../protocols/saml/xml";
import { signElement } from "../../protocols/saml/xmldsig";

/**
 * A WS-Federation sign-in answered for an authenticated user (WS-Federation 1.2 §13.2.3):
 * the relying party found by its realm, the reply address checked against the registered
 * one, the subject resolved, and a signed assertion in a RequestSecurityTokenResponse.
 * Used by the Authn `wsfed/sso` operation (the service vouches for the user) and the hosted
 * passive endpoint (the user's SSO session does).
 */

/** How long the token is valid: an hour, ADFS's default token lifetime for relying parties. */
export const TOKEN_LIFETIME_MS = 60 * 60 * 1000;
/** NotBefore a little in the past, for relying parties whose clocks run behind ours. */
const CLOCK_SKEW_MS = 60 * 1000;

/** What signing needs of the community's credential (core/saml-idp/credential.ts). */
export type SigningCredential = Pick<SamlSigningCredential, "key" | "alg" | "certB64" | "entityId">;

export interface SignInSession {
  /** Epoch seconds of the authentication. */
  authTime: number;
  amr: string[];
  sid?: string;
}

export interface WsFedSignInInput {
  /** The passive request's parameters, or a request parsed already. */
  request: PassiveParams | SignInRequest;
  user: User;
  session: SignInSession;
}

export interface WsFedSignIn {
  wresult: string;
  wctx: string;
  /** Where to POST wa, wresult and wctx (§13.2.3: the response is a form POST). */
  sp: { assertionConsumerServiceURL: string; assertionMethod: "post" };
  relyingParty: RelyingParty;
}

/** Even a request parsed already goes through the codec again: its caps and rules are cheap. */
function parsed(request: WsFedSignInInput["request"]): SignInRequest {
  const r = parseSignInRequest(request instanceof URLSearchParams ? request : { ...request });
  if (!r.ok) throw new AuthError("invalid_request", r.error);
  return r.request;
}

/** Finds the relying party and where its answer may go; throws on anything not registered. */
export async function checkSignIn(svc: Services, scope: Scope, request: WsFedSignInInput["request"]): Promise<{ request: SignInRequest; rp: RelyingParty; reply: string }> {
  const req = parsed(request);
  const rp = await findRelyingParty(svc, scope, req.wtrealm);
  return { request: req, rp, reply: replyTarget(rp, req.wreply) };
}

/** `credential` may be a loader: it runs only once the request is known to be acceptable (no key import for junk). */
export async function wsfedSignIn(svc: Services, scope: Scope, input: WsFedSignInInput, credentialOf: SigningCredential | (() => Promise<SigningCredential>)): Promise<WsFedSignIn> {
  const { request, rp, reply } = await checkSignIn(svc, scope, input.request);
  const user = input.user;
  if (user.tenantId !== scope.tenant.id || user.communityId !== scope.community.id || user.disabled) throw new AuthError("not_found", "user not found in this community");
  const credential = typeof credentialOf === "function" ? await credentialOf() : credentialOf;
  const now = Date.now();
  const facts: SignInFacts = { sid: input.session.sid ?? newSamlId(), authTime: input.session.authTime, amr: input.session.amr, acr: acrOf(input.session.amr) };
  // NameID and attributes: core/saml-idp's resolution, the same as the SAML 2.0 answers.
  const nameId = resolveNameId(rp.sp, user, facts);
  const attributes = resolveAttributes(rp.sp, user, facts);
  const signing = { key: credential.key, alg: credential.alg, certB64: credential.certB64 };
  let xml: string;
  let expires: number;
  if (rp.tokenType === "saml20") {
    // A SAML 2.0 assertion as core/saml-idp builds it (its 5-minute lifetime), signed alone:
    // WS-Fed carries the assertion, not a samlp:Response.
    const doc = parseXml(
      assertionXml({ issuer: credential.entityId, destination: reply, audience: rp.realm, nameId, authnInstant: input.session.authTime * 1000, sessionIndex: facts.sid, authnContextClassRef: authnContextClassRef(facts), attributes, signing, signAssertion: true }, newSamlId(), now),
    );
    await signElement(doc, doc.documentElement, signing);
    xml = serializeXml(doc.documentElement);
    expires = now + ASSERTION_LIFETIME_SECONDS * 1000;
  } else {
    expires = now + TOKEN_LIFETIME_MS;
    ({ xml } = await buildSaml11Assertion(
      {
        issuer: credential.entityId,
        audience: rp.realm,
        nameId,
        attributes,
        issuedAt: now,
        notBefore: now - CLOCK_SKEW_MS,
        notOnOrAfter: expires,
        authnInstant: input.session.authTime * 1000,
        authnMethod: input.session.amr.length === 1 && input.session.amr[0] === "pwd" ? SAML11_AM_PASSWORD : SAML11_AM_UNSPECIFIED,
      },
      signing,
    ));
  }
  const wresult = buildWresult({ assertionXml: xml, tokenType: rp.tokenType, appliesTo: rp.realm, created: now, expires });
  return { wresult, wctx: request.wctx ?? "", sp: { assertionConsumerServiceURL: reply, assertionMethod: "post" }, relyingParty: rp };
}

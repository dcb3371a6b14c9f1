import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Scope, Services } from "../../core/context";
import { AuthError, isAuthError } from "../../core/errors";
import { cloudcheckrSamlSettings, cloudcheckrSpUrls } from "../../core/external-idps/cloudcheckr";
import { consumeLogout } from "../../core/external-idps/requests";
import type { ExternalIdpBody } from "../../core/external-idps/validate";
import { PUBLIC_FAILURE } from "../../core/saml-sp/acs";
import { consumeCloudCheckrResponse } from "../../core/saml-sp/cloudcheckr-acs";
import { publicOrigin } from "../../core/tenants/public-origin";
import { importCertificateKey } from "../../crypto/x509";
import { requestAddress } from "../../http/request-address";
import { resolveTenantByHost } from "../../http/tenant";
import type { AppEnv } from "../../http/types";
import { decodeRedirectRequest, SamlMessageRejected, SignatureRejected, verifyRedirectSignature } from "../../protocols/saml/authn-request";
import { NS, optionalChild, parseXml, textOf, XmlRejected } from "../../protocols/saml/xml";
import { renderCloudCheckrError } from "./errors";
import { ErrorResponse } from "./schemas";

/**
 * CloudCheckr's SAML SP endpoints the IdP sends the browser back to (seed 001):
 * `POST /v1/auth/saml/acs` (HTTP-POST binding, SAML Bindings §3.5) and `GET /v1/auth/saml/sls`
 * (HTTP-Redirect binding, §3.4). Thin adapter: the ACS is core/saml-sp/cloudcheckr-acs.ts; the
 * SLS only finds the logout `saml/logout` remembered (core/external-idps/requests.ts) and
 * sends the browser back to its return URL, after a strict read of the LogoutResponse.
 */

/**
 * A POSTed SAMLResponse is base64 of up to MAX_XML_CHARS (256 KiB) of XML: signed responses
 * with certificates run to tens of KiB, far past the surface's 64 KiB cap (index.ts exempts
 * this path from that one). The same cap as the community ACS (web/saml-sp.tsx).
 */
export const ACS_PATH = "/v1/auth/saml/acs";
export const MAX_ACS_FORM_BYTES = 512 * 1024;
export const limitAcsForm = bodyLimit({
  maxSize: MAX_ACS_FORM_BYTES,
  onError: (c) => renderCloudCheckrError(c as Context<AppEnv>, new AuthError("payload_too_large", "request body too large")),
});

const err = (description: string) => ({ description, content: { "application/json": { schema: ErrorResponse } } });

const AcsForm = z.object({
  SAMLResponse: z.string().min(1).max(MAX_ACS_FORM_BYTES).openapi({ description: "base64 of the IdP's samlp:Response (signed)" }),
  RelayState: z.string().max(1024).optional().openapi({ description: "Echoed by the IdP; never followed: the return URL is the one saml/login kept server-side" }),
});

export const samlAcsRoute = createRoute({
  method: "post",
  path: "/saml/acs",
  operationId: "samlAcs",
  summary: "Assertion Consumer Service",
  description:
    "The IdP's Response (HTTP-POST binding). A valid one, answering an AuthnRequest that /v1/auth/saml/login sent, redirects (302) to the return URL kept at login (else the dashboard) with the CloudCheckr token in the fragment: `#token=<jwt>&token_type=Bearer&expires_in=<s>`. Each Response and each request is accepted once.",
  middleware: resolveTenantByHost,
  request: { body: { required: true, content: { "application/x-www-form-urlencoded": { schema: AcsForm } } } },
  responses: {
    302: { description: "To the return URL (or dashboard), the token in the fragment" },
    400: err("The Response was not accepted (`invalid_request`): unsigned, wrong audience or issuer, expired, replayed, not answering our request"),
    404: err("No tenant is bound to this host, or SAML is not configured for it (`not_configured`)"),
    413: err("Body too large"),
    422: err("SAMLResponse missing or not a string"),
  },
});

const SlsQuery = z.object({
  SAMLResponse: z.string().min(1).max(16 * 1024).openapi({ description: "base64 of the DEFLATEd samlp:LogoutResponse" }),
  RelayState: z.string().max(1024).openapi({ description: "The opaque value saml/logout sent to the IdP" }),
  SigAlg: z.string().max(256).optional(),
  Signature: z.string().max(2048).optional(),
});

export const samlSlsRoute = createRoute({
  method: "get",
  path: "/saml/sls",
  operationId: "samlSls",
  summary: "Single Logout Service",
  description:
    "The IdP's LogoutResponse (HTTP-Redirect binding) after /v1/auth/saml/logout. When the IdP has a signing certificate configured the query must be signed with it (SAML Bindings §3.4.4.1). Redirects (302) to the return URL kept at saml/logout, once per logout.",
  middleware: resolveTenantByHost,
  request: { query: SlsQuery },
  responses: {
    302: { description: "Back to the login screen (the return URL kept at saml/logout)" },
    400: err("The LogoutResponse was not accepted, or the RelayState names no pending logout (`invalid_request`)"),
    404: err("No tenant is bound to this host, or SAML is not configured for it (`not_configured`)"),
    422: err("SAMLResponse or RelayState missing"),
  },
});

async function origin(c: Context<AppEnv>): Promise<string> {
  const o = await publicOrigin(c.get("services"), c.get("scope").tenant.id, requestAddress(c));
  if (!o) throw new AuthError("not_configured", "this tenant has no public address");
  return o;
}

/** Every refusal of a message says the same thing: nothing tells which check failed. */
const refused = () => new AuthError("invalid_request", PUBLIC_FAILURE);

/**
 * A LogoutResponse as SAML Core §3.7.2 / §3.2.2 define it, read strictly: the root is
 * samlp:LogoutResponse, Version 2.0, Issuer (when present) the IdP's entityID, Destination
 * (when present) our SLS, top-level StatusCode Success. InResponseTo is not checked: saml/logout
 * sends no LogoutRequest (see core/external-idps/cloudcheckr.ts), so there is none to match.
 */
export function readLogoutResponse(xml: string, expect: { issuer: string; destination: string }): void {
  const doc = parseXml(xml, { maxChars: 64 * 1024 });
  const el = doc.documentElement;
  if (el.namespaceURI !== NS.samlp || el.localName !== "LogoutResponse") throw new SamlMessageRejected("not a samlp:LogoutResponse");
  if (el.getAttribute("Version") !== "2.0") throw new SamlMessageRejected("Version must be 2.0");
  const destination = el.getAttribute("Destination");
  if (destination && destination !== expect.destination) throw new SamlMessageRejected("Destination is not our SLS");
  const issuer = optionalChild(el, NS.saml, "Issuer");
  if (issuer && textOf(issuer).trim() !== expect.issuer) throw new SamlMessageRejected("Issuer is not the configured IdP");
  const status = optionalChild(el, NS.samlp, "Status");
  const code = status ? optionalChild(status, NS.samlp, "StatusCode") : null;
  if (code?.getAttribute("Value") !== "urn:oasis:names:tc:SAML:2.0:status:Success") throw new SamlMessageRejected("the IdP did not report success");
}

/**
 * The SLS: the tenant's configured IdP, the query's signature against its certificate, the
 * message, and only then the logout record (so a forged query does not use up a real one).
 */
async function finishLogout(svc: Services, scope: Scope, rawQuery: string, q: z.infer<typeof SlsQuery>, slsUrl: string): Promise<string> {
  const s = cloudcheckrSamlSettings(scope);
  const idp = await svc.identity.externalIdps.get(scope.tenant.id, s.communityId, s.externalIdpId);
  if (!idp) throw new AuthError("not_configured", "the tenant's SAML identity provider is not configured");
  const conn = (idp.body as unknown as ExternalIdpBody).connection;
  try {
    if (conn.idpSigningCertificate) {
      let key: CryptoKey;
      try {
        key = await importCertificateKey(conn.idpSigningCertificate);
      } catch {
        throw new AuthError("not_configured", "the external IdP's signing certificate cannot be used");
      }
      await verifyRedirectSignature(rawQuery, [key]);
    }
    readLogoutResponse(await decodeRedirectRequest(q.SAMLResponse), { issuer: conn.idpEntityId, destination: slsUrl });
  } catch (e) {
    if (e instanceof SignatureRejected || e instanceof SamlMessageRejected || e instanceof XmlRejected) throw refused();
    throw e;
  }
  const logout = await consumeLogout(svc, scope.tenant.id, q.RelayState);
  if (!logout || logout.idpId !== idp.id || logout.communityId !== s.communityId) throw refused();
  return logout.returnUrl;
}

export function registerCloudCheckrAcsRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(samlAcsRoute, async (c) => {
    const { SAMLResponse, RelayState } = c.req.valid("form");
    const scope = c.get("scope");
    const s = cloudcheckrSamlSettings(scope);
    try {
      const { redirect } = await consumeCloudCheckrResponse(c.get("services"), scope, s, { SAMLResponse, RelayState }, { acsUrl: cloudcheckrSpUrls(await origin(c)).acsUrl });
      return c.redirect(redirect, 302) as never;
    } catch (e) {
      // core refuses a bad Response as invalid_token (401 + WWW-Authenticate: Bearer here),
      // which would read as a bearer problem: for a form post it is a bad request.
      if (isAuthError(e) && e.code === "invalid_token") throw refused();
      throw e;
    }
  });
  app.openapi(samlSlsRoute, async (c) => {
    const q = c.req.valid("query");
    const url = new URL(c.req.url);
    const returnUrl = await finishLogout(c.get("services"), c.get("scope"), url.search.slice(1), q, cloudcheckrSpUrls(await origin(c)).slsUrl);
    return c.redirect(returnUrl, 302) as never;
  });
}

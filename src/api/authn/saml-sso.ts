import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { AuthError } from "../../core/errors";
import { acrOf, startSsoSession } from "../../core/oidc-provider/sso-session";
import { samlSigningCredential } from "../../core/saml-idp/credential";
import { idpMetadata } from "../../core/saml-idp/metadata";
import { idpInitiated, samlSso, type IdpSigner } from "../../core/saml-idp/sso";
import type { Scope, Services } from "../../core/context";
import { authnPayload, authnRespond } from "../../http/authn-guard";
import { requestAddress } from "../../http/request-address";
import type { AppEnv } from "../../http/types";
import { decodeAnyRequest, parseAuthnRequest, SamlMessageRejected } from "../../protocols/saml/authn-request";
import { authnRoute, SYSTEM_SERVICE, TenantCommunityParams } from "./endpoint-kit";
import { errorResponse, UserSession } from "./schemas";

/**
 * The service as a SAML IdP on the Authn API (seed 004, Authenticate): `saml/sso` answers an
 * SP's AuthnRequest for a user the calling service authenticated, `saml/idp-init` sends an
 * unsolicited Response to an SP that allows it, and `idp/{idpIdentifier}/metadata` describes
 * the community's IdP. The decisions live in core/saml-idp/; this file only translates.
 */


const SamlSsoPayload = z
  .object({
    SAMLPayload: z.object({
      SAMLRequest: z.string().min(1).max(20_000).openapi({ description: "The SP's SAMLRequest as received: base64 of DEFLATE (HTTP-Redirect) or of the XML (HTTP-POST)" }),
      Signature: z.string().max(4096).optional().openapi({ description: "HTTP-Redirect only: the Signature query parameter, URL-decoded" }),
      SigAlg: z.string().max(256).optional().openapi({ description: "HTTP-Redirect only: the SigAlg query parameter, URL-decoded" }),
      RelayState: z.string().max(1024).optional().openapi({ description: "Returned unchanged beside the SAMLResponse" }),
    }),
    userSession: UserSession,
  })
  .openapi("SamlSsoPayload");

const SpInfo = z.object({ assertionConsumerServiceURL: z.string(), assertionMethod: z.string() });
const SamlSsoAnswer = z.object({ SAMLResponse: z.string(), relayState: z.string().optional(), sp: SpInfo }).openapi("SamlSsoAnswer");

const IdpInitPayload = z
  .object({
    serviceProviderId: z.string().min(1).max(64),
    idpInitConfig: z.object({ relayState: z.string().max(1024).optional() }).optional(),
    userSession: UserSession,
  })
  .openapi("SamlIdpInitPayload");

const MetadataPayload = z.object({ ssoUrl: z.string().min(1).max(2048), sloUrl: z.string().min(1).max(2048) }).openapi("IdpMetadataPayload");

export const samlSsoRoute = authnRoute({
  operationId: "samlSso",
  tag: "Authenticate",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/saml/sso",
  summary: "Authenticate users for Service Provider by SAML SSO mechanism",
  description:
    "Answers the SP's AuthnRequest for the user the service authenticated: the SP is found by the request's Issuer (its saml_config.entityId), its signature is checked (required when authRequestSignRequired), IssueInstant must be within 5 minutes, a requested ACS URL must be the registered one, and each request ID is answered once. SAMLResponse is base64 of the signed Response; the service POSTs it (with RelayState) to sp.assertionConsumerServiceURL. 420 is never answered: saml_config has nothing that needs the user's consent (docs/api/authn.md).",
  levels: SYSTEM_SERVICE,
  community: true,
  params: TenantCommunityParams,
  payload: SamlSsoPayload,
  answer: SamlSsoAnswer,
});
(samlSsoRoute.responses as Record<string, unknown>)[420] = errorResponse("Consent required (declared by the document; not answered by this deployment)");

export const samlIdpInitRoute = authnRoute({
  operationId: "samlIdpInit",
  tag: "Authenticate",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/saml/idp-init",
  summary: "IDP-Initiated SAML SSO",
  description:
    "An unsolicited Response (no InResponseTo) for the user the service authenticated, to a SAML service provider of this community whose saml_config.idpInitiated is true; 404 for any other id.",
  levels: SYSTEM_SERVICE,
  community: true,
  params: TenantCommunityParams,
  payload: IdpInitPayload,
  answer: SamlSsoAnswer,
});

export const idpMetadataRoute = authnRoute({
  operationId: "idpMetadata",
  tag: "IdP Config",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/idp/{idpIdentifier}/metadata",
  summary: "Get IDP saml metadata",
  description:
    "The community's SAML IdP metadata (EntityDescriptor XML, signed with its signing key) from its idp_config; idpIdentifier is the idp_config's identifier (404 otherwise). The answer's data is the XML as a string.",
  levels: SYSTEM_SERVICE,
  community: true,
  params: TenantCommunityParams.extend({
    idpIdentifier: z.string().max(128).openapi({ param: { name: "idpIdentifier", in: "path" }, description: "Unique identifier of idp" }),
  }),
  payload: MetadataPayload,
  answer: z.string().openapi({ description: "The metadata XML" }),
});

type Session = z.infer<typeof UserSession>;

/** RFC 8176 methods for what the service says it did (as oidc/sso): aal 2 or more is two factors. */
function methodsOf(aal: Session["aal"]): string[] {
  const level = typeof aal === "number" ? aal : Number(String(aal ?? "").replace(/^aal/i, ""));
  return Number.isFinite(level) && level >= 2 ? ["mfa"] : ["pwd"];
}

/**
 * The user (core refuses unknown, disabled and foreign users with one not_found) and how to
 * start the SSO session of this sign-in (its sid is the assertion's SessionIndex, which SAML
 * logout names).
 */
async function signedIn(svc: Services, scope: Scope, session: Session) {
  const user = await svc.users.byUid(scope.tenant.id, session.user.uid);
  const amr = methodsOf(session.aal);
  // Started only once core has accepted the request (core/saml-idp/sso.ts Lazy).
  const signIn = async () => {
    const { session: sso } = await startSsoSession(svc, scope, user!, { authTime: Math.floor(Date.now() / 1000), amr });
    return { sid: sso.sid, authTime: sso.authTime, amr, acr: acrOf(amr) };
  };
  return { user, signIn };
}

/** The community's signing credential (created on first use: so only called once a request is accepted). */
function signer(svc: Services, scope: Scope, c: Parameters<typeof requestAddress>[0]): () => Promise<IdpSigner> {
  const address = requestAddress(c);
  return async () => {
    const cred = await samlSigningCredential(svc, scope, address);
    return { key: cred.key, alg: cred.alg, certB64: cred.certB64, entityId: cred.entityId };
  };
}

const answerOf = (o: { SAMLResponse: string; relayState?: string; sp: { assertionConsumerServiceURL: string; assertionMethod: string } }) => ({
  SAMLResponse: o.SAMLResponse,
  ...(o.relayState !== undefined ? { relayState: o.relayState } : {}),
  sp: o.sp,
});

export function registerSamlSsoRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(samlSsoRoute, async (c) => {
    const p = authnPayload(c, SamlSsoPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const sp = p.SAMLPayload;
    let decoded: Awaited<ReturnType<typeof decodeAnyRequest>>;
    let request: ReturnType<typeof parseAuthnRequest>;
    try {
      decoded = await decodeAnyRequest(sp.SAMLRequest);
      request = parseAuthnRequest(decoded.xml);
    } catch (e) {
      if (e instanceof SamlMessageRejected) throw new AuthError("invalid_request", `SAMLPayload.SAMLRequest: ${e.reason}`);
      throw e;
    }
    if ((sp.Signature === undefined) !== (sp.SigAlg === undefined)) throw new AuthError("invalid_request", "SAMLPayload: Signature and SigAlg go together");
    const { user, signIn } = await signedIn(svc, scope, p.userSession);
    const out = await samlSso(svc, scope, {
      request,
      binding: decoded.binding,
      ...(sp.Signature !== undefined ? { redirectSignature: { SAMLRequest: sp.SAMLRequest, ...(sp.RelayState !== undefined ? { RelayState: sp.RelayState } : {}), SigAlg: sp.SigAlg!, Signature: sp.Signature } } : {}),
      ...(sp.RelayState !== undefined ? { relayState: sp.RelayState } : {}),
      user,
      signIn,
      signer: signer(svc, scope, c),
    });
    return authnRespond(c, answerOf(out)) as never;
  });

  app.openapi(samlIdpInitRoute, async (c) => {
    const p = authnPayload(c, IdpInitPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const { user, signIn } = await signedIn(svc, scope, p.userSession);
    const relayState = p.idpInitConfig?.relayState;
    const out = await idpInitiated(svc, scope, {
      serviceProviderId: p.serviceProviderId,
      ...(relayState !== undefined ? { relayState } : {}),
      user,
      signIn,
      signer: signer(svc, scope, c),
    });
    return authnRespond(c, answerOf(out)) as never;
  });

}

/** `.../idp/{idpIdentifier}/metadata` under /authn, its identifier as the first group (percent-encoded). */
const METADATA_PATH = /\/idp\/([^/]+)\/metadata$/;
const IDENTIFIER_MAX = 128;

/** Hono's decoding of a path parameter: percent-decoded, or as sent when that fails. */
function decodedSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * `POST .../idp/{idpIdentifier}/metadata`, registered after every other Authn route (index.ts)
 * and routed through `.../idp/*`.
 *
 * Why not as the document writes it: Hono's RegExpRouter cannot hold a parameter and a static
 * segment at one position for one method (`idp/{idpIdentifier}/metadata` beside `idp/fetch`,
 * both POST), and one such pair sent every request of the Worker to the slower TrieRouter
 * (src/app.ts says what that cost). The document still shows the route as written
 * (`registerPath` with the same definition), and the route answers exactly those paths:
 * anything else under `idp/*` is the Worker's 404, as before. `idp/fetch` is registered
 * earlier, so it answers before this route is reached.
 */
export function registerIdpMetadataRoute(app: OpenAPIHono<AppEnv>): void {
  const { middleware, ...documented } = idpMetadataRoute;
  app.openAPIRegistry.registerPath(documented);
  const onlyMetadata: MiddlewareHandler<AppEnv> = async (c, next) => (METADATA_PATH.test(c.req.path) ? next() : c.notFound());
  const routed = createRoute({
    ...documented,
    path: "/tenant/{tenantId}/community/{communityId}/idp/*",
    hide: true,
    middleware: [onlyMetadata, ...(Array.isArray(middleware) ? middleware : middleware ? [middleware] : [])],
    request: { ...documented.request, params: TenantCommunityParams },
  });
  app.openapi(routed, async (c) => {
    const p = authnPayload(c, MetadataPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const idpIdentifier = decodedSegment(METADATA_PATH.exec(c.req.path)?.[1] ?? "");
    // The document's bound on the parameter (idpMetadataRoute's params), checked as its validator did: after the guard.
    if (idpIdentifier.length > IDENTIFIER_MAX) throw new AuthError("invalid_request", `idpIdentifier: at most ${IDENTIFIER_MAX} characters`);
    const xml = await idpMetadata(svc, scope, idpIdentifier, { ssoUrl: p.ssoUrl, sloUrl: p.sloUrl }, signer(svc, scope, c));
    return authnRespond(c, xml) as never;
  });
}

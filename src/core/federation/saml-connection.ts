import { importCertificateKey } from "../../crypto/x509";
import { decodeSamlMessage, readSamlResponse, SamlRejected } from "../../protocols/saml/response-reader";
import { childElements, NS, optionalChild, parseXml, textOf, XmlRejected } from "../../protocols/saml/xml";
import type { SsoConnection } from "../../storage/ports";
import type { ExternalIdpRecord } from "../../storage/ports-idp";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { consumeAuthnRequest, newRelayState, type RememberedAuthnRequest } from "../external-idps/requests";
import { startExternalLogin } from "../external-idps/start-login";
import type { ExternalIdpBody } from "../external-idps/validate";
import { federatedIdentity } from "../saml-sp/acs";
import { finishSsoLogin, ssoErrorRedirect, type SsoReturn } from "./sso-login";

/**
 * Sentinel SSO over SAML (seed 000 `POST /sso/initiate`, the PROTOCOLS seam of sso.ts).
 *
 * A `saml` connection does not repeat the IdP's configuration: its `issuer` is the entityID of
 * an external IdP of the connection's organisation (the Authn `external_idp` routes hold the
 * IdP's SSO URL, signing certificate and our SP entityID). One place to configure and rotate
 * the IdP's certificate, and the same strict AuthnRequest/Response code as every other SP flow.
 *
 * Initiate: an AuthnRequest to that IdP (HTTP-Redirect binding only: `authorizationUrl` is a
 * URL), remembered with the connection and the app's return (requests.ts). ACS
 * (`POST /v1.0/auth/sso/saml/acs`): the Response must answer that request (consumed once),
 * signed by the IdP's pinned key; then finishSsoLogin, as the OIDC callback does.
 */

export const SAML_ACS_PATH = "/v1.0/auth/sso/saml/acs";

async function idpOf(svc: Services, c: SsoConnection): Promise<ExternalIdpRecord> {
  const idp = await svc.identity.externalIdps.findByEntityId(c.tenantId, c.communityId, c.issuer);
  if (!idp) throw new AuthError("not_configured", "the connection's SAML identity provider is not configured");
  return idp;
}

export async function initiateSaml(
  svc: Services,
  _scope: Scope,
  c: SsoConnection,
  input: { email: string; callbackUrl: string } & SsoReturn,
): Promise<{ authorizationUrl: string }> {
  const idp = await idpOf(svc, c);
  if ((idp.body as unknown as ExternalIdpBody).connection.ssoBinding !== "HTTP-Redirect") {
    throw new AuthError("not_configured", "SAML SSO connections need an IdP on the HTTP-Redirect binding");
  }
  const acsUrl = `${new URL(input.callbackUrl).origin}${SAML_ACS_PATH}`;
  const relay: Record<string, string> = { connectionId: c.id, appRedirectUri: input.appRedirectUri };
  if (input.appState !== undefined) relay.appState = input.appState;
  const started = await startExternalLogin(svc, c.tenantId, idp, { acsUrl, relayState: newRelayState(), relay });
  return { authorizationUrl: started.url };
}

/** The Issuer the UNVERIFIED Response names (the Assertion's, else the Response's): only to pick the pinned key. */
function claimedIssuer(samlResponse: string): string | null {
  try {
    const root = parseXml(decodeSamlMessage(samlResponse)).documentElement;
    const assertion = childElements(root, NS.saml, "Assertion")[0];
    const el = (assertion && optionalChild(assertion, NS.saml, "Issuer")) ?? optionalChild(root, NS.saml, "Issuer");
    const issuer = el ? textOf(el).trim() : "";
    return issuer && issuer.length <= 1024 ? issuer : null;
  } catch (e) {
    if (e instanceof SamlRejected || e instanceof XmlRejected) return null;
    throw e;
  }
}

/**
 * The ACS. Every refusal before the request is known is `invalid_grant` (the surface's 400);
 * nothing says which check failed. The connection is the enabled `saml` one whose issuer the
 * Response claims; the remembered request must name that connection, so a Response cannot
 * sign in through another connection of the same IdP.
 */
export async function completeSamlSso(svc: Services, scope: Scope, input: { SAMLResponse: string }, ctx: { acsUrl: string; now?: number }): Promise<{ redirect: string }> {
  const refused = () => new AuthError("invalid_grant", "the SAML response was not accepted");
  const issuer = claimedIssuer(input.SAMLResponse);
  if (!issuer) throw refused();
  const candidates = (await svc.ssoConnections.list(scope.tenant.id)).filter((c) => c.type === "saml" && c.enabled && c.issuer === issuer);
  if (candidates.length === 0) throw refused();
  let request: RememberedAuthnRequest | null = null;
  let connection: SsoConnection | null = null;
  let identity;
  // In practice one candidate; several connections may share an IdP (different domains or
  // organisations): the one the request names wins, and only its IdP's key is trusted.
  for (const c of candidates) {
    const idp = await svc.identity.externalIdps.findByEntityId(c.tenantId, c.communityId, c.issuer);
    if (!idp) continue;
    const conn = (idp.body as unknown as ExternalIdpBody).connection;
    let key: CryptoKey;
    try {
      key = await importCertificateKey(conn.idpSigningCertificate);
    } catch {
      continue;
    }
    try {
      identity = await readSamlResponse(input.SAMLResponse, {
        idpEntityId: idp.idpEntityId,
        spEntityId: conn.spEntityId,
        acsUrl: ctx.acsUrl,
        keys: [key],
        now: ctx.now ?? Date.now(),
        requireSignedAssertion: true,
        inResponseTo: async (id) => {
          if (id === null) return false;
          const r = await consumeAuthnRequest(svc, scope.tenant.id, c.communityId, id);
          if (!r || r.idpId !== idp.id || r.acsUrl !== ctx.acsUrl || r.relay?.connectionId !== c.id) return false;
          request = r;
          return true;
        },
      });
      connection = c;
      break;
    } catch (e) {
      if (e instanceof SamlRejected) continue;
      throw e;
    }
  }
  const relay = (request as RememberedAuthnRequest | null)?.relay;
  if (!connection || !identity || !relay?.appRedirectUri) throw refused();
  const ret: SsoReturn = { appRedirectUri: relay.appRedirectUri, ...(relay.appState !== undefined ? { appState: relay.appState } : {}) };
  // The connection may have dropped the app's redirect URI since initiation.
  if (!connection.redirectUris.includes(ret.appRedirectUri)) throw refused();
  const federated = federatedIdentity(identity);
  // A connection speaks only for its own domains (as the OIDC callback): an IdP cannot sign in users of another one.
  const domain = federated.email?.toLowerCase().split("@")[1] ?? "";
  if (!federated.email || !connection.domains.includes(domain)) return { redirect: ssoErrorRedirect(ret, "access_denied", "the identity's email is not in the connection's domains") };
  try {
    return { redirect: (await finishSsoLogin(svc, scope, connection, federated, ret)).redirect };
  } catch (e) {
    if (e instanceof AuthError && e.code !== "not_configured") return { redirect: ssoErrorRedirect(ret, "access_denied", e.message) };
    throw e;
  }
}

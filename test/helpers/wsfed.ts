import { samlSigningCredential } from "../../src/core/saml-idp/credential";
import { importCertificateKey } from "../../src/crypto/x509";
import { scopeOf } from "./consents";
import { authnCall, type AuthnCaller } from "./authn-caller";
import { saml, type Sp } from "./service-providers";
import { services, type TestTenant } from "./tenant";

/**
 * Fixtures of the WS-Federation tests (src/api/authn/wsfed-sso*.test.ts, src/web/wsfed*.test.ts):
 * the community's signing key (its public half, to verify tokens with) and
 * a relying party (a saml service provider with saml_config.wsfed enabled).
 */
/**
 * The community's signing key, public half (core/saml-idp/credential.ts generates and stores the
 * credential on first use, as a request would): what a relying party pins from our metadata.
 */
export async function communitySigningKey(t: TestTenant): Promise<CryptoKey> {
  const c = await samlSigningCredential(services(), scopeOf(t), { hostname: t.host, protocol: "https:", port: "" });
  return importCertificateKey(c.certPem, c.alg);
}

export const RP_REPLY = "https://rp.example.test/_trust/";

export async function registerRelyingParty(caller: AuthnCaller, t: TestTenant, realm: string, wsfed: Record<string, unknown> | null = { enabled: true }, extra: Record<string, unknown> = {}): Promise<Sp> {
  const body = saml(realm, {
    assertionConsumerServiceURL: RP_REPLY,
    authRequestSignRequired: false,
    nameid: { format: "emailAddress", value: "email", attribute_type: "identity" },
    attributes: [
      { claim_name: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", attribute_name: "username", attribute_type: "identity", value_type: "dynamic" },
      { claim_name: "role", attribute_type: "identity", value_type: "static", value: "member" },
    ],
    ...(wsfed ? { wsfed } : {}),
    ...extra,
  });
  const r = await authnCall<Sp>(caller, "PUT", `/tenant/${t.tenant.id}/community/${t.community.id}/serviceprovider`, body);
  if (r.status !== 200) throw new Error(`serviceprovider: ${r.status} ${JSON.stringify(r.body)}`);
  return r.data;
}

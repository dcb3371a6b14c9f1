import { toBase64 } from "../../src/crypto/encoding";
import { authnCall, type AuthnCaller } from "./authn-caller";
import { CERT, saml, type Sp } from "./service-providers";
import type { TestTenant } from "./tenant";

/**
 * Fixtures of the WS-Federation tests (src/api/authn/wsfed-sso*.test.ts, src/web/wsfed*.test.ts):
 * a community signing key in idp_config (its public half returned to verify tokens with) and
 * a relying party (a saml service provider with saml_config.wsfed enabled).
 */
export async function communitySigningKey(caller: AuthnCaller, t: TestTenant, entityId = `https://${t.host}/saml/${t.community.id}`): Promise<CryptoKey> {
  const kp = (await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const pkcs8 = new Uint8Array((await crypto.subtle.exportKey("pkcs8", kp.privateKey)) as ArrayBuffer);
  const pem = `-----BEGIN PRIVATE KEY-----\n${toBase64(pkcs8).replace(/(.{64})/g, "$1\n")}\n-----END PRIVATE KEY-----`;
  const r = await authnCall(caller, "PUT", `/tenant/${t.tenant.id}/community/${t.community.id}/idp_config`, {
    entityId,
    signingCert: CERT,
    signingKey: pem,
    encryptionKey: pem,
    encryptionCert: CERT,
    authnRequestsSigned: false,
    sso_bindings: ["urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"],
    slo_bindings: ["urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"],
  });
  if (r.status !== 200) throw new Error(`idp_config: ${r.status} ${JSON.stringify(r.body)}`);
  return kp.publicKey;
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

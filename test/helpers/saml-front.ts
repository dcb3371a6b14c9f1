import { randomBytes } from "../../src/crypto/random";
import { selfSignedCertificate } from "../../src/crypto/x509";
import { startSsoSession } from "../../src/core/oidc-provider/sso-session";
import type { Scope } from "../../src/core/context";
import { SSO_COOKIE } from "../../src/web/cookies";
import type { Browser } from "./hosted-login";
import { services, type TestTenant } from "./tenant";

/** Helpers for the SAML front channel's tests: SAML SPs straight in storage, SP keys, a signed-in browser. */

const hex24 = () => Array.from(randomBytes(12), (b) => b.toString(16).padStart(2, "0")).join("");
let n = 0;

export interface SpKeys {
  keyPair: CryptoKeyPair;
  certPem: string;
}

export async function spKeys(): Promise<SpKeys> {
  const keyPair = (await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1) }, true, ["sign", "verify"])) as CryptoKeyPair;
  const { pem } = await selfSignedCertificate({ keyPair, alg: "RSA-SHA256", commonName: "test sp", days: 30 });
  return { keyPair, certPem: pem };
}

export const spMetadata = (entityId: string, slo: string | null, binding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST") =>
  `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${entityId}"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
  (slo ? `<md:SingleLogoutService Binding="${binding}" Location="${slo}"/>` : "") +
  `<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example/acs" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>`;

export async function registerSamlSp(
  t: TestTenant,
  config: Record<string, unknown> & { entityId?: string; assertionConsumerServiceURL?: string },
  opts: { name?: string; communityId?: string; tenantId?: string } = {},
): Promise<{ id: string; entityId: string; acsUrl: string }> {
  const id = hex24();
  const entityId = config.entityId ?? `https://sp${n++}-${Date.now().toString(36)}.example/metadata`;
  const acsUrl = config.assertionConsumerServiceURL ?? "https://sp.example/acs";
  const now = Date.now();
  await services().identity.serviceProviders.create({
    id,
    tenantId: opts.tenantId ?? t.tenant.id,
    communityId: opts.communityId ?? t.community.id,
    type: "saml",
    featured: null,
    name: opts.name ?? "SAML App",
    clientId: null,
    entityId,
    secretHash: null,
    sealedSecrets: null,
    body: { saml_config: { _id: hex24(), assertionMethod: "post", ...config, entityId, assertionConsumerServiceURL: acsUrl } },
    version: 1,
    createdAt: now,
    updatedAt: now,
  });
  return { id, entityId, acsUrl };
}

export function scopeOf(t: TestTenant): Scope {
  return { tenant: t.tenant, community: t.community, settings: t.tenant.settings ?? {}, ip: "203.0.113.9", userAgent: null } as Scope;
}

/** Signs Alice in: an SSO session whose cookie the browser now holds. */
export async function signIn(t: TestTenant, b: Browser) {
  const started = await startSsoSession(services(), scopeOf(t), t.alice, { authTime: Math.floor(Date.now() / 1000), amr: ["pwd"] });
  b.cookies.set(SSO_COOKIE, started.cookie);
  return started;
}

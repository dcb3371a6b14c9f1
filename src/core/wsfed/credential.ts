import { fromBase64 } from "../../crypto/encoding";
import { idpPrivateKeys } from "../authn/idp-config";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import type { SignatureAlg } from "../../protocols/saml/xmldsig";

/**
 * The key WS-Fed tokens are signed with. Interim: the community's idp_config signing key
 * (seed 004 `PUT .../idp_config`), until core/saml-idp/credential.ts (`samlSigningCredential`,
 * which also generates one on first use) is on main; then this module is that call.
 */
export interface SigningCredential {
  key: CryptoKey;
  alg: SignatureAlg;
  certB64?: string;
  entityId: string;
}

function derOf(pem: string, label: string): Uint8Array | null {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  const b64 = (m ? m[1]! : pem).replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) return null;
  try {
    return fromBase64(b64);
  } catch {
    return null;
  }
}

async function importSigningKey(pem: string): Promise<{ key: CryptoKey; alg: SignatureAlg } | null> {
  const der = derOf(pem, "PRIVATE KEY");
  if (!der) return null;
  try {
    return { key: await crypto.subtle.importKey("pkcs8", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]), alg: "RSA-SHA256" };
  } catch {
    try {
      return { key: await crypto.subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]), alg: "ECDSA-SHA256" };
    } catch {
      return null;
    }
  }
}

export async function wsfedSigningCredential(svc: Services, scope: Scope): Promise<SigningCredential> {
  const store = svc.authnConfig.idpConfigs;
  const [config, keys] = await Promise.all([store.get(scope.tenant.id, scope.community.id), idpPrivateKeys(svc, store, scope)]);
  const imported = config && keys?.signingKey ? await importSigningKey(keys.signingKey) : null;
  if (!config || !imported) throw new AuthError("not_configured", "this community has no SAML signing key (idp_config)");
  const cert = derOf(config.signingCert, "CERTIFICATE") ? config.signingCert.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "") : undefined;
  return { ...imported, ...(cert ? { certB64: cert } : {}), entityId: config.entityId };
}

import type { Env } from "../env";
import { loadConfig } from "../env";
import { EnvelopeKeyring } from "../crypto/envelope-keys";
import { LicenseResolver } from "../core/licenses/licenses";
import { D1LicenseStore } from "../storage/d1/license-store";
import { D1SigningKeyStore } from "../storage/d1/signing-key-store";
import type { LicenseStore } from "../storage/ports-licenses";

/**
 * The Authn surface's per-isolate machinery, built once per Env: the service envelope key
 * pair with its shared-key LRU, and the license store with its short cache.
 */
export interface AuthnPlatform {
  keyring: EnvelopeKeyring;
  licenses: LicenseStore;
  resolver: LicenseResolver;
}

const platforms = new WeakMap<Env, AuthnPlatform>();

export function authnPlatform(env: Env): AuthnPlatform {
  let p = platforms.get(env);
  if (!p) {
    const config = loadConfig(env);
    const licenses = D1LicenseStore(env.DB);
    p = {
      keyring: new EnvelopeKeyring(D1SigningKeyStore(env.DB), config.keyEncryptionSecret, config.ecCurve),
      licenses,
      resolver: new LicenseResolver(licenses, env.BOOTSTRAP_SYSTEM_LICENSE ?? null),
    };
    platforms.set(env, p);
  }
  return p;
}

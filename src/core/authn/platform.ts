import type { EnvelopeKeyring } from "../../crypto/envelope-keys";
import type { LicenseStore } from "../../storage/ports-licenses";
import type { LicenseResolver } from "../licenses/licenses";

/**
 * The Authn surface's per-isolate machinery (Services.authn): the service's envelope key pair
 * with its shared-key LRU, and the license store with the resolver's short cache. Built once
 * per Env by the composition root (http/services.ts), like every other service.
 */
export interface AuthnPlatform {
  keyring: EnvelopeKeyring;
  licenses: LicenseStore;
  resolver: LicenseResolver;
}

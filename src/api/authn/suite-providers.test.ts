/**
 * Runs these src/api/authn specs (`*.spec.ts` beside this file) in one Workers-pool runtime:
 * the pool starts a runtime per test FILE, which costs seconds of CPU (vitest.config.ts).
 */
import "./manage-settings.spec";
import "./open.spec";
import "./schemes.spec";
import "./service-providers.spec";
import "./service-providers-featured.spec";
import "./service-providers.security.spec";
import "./spcatalog.spec";
import "./user-consent.spec";
import "./user-object.spec";

/**
 * Runs these src/api/authn specs (`*.spec.ts` beside this file) in one Workers-pool runtime:
 * the pool starts a runtime per test FILE, which costs seconds of CPU (vitest.config.ts).
 */
import "./oidc-sso.spec";
import "./saml-request-generate.spec";
import "./saml-sso.spec";
import "./wsfed-sso.spec";

/**
 * Runs the src/core/oidc-provider specs (`*.spec.ts` beside this file) in one Workers-pool runtime: the pool
 * starts a runtime per test FILE, which costs seconds of CPU, so small related files share one
 * (docs/architecture.md "Tests"). Each spec still sits beside the code it tests.
 */
import "./authorize.spec";
import "./claims.spec";
import "./sso-session.spec";

/**
 * Runs the src/api/oidc specs (`*.spec.ts` beside this file) in one Workers-pool runtime: the pool
 * starts a runtime per test FILE, which costs seconds of CPU, so small related files share one
 * (docs/architecture.md "Tests"). Each spec still sits beside the code it tests.
 */
import "./provider.spec";
import "./token.security.spec";
import "./token.spec";

/**
 * Runs the src/protocols/oidc specs (`*.spec.ts` beside this file) in one Workers-pool runtime: the pool
 * starts a runtime per test FILE, which costs seconds of CPU, so small related files share one
 * (docs/architecture.md "Tests"). Each spec still sits beside the code it tests.
 */
import "./authorization-request.spec";
import "./discovery.spec";
import "./pkce.spec";
import "./redirect-uri.spec";

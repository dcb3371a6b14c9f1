/**
 * Runs the src/api/croit specs (`*.spec.ts` beside this file) in one Workers-pool runtime: the pool
 * starts a runtime per test FILE, which costs seconds of CPU, so small related files share one
 * (docs/architecture.md "Tests"). Each spec still sits beside the code it tests.
 */
import "./croit.security.spec";
import "./croit.spec";
import "./okta.security.spec";
import "./okta.spec";

/**
 * Runs the src/http specs (`*.spec.ts` beside this file) in one Workers-pool runtime: the pool
 * starts a runtime per test FILE, which costs seconds of CPU, so small related files share one
 * (docs/architecture.md "Tests"). Each spec still sits beside the code it tests.
 */
import "./authn-guard.p256.spec";
import "./authn-guard.security.spec";
import "./authn-guard.spec";
import "./basic-auth.spec";
import "./cors.spec";
import "./openapi.spec";
import "./routing.spec";
import "./security-headers.spec";
import "./tenant.spec";

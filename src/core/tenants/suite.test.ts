/**
 * Runs the src/core/tenants specs (`*.spec.ts` beside this file) in one Workers-pool runtime: the pool
 * starts a runtime per test FILE, which costs seconds of CPU, so small related files share one
 * (docs/architecture.md "Tests"). Each spec still sits beside the code it tests.
 */
import "./custom-hostnames.spec";
import "./hosted-login-settings.spec";
import "./manage-settings.spec";
import "./provision.spec";
import "./public-origin.spec";
import "./settings.spec";

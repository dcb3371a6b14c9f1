/**
 * Runs the src/api/cloudcheckr specs (`*.spec.ts` beside this file) in one Workers-pool runtime: the pool
 * starts a runtime per test FILE, which costs seconds of CPU, so small related files share one
 * (docs/architecture.md "Tests"). Each spec still sits beside the code it tests.
 */
import "./cloudcheckr.security.spec";
import "./cloudcheckr.spec";
import "./error-order.security.spec";
import "./reset.spec";
import "./saml-acs.spec";
import "./saml.spec";

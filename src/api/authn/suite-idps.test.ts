/**
 * Runs these src/api/authn specs (`*.spec.ts` beside this file) in one Workers-pool runtime:
 * the pool starts a runtime per test FILE, which costs seconds of CPU (vitest.config.ts).
 */
import "./body-forms.spec";
import "./external-idps.spec";
import "./external-idps.security.spec";
import "./idp-config.spec";
import "./idps.spec";
import "./idps-saml.spec";
import "./idps.security.spec";
import "./manage.spec";

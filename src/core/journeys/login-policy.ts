import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { factorsFromAmr } from "./factors";
import type { Facts, PolicyOutcome } from "./model";
import { evaluatePolicy } from "./policy";

/**
 * Every login asks the policy (issue 10, "Every login asks the policy"): the Authn
 * authenticate endpoints and the hosted login call this once the credentials are right, and
 * again after each further factor.
 *
 * The facts are only what the request really has, never what a caller asserts about the
 * user or the network (docs/api/authn.md "Which facts each login supplies"):
 *  - usernames and groups come from the stored user;
 *  - ip is `scope.ip`: CF-Connecting-IP, or on the Authn surface the X-Forwarded-For entry
 *    that the guard believes from system/service/service_ext licenses only (DESIGN.md "Known
 *    traps"; http/authn-guard.ts sets the Authn scope's ip to exactly that);
 *  - the application is the caller's: the Authn requestid's `appid`, the OIDC client_id, the
 *    SAML SP's entityID or the WS-Fed realm. It fills `applications` (v1) and the v2
 *    `requestingAppId` and `relyingAppId` (this service has no separate requesting app);
 *  - device facts (deviceIds, domain, machine*, mobileLocation) only where a client sends
 *    them: they are the client's assertions, so a journey can be steered by them only in the
 *    direction the client wants (documented in docs/security.md). Anything else in `device`
 *    is dropped here, so a surface cannot pass user or network facts through it by mistake.
 */
export interface LoginPolicyQuery {
  user: User;
  /** What was really done in this login so far (RFC 8176 values, e.g. ["pwd", "otp"]). */
  amr: readonly string[];
  /** The application the login is for; absent or empty = unknown (in no set). */
  application?: string;
  /** Client-sent device facts; only the device fields are read. */
  device?: Partial<Facts>;
}

/** The Facts fields a client may supply about its device. */
export const DEVICE_FACT_FIELDS = ["deviceIds", "domain", "machineNames", "machineIds", "machineUsers", "mobileLocation"] as const;

/** The facts of a login (pure; exported for the tests and the docs' table). */
export function loginFacts(scope: Pick<Scope, "ip">, q: Omit<LoginPolicyQuery, "amr">): Facts {
  const facts: Facts = {
    usernames: [q.user.username],
    groups: [...(q.user.groups ?? [])],
  };
  if (scope.ip) facts.ip = scope.ip;
  if (q.application) {
    facts.applications = [q.application];
    facts.requestingAppId = [q.application];
    facts.relyingAppId = [q.application];
  }
  const d = q.device ?? {};
  for (const k of DEVICE_FACT_FIELDS) {
    const v = d[k];
    if (v === undefined) continue;
    if (k === "mobileLocation") {
      if (typeof v === "number" && Number.isFinite(v)) facts.mobileLocation = v;
    } else if (Array.isArray(v) && v.length > 0) {
      facts[k] = v.filter((x): x is string => typeof x === "string");
    }
  }
  return facts;
}

/**
 * What the policy says about this login: v1 and v2 journeys together, the fallback policy
 * enforced (core/journeys/policy.ts `evaluatePolicy`; precedence in docs/api/authn.md). A
 * community without journeys gets the default, grant_access with ["password"], which every
 * login that got this far satisfies, so it behaves exactly as before journeys existed.
 */
export async function decideLogin(svc: Services, scope: Scope, q: LoginPolicyQuery): Promise<PolicyOutcome> {
  return evaluatePolicy(svc, scope, {
    facts: loginFacts(scope, q),
    done: factorsFromAmr(q.amr),
    versions: [1, 2],
    enforceFallback: true,
  });
}

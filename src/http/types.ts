import type { Env } from "../env";
import type { Scope, Services } from "../core/context";

/** Hono environment shared by every surface: bindings plus per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    services: Services;
    /** Set by the tenant middleware on routes that need a tenant. */
    scope: Scope;
    /** Set by the Authn guard (http/authn-guard.ts) on licensed Authn routes. */
    authn: import("./authn-guard").AuthnContext;
    /** Set by api/oidc `providerScope` on `/oidc/:communityId/*`: the community's issuer URL. */
    oidcIssuer: string;
  };
}

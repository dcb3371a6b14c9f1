import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./types";

/** The environment of a handler behind `authenticated()`: AppEnv plus the caller's credential. */
export interface AuthedEnv<C> {
  Bindings: AppEnv["Bindings"];
  Variables: AppEnv["Variables"] & { claims: C };
}

/** A refusal that depends only on the credential (a missing role, the wrong kind of token). */
export type CredentialCheck<C> = (claims: C) => void;

/**
 * Route middleware that authenticates the caller, then applies the route's credential checks,
 * and only then lets the request reach the route's validators.
 *
 * Why a route option: @hono/zod-openapi runs a route's `middleware` before its query, param,
 * media-type and body validators (`app.on(method, path, ...middleware, ...validators, handler)`).
 * So a protected route declared with `middleware: authenticated(...)` answers in the order a
 * client can act on: 401 without a valid credential, 403 without the role, and only then 400
 * or 415 for the body. Validating first would answer an anonymous caller with the schema's
 * complaints about a body it was never allowed to send (RFC 9110 §15.5.2, §15.5.4).
 *
 * `verify` throws the core error for a missing or bad credential; each check throws
 * `forbidden`. The handler reads the credential with `c.get("claims")`.
 */
export function authenticated<C>(verify: (c: Context<AppEnv>) => Promise<C>, ...checks: CredentialCheck<C>[]): MiddlewareHandler<AuthedEnv<C>> {
  return async (c, next) => {
    const claims = await verify(c as unknown as Context<AppEnv>);
    for (const check of checks) check(claims);
    c.set("claims", claims);
    await next();
  };
}

import type { Context } from "hono";
import { AuthError } from "../../core/errors";
import { parseBasicAuth } from "../../http/basic-auth";
import type { ClientCredentials } from "../../core/oidc-provider/client-auth";
import type { AppEnv } from "../../http/types";

/**
 * The form body of the token, revocation and introspection endpoints (RFC 6749 §3.2: POST,
 * application/x-www-form-urlencoded). JSON or any other type is invalid_request in the OAuth
 * shape; a parameter sent twice is invalid_request (§3.1: "MUST NOT be included more than
 * once"); an empty one is as if omitted (§3.1).
 */
export interface Form {
  /** The parameter's value, or null when absent or empty. */
  get(name: string): string | null;
}

export async function readForm(c: Context<AppEnv>): Promise<Form> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") throw new AuthError("invalid_request", "the body must be application/x-www-form-urlencoded");
  const text = await c.req.text();
  const params = new URLSearchParams(text);
  const seen = new Set<string>();
  for (const k of params.keys()) {
    if (seen.has(k)) throw new AuthError("invalid_request", `parameter ${k.slice(0, 64)} is repeated`);
    seen.add(k);
  }
  return {
    get(name) {
      const v = params.get(name);
      return v === null || v === "" ? null : v;
    },
  };
}

/** The client's credentials as the request carries them (client-auth.ts decides). */
export function clientCredentialsOf(c: Context<AppEnv>, form: Form): ClientCredentials {
  return {
    basic: parseBasicAuth(c.req.header("authorization")),
    clientId: form.get("client_id"),
    clientSecret: form.get("client_secret"),
    clientAssertionType: form.get("client_assertion_type"),
    clientAssertion: form.get("client_assertion"),
  };
}

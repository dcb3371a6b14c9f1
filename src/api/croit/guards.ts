import type { Context } from "hono";
import { authenticateClient } from "../../core/clients/client-credentials";
import { AuthError } from "../../core/errors";
import { parseBasicAuth } from "../../http/basic-auth";
import { authenticated } from "../../http/route-auth";
import type { AppEnv } from "../../http/types";

/**
 * croit's client authentication as route middleware (http/route-auth.ts): HTTP Basic
 * (RFC 6749 §2.3.1, RFC 7617) is checked before the form is validated, so a caller without
 * valid client credentials gets 401 invalid_client whatever it sends, and only an
 * authenticated client learns what is wrong with its form.
 */
async function verifyClient(c: Context<AppEnv>) {
  const creds = parseBasicAuth(c.req.header("authorization"));
  if (!creds) throw new AuthError("invalid_client", "client authentication required (HTTP Basic)");
  return authenticateClient(c.get("services"), c.get("scope"), creds.id, creds.secret, "client_credentials");
}

/** A client authenticated with HTTP Basic and allowed the client_credentials grant. */
export const basicClient = authenticated(verifyClient);

import { bodyLimit } from "hono/body-limit";
import type { Scope } from "../../core/context";
import { messagePage, type WebContext } from "../flow";

/** Shared bits of the SAML front channel's routes (src/web/saml/). */

/** SAML Bindings §3.4.3 / §3.5.3: RelayState MUST NOT exceed 80 bytes. */
export const MAX_RELAY_STATE_BYTES = 80;

/** A POSTed SAML message: a signed request with a certificate is a few KiB; B caps base64 at 16 KiB. */
export const MAX_SAML_FORM_BYTES = 64 * 1024;

export const samlBase = (scope: Scope) => `/saml/${encodeURIComponent(scope.community.id)}`;

/**
 * An absolute URL of this community's SAML endpoints, on the tenant's public origin (the same
 * origin as the OIDC issuer, http/oidc-provider.ts), never on an unbound Host header.
 */
export const samlUrl = (p: { scope: Scope; issuer: string }, path: string) => `${new URL(p.issuer).origin}${samlBase(p.scope)}/${path}`;

export const limitSamlForm = bodyLimit({
  maxSize: MAX_SAML_FORM_BYTES,
  onError: (c) => messagePage(c as WebContext, null, 413, "Request too large", "The message sent was too large."),
});

/**
 * The message's parameters: the query (GET, HTTP-Redirect) or the URL-encoded form (POST,
 * HTTP-POST); null when a POST is not a form. A repeated parameter is refused by the caller.
 */
export async function samlParams(c: WebContext): Promise<URLSearchParams | null> {
  if (c.req.method !== "POST") return new URL(c.req.url).searchParams;
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") return null;
  const bytes = await c.req.arrayBuffer();
  if (bytes.byteLength > MAX_SAML_FORM_BYTES) return null;
  return new URLSearchParams(new TextDecoder().decode(bytes));
}

/** The one value of `k`, undefined when absent; null when repeated or too long (a malformed message). */
export function single(params: URLSearchParams, k: string, max: number): string | undefined | null {
  const all = params.getAll(k);
  if (all.length === 0) return undefined;
  if (all.length > 1 || all[0]!.length > max) return null;
  return all[0]!;
}

/** RelayState within the 80 bytes of the bindings, else null (refused: never truncated silently). */
export function relayStateOf(v: string | undefined | null): string | undefined | null {
  if (v === null) return null;
  if (v === undefined || v === "") return undefined;
  return new TextEncoder().encode(v).byteLength <= MAX_RELAY_STATE_BYTES ? v : null;
}

export const badSamlRequest = (c: WebContext, scope: Scope, why: string) => messagePage(c, scope, 400, "Invalid sign-in request", why);

/** The raw query string as it arrived (the Redirect binding signs its octets, not decoded values). */
export function rawQuery(c: WebContext): string {
  const url = c.req.url;
  const q = url.indexOf("?");
  return q < 0 ? "" : url.slice(q + 1).replace(/#.*$/, "");
}

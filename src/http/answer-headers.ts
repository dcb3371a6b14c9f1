import type { Context } from "hono";

/**
 * Sets headers on the answer a handler has already made, in place. For middleware that adds
 * headers after `await next()` (security headers, no-store, the D1 bookmark).
 *
 * Why not `c.header()`: once the handler has answered, Hono's `c.header()` re-creates the
 * Response around the previous one's body stream on every call (hono/dist/context.js,
 * `header`), so a JSON body the runtime could send as one buffer became a stream to pump, once
 * per header set that way: two on every token answer (no-store's), three with the request id
 * header this Worker used to add. Part of the per-request floor docs/benchmarks.md describes.
 *
 * A Response whose headers are immutable (one from fetch() or Response.redirect()) is copied
 * once, through Hono's `c.res` setter, and the headers set on the copy.
 */
export function setAnswerHeaders(c: Context, entries: readonly (readonly [name: string, value: string])[]): void {
  try {
    const h = c.res.headers;
    for (const [name, value] of entries) h.set(name, value);
    return;
  } catch {
    // Immutable headers: the first set threw before changing anything.
  }
  c.res = new Response(c.res.body, c.res);
  const h = c.res.headers;
  for (const [name, value] of entries) h.set(name, value);
}

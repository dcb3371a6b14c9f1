/**
 * The `fetchJson(method, path, body?, headers?)` a scenario's `prepare` gets: a string body is
 * sent as is, any other body as JSON; the answer as `{ status, body }`, a body that is not JSON
 * as `{ raw }`. Shared by the load benchmark (bench/run.mjs) and the CPU profile (bench/cpu-profile.mjs).
 */
export function jsonFetcher(baseUrl) {
  return async (method, path, body, headers = {}) => {
    const h = { ...headers };
    let payload;
    if (typeof body === "string") payload = body;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      h["content-type"] ??= "application/json";
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers: h, ...(payload !== undefined ? { body: payload } : {}) });
    const text = await res.text();
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { raw: text };
    }
    return { status: res.status, body: parsed };
  };
}

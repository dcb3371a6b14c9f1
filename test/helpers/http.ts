import { SELF } from "cloudflare:test";

export interface CallOptions {
  host: string;
  headers?: Record<string, string>;
  ip?: string;
}

/** Sends a request to the Worker under test, as a client at `ip` addressing `host`. */
export async function call(method: string, path: string, body: unknown, opts: CallOptions): Promise<Response> {
  const headers: Record<string, string> = { host: opts.host, "cf-connecting-ip": opts.ip ?? "203.0.113.7", ...(opts.headers ?? {}) };
  let payload: BodyInit | undefined;
  if (typeof body === "string") payload = body;
  else if (body instanceof URLSearchParams) {
    payload = body.toString();
    headers["content-type"] ??= "application/x-www-form-urlencoded";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["content-type"] ??= "application/json";
  }
  return SELF.fetch(`http://${opts.host}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
}

/** Sends and parses JSON; returns status, body and headers. */
export async function callJson<T = Record<string, unknown>>(method: string, path: string, body: unknown, opts: CallOptions) {
  const res = await call(method, path, body, opts);
  const text = await res.text();
  let json: T;
  try {
    json = JSON.parse(text) as T;
  } catch {
    json = { raw: text } as T;
  }
  return { status: res.status, body: json, headers: res.headers };
}

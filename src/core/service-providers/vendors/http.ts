/**
 * Outbound calls to a featured application's vendor API. Every call has a deadline, follows
 * no redirect (a registration must reach the configured domain, not wherever it points), and
 * turns the answer into success, a permanent failure (a 4xx: wrong credentials, refused
 * input: retrying cannot help) or a transient one (network, 5xx, 408, 429: the job is retried).
 * Error messages name the vendor call and the status only: a vendor's error body may echo
 * what was sent, credentials included.
 */
export class VendorError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = "VendorError";
  }
}

const TIMEOUT_MS = 10_000;

export interface VendorAnswer {
  status: number;
  text: string;
  json: Record<string, unknown>;
}

export async function vendorCall(fetcher: typeof fetch, label: string, url: string, init: RequestInit): Promise<VendorAnswer> {
  let res: Response;
  try {
    res = await fetcher(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    throw new VendorError(`${label}: ${e instanceof Error ? e.name : "network error"}`, false);
  }
  const text = await res.text().catch(() => "");
  if (res.status < 200 || res.status >= 300) {
    const transient = res.status >= 500 || res.status === 408 || res.status === 429;
    throw new VendorError(`${label} answered ${res.status}`, !transient);
  }
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (Salesforce's SOAP login answers XML): the caller reads `text`.
  }
  return { status: res.status, text, json };
}

export function jsonInit(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method, headers: { "content-type": "application/json", accept: "application/json", ...headers }, body: JSON.stringify(body) };
}

/** A string field of a vendor's answer, or a permanent failure naming it. */
export function field(a: VendorAnswer, name: string, label: string): string {
  const v = a.json[name];
  if (typeof v !== "string" || !v) throw new VendorError(`${label}: the answer has no ${name}`, true);
  return v;
}

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

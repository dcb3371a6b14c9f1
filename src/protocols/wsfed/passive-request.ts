/**
 * The WS-Federation passive requestor's messages (WS-Federation 1.2 §13.2): the query (or form)
 * parameters a relying party sends the browser with. Pure: what the parameters say, checked for
 * shape and size; whether the realm and reply are registered is core/wsfed's decision.
 */

/** §13.2.1: sign-in; §13.2.4: sign-out, and the clean-up an IdP sends its RPs (treated alike). */
export const WA_SIGNIN = "wsignin1.0";
export const WA_SIGNOUT = "wsignout1.0";
export const WA_SIGNOUT_CLEANUP = "wsignoutcleanup1.0";

/** The realm is an RP's saml_config.entityId, which is at most 1024 characters (SAML Metadata §2.3.2). */
export const MAX_WTREALM = 1024;
/** A URL a browser can follow. */
export const MAX_WREPLY = 2048;
/** wctx is opaque RP state echoed back (§13.2.1); SharePoint puts a URL in it, so room for one. */
export const MAX_WCTX = 4096;
/** wfresh is minutes (§13.2.1); anything past a year is no freshness requirement at all. */
const MAX_WFRESH = 525_600;

export interface SignInRequest {
  wa: typeof WA_SIGNIN;
  wtrealm: string;
  wreply?: string;
  wctx?: string;
  /** Maximum age of the authentication in minutes; 0 asks for a fresh one (§13.2.1). */
  wfresh?: number;
}

export interface SignOutRequest {
  wa: typeof WA_SIGNOUT | typeof WA_SIGNOUT_CLEANUP;
  wtrealm?: string;
  wreply?: string;
}

export type Parsed<T> = { ok: true; request: T } | { ok: false; error: string };

export type PassiveParams = URLSearchParams | Record<string, unknown>;

/** Every parameter as one string; a repeated or non-string parameter is refused. */
function single(params: PassiveParams): Map<string, string> | string {
  const out = new Map<string, string>();
  if (params instanceof URLSearchParams) {
    for (const k of new Set(params.keys())) {
      const all = params.getAll(k);
      if (all.length > 1) return `${k}: repeated`;
      out.set(k, all[0]!);
    }
    return out;
  }
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    if (typeof v !== "string") return `${k}: must be a string`;
    out.set(k, v);
  }
  return out;
}

/** The named parameter, absent when empty; an error string when too long or with control characters. */
function optional(p: Map<string, string>, name: string, max: number): string | undefined | { error: string } {
  const v = p.get(name);
  if (v === undefined || v === "") return undefined;
  if (v.length > max) return { error: `${name}: longer than ${max} characters` };
  // Values end up in XML, a form field and a URL: control characters have no business there.
  if (/[\u0000-\u001f\u007f]/.test(v)) return { error: `${name}: control characters` };
  return v;
}

const isError = (v: unknown): v is { error: string } => typeof v === "object" && v !== null && "error" in v;

/** An absolute http(s) URL without credentials or fragment, or an error. */
function replyUrl(v: string): string | { error: string } {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return { error: "wreply: not an absolute URL" };
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return { error: "wreply: must be http(s)" };
  if (u.username || u.password) return { error: "wreply: must not carry credentials" };
  if (u.hash) return { error: "wreply: must not carry a fragment" };
  return v;
}

/** §13.2.1 wsignin1.0: wtrealm required (we need it to find the RP), wreply/wctx/wfresh optional. */
export function parseSignInRequest(params: PassiveParams): Parsed<SignInRequest> {
  const p = single(params);
  if (typeof p === "string") return { ok: false, error: p };
  const wa = p.get("wa");
  if (wa !== WA_SIGNIN) return { ok: false, error: `wa: must be ${WA_SIGNIN}` };
  const wtrealm = optional(p, "wtrealm", MAX_WTREALM);
  if (isError(wtrealm)) return { ok: false, ...wtrealm };
  if (wtrealm === undefined || /\s/.test(wtrealm)) return { ok: false, error: "wtrealm: required, without spaces" };
  const wreplyRaw = optional(p, "wreply", MAX_WREPLY);
  if (isError(wreplyRaw)) return { ok: false, ...wreplyRaw };
  const wreply = wreplyRaw === undefined ? undefined : replyUrl(wreplyRaw);
  if (isError(wreply)) return { ok: false, ...wreply };
  const wctx = optional(p, "wctx", MAX_WCTX);
  if (isError(wctx)) return { ok: false, ...wctx };
  const wfreshRaw = optional(p, "wfresh", 16);
  if (isError(wfreshRaw)) return { ok: false, ...wfreshRaw };
  let wfresh: number | undefined;
  if (wfreshRaw !== undefined) {
    if (!/^\d+$/.test(wfreshRaw)) return { ok: false, error: "wfresh: a number of minutes" };
    wfresh = Math.min(Number(wfreshRaw), MAX_WFRESH);
  }
  return {
    ok: true,
    request: { wa: WA_SIGNIN, wtrealm, ...(wreply ? { wreply } : {}), ...(wctx ? { wctx } : {}), ...(wfresh !== undefined ? { wfresh } : {}) },
  };
}

/** §13.2.4 wsignout1.0 (and wsignoutcleanup1.0): wreply and wtrealm optional. */
export function parseSignOutRequest(params: PassiveParams): Parsed<SignOutRequest> {
  const p = single(params);
  if (typeof p === "string") return { ok: false, error: p };
  const wa = p.get("wa");
  if (wa !== WA_SIGNOUT && wa !== WA_SIGNOUT_CLEANUP) return { ok: false, error: `wa: must be ${WA_SIGNOUT}` };
  const wtrealm = optional(p, "wtrealm", MAX_WTREALM);
  if (isError(wtrealm)) return { ok: false, ...wtrealm };
  const wreplyRaw = optional(p, "wreply", MAX_WREPLY);
  if (isError(wreplyRaw)) return { ok: false, ...wreplyRaw };
  const wreply = wreplyRaw === undefined ? undefined : replyUrl(wreplyRaw);
  if (isError(wreply)) return { ok: false, ...wreply };
  return { ok: true, request: { wa, ...(wtrealm ? { wtrealm } : {}), ...(wreply ? { wreply } : {}) } };
}

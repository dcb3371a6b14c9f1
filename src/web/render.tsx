/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import type { Child } from "hono/jsx";
import { toBase64Url } from "../crypto/encoding";
import { randomBytes } from "../crypto/random";
import type { Scope } from "../core/context";
import { DEFAULT_PALETTE, hostedLoginSettings } from "../core/tenants/hosted-login-settings";
import type { AppEnv } from "../http/types";
import { Layout, type Brand } from "./pages/layout";

/** The tenant's branding with the default palette where it sets nothing (colours pre-validated). */
export function brandOf(scope: Scope | null): Brand {
  const b = scope ? hostedLoginSettings(scope.settings).branding : {};
  return {
    name: b.displayName ?? scope?.tenant.name ?? "Sign in",
    logoUrl: b.logoUrl ?? null,
    primary: b.primaryColor ?? DEFAULT_PALETTE.primary,
    background: b.backgroundColor ?? DEFAULT_PALETTE.background,
  };
}

/** The CSP source of a URL's origin, for img-src or form-action; null for none. */
export function sourceOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    if (u.protocol === "https:" || u.protocol === "http:") return u.origin;
    // A native app's private-use scheme (RFC 8252 §7.1): the scheme alone.
    return /^[a-z][a-z0-9+.-]*:$/i.test(u.protocol) ? u.protocol : null;
  } catch {
    return null;
  }
}

/**
 * Content-Security-Policy of a page: nothing by default; the page's one <style> by nonce; images
 * only from the tenant's logo origin; forms only to this origin and, since browsers apply
 * form-action to the redirect that answers a form (CSP3 §6.3.2.2), to the client's redirect URI.
 * No script source at all: the pages need none.
 */
export function pageCsp(nonce: string, logoUrl: string | null, formTargets: readonly (string | null)[], opts: { script?: boolean; selfForms?: boolean; connect?: boolean } = {}): string {
  const img = sourceOf(logoUrl);
  const targets = [...new Set(formTargets.map(sourceOf).filter((s): s is string => s !== null))];
  const forms = opts.selfForms === false ? targets : ["'self'", ...targets];
  return [
    "default-src 'none'",
    // Only the auto-post page and the passkey pages have a script (one, by the same per-response nonce).
    ...(opts.script ? [`script-src 'nonce-${nonce}'`] : []),
    // The passkey script fetches its WebAuthn options from this origin (web/passkeys.tsx).
    ...(opts.connect ? ["connect-src 'self'"] : []),
    `style-src 'nonce-${nonce}'`,
    `img-src ${img ?? "'none'"}`,
    `form-action ${forms.length ? forms.join(" ") : "'none'"}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export interface PageOptions {
  status?: number;
  title: string;
  /** Where the page's forms may lead (the client's redirect URI). */
  formTargets?: readonly (string | null)[];
  /** The page carries one script under the response's nonce (the auto-post page, the passkey pages). */
  script?: boolean;
  /** The script may fetch from this origin (connect-src 'self'). */
  connect?: boolean;
  /** false: forms may go only to formTargets, not back to this origin. */
  selfForms?: boolean;
}

/** Renders a page in the tenant's frame, with its CSP and `no-store`. */
export async function page(c: Context<AppEnv>, scope: Scope | null, opts: PageOptions, body: Child | ((nonce: string) => Child)): Promise<Response> {
  const nonce = toBase64Url(randomBytes(16));
  const brand = brandOf(scope);
  const node = (
    <Layout brand={brand} nonce={nonce} title={opts.title}>
      {typeof body === "function" ? body(nonce) : body}
    </Layout>
  );
  const html = `<!DOCTYPE html>${await node.toString()}`;
  c.header("content-security-policy", pageCsp(nonce, brand.logoUrl, opts.formTargets ?? [], { script: opts.script === true, selfForms: opts.selfForms !== false, connect: opts.connect === true }));
  c.header("cache-control", "no-store");
  c.header("pragma", "no-cache");
  return c.html(html, (opts.status ?? 200) as 200);
}

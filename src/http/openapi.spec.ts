import { describe, expect, it } from "vitest";
import { SURFACE_DOCS } from "../api/docs";
import { operationsOf } from "../api/docs/render-page";
import { AUTHN_ENVELOPE, DOCUMENT_LICENSE, SECURITY_SCHEMES } from "./openapi";

/**
 * Issue 7 item 11: every surface's document names its license, declares each security scheme
 * its operations use, says `security: []` on public operations, and gives every operation a
 * unique operationId. (npx redocly lint runs on the served documents in
 * test/e2e/openapi-lint.e2e.ts.)
 */

const find = (surface: string, method: string, path: string) => {
  const doc = SURFACE_DOCS.find((s) => s.id === surface)!.document();
  const hit = operationsOf(doc).find((o) => o.method === method && o.path === path);
  if (!hit) throw new Error(`${surface}: no ${method} ${path}`);
  return hit.op;
};

describe("every surface's OpenAPI document", () => {
  it.each(SURFACE_DOCS.map((s) => [s.id, s] as const))("%s: license, schemes, security on every operation", (_id, s) => {
    const doc = s.document();
    expect(doc.openapi).toBe("3.1.0");
    expect((doc.info as { license?: unknown }).license).toEqual(DOCUMENT_LICENSE);
    expect(doc.servers).toEqual([{ url: s.basePath }]);
    const declared = ((doc.components as { securitySchemes?: Record<string, unknown> }).securitySchemes ?? {}) as Record<string, unknown>;
    for (const [name, scheme] of Object.entries(declared)) expect(scheme).toEqual(SECURITY_SCHEMES[name as keyof typeof SECURITY_SCHEMES]);
    const used = new Set<string>();
    for (const { method, path, op } of operationsOf(doc)) {
      expect(Array.isArray(op.security), `${method} ${path}`).toBe(true);
      for (const req of op.security!) for (const name of Object.keys(req)) used.add(name);
    }
    // Every scheme named is declared, and only those are.
    expect(Object.keys(declared).sort()).toEqual([...used].sort());
  });

  it.each(SURFACE_DOCS.map((s) => [s.id, s] as const))("%s: operationIds", (_id, s) => {
    const ops = operationsOf(s.document());
    const ids = ops.map((o) => o.op.operationId).filter((x): x is string => typeof x === "string");
    expect(new Set(ids).size, "unique").toBe(ids.length);
    for (const { method, path, op } of ops) expect(op.operationId, `${method} ${path}`).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
  });

  it("public operations say security: [], protected ones name their credential", () => {
    expect(find("sentinel", "post", "/token").security).toEqual([]);
    expect(find("sentinel", "post", "/loginAs").security).toEqual([{ bearerAuth: [] }]);
    expect(find("sentinel", "post", "/enrichToken").security).toEqual([{ oktaHookSecret: [] }]);
    expect(find("cloudcheckr", "put", "/state").security).toEqual([{ bearerAuth: [] }]);
    expect(find("cloudcheckr", "get", "/ping").security).toEqual([]);
    expect(find("croit", "post", "/login").security).toEqual([{ basicAuth: [] }]);
    expect(find("croit", "post", "/login-form").security).toEqual([]);
    expect(find("userpool", "post", "/login").security).toEqual([]);
    expect(find("authn", "get", "/healthz").security).toEqual([]);
    expect(find("authn", "post", "/tenant/{tenantId}/community/{communityId}/authenticate").security).toEqual(AUTHN_ENVELOPE);
  });
});

import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { operationAnchor, operationsOf } from "./render-page";
import { SURFACE_DOCS } from ".";

/** Issue 7 item 11: the /docs page renders every surface's document; / links to it. */
const get = (path: string) => SELF.fetch(`http://docs.example${path}`, { headers: { host: "docs.example" } });

function expectSecurityHeaders(res: Response): void {
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
  const csp = res.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("default-src 'none'");
  expect(csp).not.toMatch(/script-src|unsafe-inline|https?:/);
}

/** Every src= and href= of the page points to this origin (a path or a fragment). */
function expectNoForeignAssets(page: string): void {
  expect(page).not.toMatch(/<script/i);
  expect(page).not.toMatch(/<iframe|<object|<embed/i);
  for (const m of page.matchAll(/\s(?:src|href)="([^"]*)"/g)) expect(m[1], m[0]).toMatch(/^(\/|#)/);
}

describe("GET /docs", () => {
  it("is HTML with the security headers and a strict CSP, without script or foreign asset", async () => {
    const res = await get("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html; charset=utf-8/i);
    expectSecurityHeaders(res);
    expectNoForeignAssets(await res.text());
  });

  it("renders every operation of every surface: method, path, summary, security, parameters, bodies, responses", async () => {
    const page = await (await get("/docs")).text();
    let count = 0;
    for (const s of SURFACE_DOCS) {
      expect(page).toContain(`id="${s.id}"`);
      expect(page).toContain(`href="/openapi/${s.id}.json"`);
      for (const { method, path, op } of operationsOf(s.document())) {
        const id = operationAnchor(s.id, method, path, op as { operationId?: string });
        const start = page.indexOf(`<section class="op" id="${id}">`);
        expect(start, `${s.id} ${method} ${path}`).toBeGreaterThan(-1);
        const section = page.slice(start, page.indexOf("</section>", start));
        expect(section).toContain(`${method.toUpperCase()}</span> <code>${s.basePath}${path}</code>`);
        expect(section).toMatch(/Requires|Public: no credential/);
        expect(section).toContain("<h5>Responses</h5>");
        count++;
      }
    }
    expect(count).toBeGreaterThan(60);
    // Spot checks: a protected Sentinel route, a Basic croit route, a licensed Authn route.
    const loginAs = page.slice(page.indexOf('id="sentinel-op-loginAs"'));
    expect(loginAs.slice(0, loginAs.indexOf("</section>"))).toMatch(/Requires <code>bearerAuth<\/code>[\s\S]*<h5>Request body<\/h5>[\s\S]*<code>application\/json<\/code>/);
    expect(page).toMatch(/id="croit-op-clientCredentialsLogin"[\s\S]*?Requires <code>basicAuth<\/code>/);
    expect(page).toContain("<code>authnLicenseKey</code>");
    expect(page).toContain('id="sentinel-schema-TokenResponse"');
  });
});

describe("GET /", () => {
  it("lists the surfaces with links to /docs and to each OpenAPI document", async () => {
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expectSecurityHeaders(res);
    const page = await res.text();
    expectNoForeignAssets(page);
    expect(page).toContain('href="/docs"');
    for (const s of SURFACE_DOCS) {
      expect(page).toContain(`href="/openapi/${s.id}.json"`);
      expect(page).toContain(`href="/docs#${s.id}"`);
      expect(page).toContain(s.reference);
    }
  });

  it("serves the stylesheet from this origin, and the documents it links to exist", async () => {
    const css = await get("/docs/style.css");
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
    expect(css.headers.get("x-content-type-options")).toBe("nosniff");
    for (const s of SURFACE_DOCS) {
      const r = await get(`/openapi/${s.id}.json`);
      expect(r.status, s.id).toBe(200);
      expect(((await r.json()) as { openapi: string }).openapi).toBe("3.1.0");
    }
  });
});

describe("rendering is escaped", () => {
  it("a description, a name or an example holding markup is shown as text", async () => {
    const { renderDocsPage } = await import("./render-page");
    const hostile = "<script>alert(1)</script>";
    const page = String(
      await renderDocsPage([
        {
          id: "x",
          basePath: "/x",
          reference: "docs/api/x.md",
          document: () => ({
            openapi: "3.1.0",
            info: { title: hostile, version: "1", description: hostile },
            paths: {
              "/a": {
                post: {
                  operationId: "a",
                  summary: hostile,
                  security: [],
                  parameters: [{ name: `"><img src=x onerror=alert(1)>`, in: "query", schema: { type: "string", pattern: hostile } }],
                  responses: { 200: { description: hostile } },
                } as never,
              },
            },
          }),
        },
      ]),
    );
    expect(page).not.toContain("<script>");
    expect(page).not.toContain("<img");
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });
});

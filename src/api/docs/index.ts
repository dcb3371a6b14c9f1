import { Hono } from "hono";
import type { AppEnv } from "../../http/types";
import { authnOpenApi } from "../authn";
import { cloudcheckrOpenApi } from "../cloudcheckr";
import { croitOpenApi } from "../croit";
import { sentinelOpenApi } from "../sentinel";
import { userpoolOpenApi } from "../userpool";
import { renderDocsPage, renderIndexPage, type SurfaceDoc } from "./render-page";
import { DOCS_CSS } from "./style";

/**
 * GET / (index of the surfaces), GET /docs (every surface's OpenAPI document as HTML) and
 * GET /docs/style.css. Server-rendered, no JavaScript, nothing loaded from another origin:
 * the CSP says so, and the security headers (http/security-headers.ts) forbid framing.
 * The development-only /dev routes and the standard /.well-known endpoints have no OpenAPI
 * document (the RFCs that define them are their reference), so they are linked, not rendered.
 */
export const SURFACE_DOCS: SurfaceDoc[] = [
  { id: "authn", basePath: "/authn", reference: "docs/api/authn.md", document: authnOpenApi.document },
  { id: "sentinel", basePath: "/v1.0/auth", reference: "docs/api/sentinel.md", document: sentinelOpenApi.document },
  { id: "cloudcheckr", basePath: "/v1/auth", reference: "docs/api/cloudcheckr.md", document: cloudcheckrOpenApi.document },
  { id: "userpool", basePath: "/v1", reference: "docs/api/userpool.md", document: userpoolOpenApi.document },
  { id: "croit", basePath: "/api/auth", reference: "docs/api/croit.md", document: croitOpenApi.document },
];

/** No script, no frame, no foreign origin: styles from this origin only. */
export const DOCS_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const docs = new Hono<AppEnv>();

// The pages only change with a deployment: built once per isolate.
let indexPage: string | null = null;
let docsPage: string | null = null;

docs.get("/", async (c) => {
  indexPage ??= String(await renderIndexPage(SURFACE_DOCS));
  c.header("content-security-policy", DOCS_CSP);
  c.header("cache-control", "public, max-age=300");
  return c.html(indexPage);
});

docs.get("/docs", async (c) => {
  docsPage ??= String(await renderDocsPage(SURFACE_DOCS));
  c.header("content-security-policy", DOCS_CSP);
  c.header("cache-control", "public, max-age=300");
  return c.html(docsPage);
});

docs.get("/docs/style.css", (c) => {
  c.header("content-type", "text/css; charset=utf-8");
  c.header("cache-control", "public, max-age=300");
  return c.body(DOCS_CSS);
});

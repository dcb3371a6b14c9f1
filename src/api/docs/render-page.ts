import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { OpenApiJson } from "../../http/openapi";
import { renderSchema, schemaAnchor, type Schema } from "./render-schema";

/**
 * The /docs page and the / index, server-rendered from each surface's OpenAPI document: no
 * script, no third-party asset, one same-origin stylesheet (so the CSP can forbid the rest).
 */

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** One surface as the pages list it. */
export interface SurfaceDoc {
  /** Short name: `sentinel`, the id of its section and of /openapi/<id>.json. */
  id: string;
  basePath: string;
  /** The reference page in the repository (docs/api/<id>.md). */
  reference: string;
  document: () => OpenApiJson;
}

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: Schema }[];
  requestBody?: { required?: boolean; description?: string; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>;
}

const METHODS = ["get", "post", "put", "patch", "delete", "head", "options"] as const;

/** Every operation of a document, in document order. */
export function operationsOf(doc: OpenApiJson): { method: string; path: string; op: Operation }[] {
  const out: { method: string; path: string; op: Operation }[] = [];
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Record<string, Operation>>)) {
    for (const method of METHODS) if (item[method]) out.push({ method, path, op: item[method] });
  }
  return out;
}

const info = (doc: OpenApiJson) => (doc.info ?? {}) as { title?: string; version?: string; description?: string };

/** `operationId`, or method and path for an operation without one. */
export const operationAnchor = (surface: string, method: string, path: string, op: { operationId?: string }) =>
  `${surface}-op-${op.operationId ?? `${method}-${path.replace(/[^A-Za-z0-9]+/g, "-")}`}`;

function layout(title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="stylesheet" href="/docs/style.css">
</head>
<body>
${body}
</body>
</html>`;
}

interface SchemeView {
  type?: string;
  scheme?: string;
  name?: string;
  description?: string;
}

function security(op: Operation, schemes: Record<string, SchemeView>): Html {
  const reqs = op.security ?? [];
  if (!reqs.length) return html`<p class="sec public">Public: no credential.</p>`;
  const describe = (name: string) => {
    const s = schemes[name];
    const how = s?.type === "http" ? `HTTP ${s.scheme ?? ""}` : s?.type === "apiKey" ? `header ${s.name ?? ""}` : (s?.type ?? "");
    return html`<code>${name}</code> <span class="muted">(${how})</span>`;
  };
  return html`<p class="sec">Requires ${reqs.map((r, i) => html`${i ? " or " : ""}${Object.keys(r).map((n, j) => html`${j ? " + " : ""}${describe(n)}`)}`)}</p>`;
}

function parameters(surface: string, op: Operation): Html | string {
  if (!op.parameters?.length) return "";
  return html`<h5>Parameters</h5>
<table><thead><tr><th>name</th><th>in</th><th>schema</th></tr></thead><tbody>
${op.parameters.map((p) => html`<tr><td><code>${p.name}</code>${p.required ? html` <span class="req">required</span>` : ""}</td><td>${p.in}</td><td>${renderSchema(surface, p.schema)}${p.description ? html` <span class="desc">${p.description}</span>` : ""}</td></tr>`)}
</tbody></table>`;
}

function content(surface: string, c: Record<string, { schema?: Schema }> | undefined): Html | string {
  if (!c) return "";
  return html`${Object.entries(c).map(([type, m]) => html`<div class="media"><code>${type}</code>: ${renderSchema(surface, m.schema)}</div>`)}`;
}

function operation(surface: string, basePath: string, method: string, path: string, op: Operation, schemes: Record<string, SchemeView>): Html {
  const id = operationAnchor(surface, method, path, op);
  return html`<section class="op" id="${id}">
<h4><span class="method ${method}">${method.toUpperCase()}</span> <code>${basePath}${path}</code></h4>
${op.summary ? html`<p class="summary">${op.summary}</p>` : ""}
${op.operationId ? html`<p class="muted">operationId <code>${op.operationId}</code></p>` : ""}
${op.description ? html`<p class="desc">${op.description}</p>` : ""}
${security(op, schemes)}
${parameters(surface, op)}
${op.requestBody ? html`<h5>Request body${op.requestBody.required ? "" : " (optional)"}</h5>${op.requestBody.description ? html`<p class="desc">${op.requestBody.description}</p>` : ""}${content(surface, op.requestBody.content)}` : ""}
<h5>Responses</h5>
<dl class="responses">${Object.entries(op.responses ?? {}).map(([status, r]) => html`<dt>${status}</dt><dd>${r.description ?? ""}${content(surface, r.content)}</dd>`)}</dl>
</section>`;
}

function surfaceSection(s: SurfaceDoc): Html {
  const doc = s.document();
  const meta = info(doc);
  const components = (doc.components ?? {}) as { schemas?: Record<string, Schema>; securitySchemes?: Record<string, SchemeView> };
  const schemes = components.securitySchemes ?? {};
  const ops = operationsOf(doc);
  return html`<section class="surface" id="${s.id}">
<h2>${meta.title ?? s.id} <span class="muted">${meta.version ?? ""}</span></h2>
<p>${meta.description ?? ""}</p>
<p>Base path <code>${s.basePath}</code> · <a href="/openapi/${s.id}.json">OpenAPI JSON</a> · reference <code>${s.reference}</code></p>
${Object.keys(schemes).length ? html`<h3>Security schemes</h3><ul>${Object.entries(schemes).map(([name, sc]) => html`<li><code>${name}</code>: ${sc.description ?? ""}</li>`)}</ul>` : ""}
<h3>Operations (${ops.length})</h3>
<ul class="toc">${ops.map(({ method, path, op }) => html`<li><a href="#${operationAnchor(s.id, method, path, op)}">${method.toUpperCase()} ${path}</a> ${op.summary ?? ""}</li>`)}</ul>
${ops.map(({ method, path, op }) => operation(s.id, s.basePath, method, path, op, schemes))}
${components.schemas ? html`<h3>Schemas</h3>${Object.entries(components.schemas).map(([name, schema]) => html`<section class="schema-def" id="${schemaAnchor(s.id, name)}"><h4><code>${name}</code></h4>${renderSchema(s.id, schema)}</section>`)}` : ""}
</section>`;
}

/** GET /docs: every surface's document, one section each. */
export function renderDocsPage(surfaces: SurfaceDoc[]): Html {
  return layout(
    "edge-auth API reference",
    html`<header><p><a href="/">edge-auth</a></p><h1>API reference</h1>
<p>Every operation of the five authentication APIs this service serves, rendered from their OpenAPI 3.1 documents.</p>
<nav><ul>${surfaces.map((s) => html`<li><a href="#${s.id}">${info(s.document()).title ?? s.id}</a> <code>${s.basePath}</code></li>`)}</ul></nav></header>
<main>${surfaces.map(surfaceSection)}</main>`,
  );
}

/** GET /: the surfaces, their references and OpenAPI documents. */
export function renderIndexPage(surfaces: SurfaceDoc[]): Html {
  return layout(
    "edge-auth",
    html`<header><h1>edge-auth</h1><p>One authentication service, five existing APIs over one identity core.</p></header>
<main>
<p><a href="/docs">API reference</a>: every operation of every surface.</p>
<table><thead><tr><th>surface</th><th>base path</th><th>reference</th><th>OpenAPI</th></tr></thead><tbody>
${surfaces.map((s) => html`<tr><td><a href="/docs#${s.id}">${info(s.document()).title ?? s.id}</a></td><td><code>${s.basePath}</code></td><td><code>${s.reference}</code></td><td><a href="/openapi/${s.id}.json">/openapi/${s.id}.json</a></td></tr>`)}
</tbody></table>
<p>Standard endpoints: <a href="/.well-known/jwks.json">/.well-known/jwks.json</a> (JWKS, RFC 7517) and <code>/.well-known/openid-configuration</code> (per tenant host).</p>
</main>`,
  );
}

import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

/**
 * Renders a JSON Schema (OpenAPI 3.1 §4.8.24, JSON Schema 2020-12) as nested HTML lists a
 * reader can follow without JavaScript. A `$ref` to a component becomes a link to that
 * component's own rendering, so recursive schemas terminate and shared shapes appear once.
 */

export type Schema = Record<string, unknown>;
type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** The id of a component schema's anchor in the page, unique per surface. */
export const schemaAnchor = (surface: string, name: string) => `${surface}-schema-${name}`;

const REF = "#/components/schemas/";

/** Short constraints of a schema: format, bounds, pattern, default. */
function constraints(s: Schema): string[] {
  const out: string[] = [];
  if (typeof s.format === "string") out.push(s.format);
  for (const [key, label] of [
    ["minLength", "min length"],
    ["maxLength", "max length"],
    ["minimum", "≥"],
    ["maximum", "≤"],
    ["minItems", "min items"],
    ["maxItems", "max items"],
  ] as const) {
    if (typeof s[key] === "number") out.push(`${label} ${String(s[key])}`);
  }
  if (typeof s.pattern === "string") out.push(`pattern ${s.pattern}`);
  if (s.default !== undefined) out.push(`default ${JSON.stringify(s.default)}`);
  if (s.const !== undefined) out.push(`= ${JSON.stringify(s.const)}`);
  if (s.nullable === true) out.push("nullable");
  return out;
}

/** The one-line type of a schema: `string`, `array of X`, `one of …`, a link for a `$ref`. */
function typeLabel(surface: string, s: Schema): Html {
  if (typeof s.$ref === "string" && s.$ref.startsWith(REF)) {
    const name = s.$ref.slice(REF.length);
    return html`<a href="#${schemaAnchor(surface, name)}">${name}</a>`;
  }
  if (Array.isArray(s.enum)) return html`enum: ${s.enum.map((v) => JSON.stringify(v)).join(" | ")}`;
  const type = Array.isArray(s.type) ? s.type.join(" | ") : typeof s.type === "string" ? s.type : "";
  if (type === "array" && s.items && typeof s.items === "object") return html`array of ${typeLabel(surface, s.items as Schema)}`;
  if (type) return html`${type}`;
  for (const key of ["oneOf", "anyOf", "allOf"] as const) if (Array.isArray(s[key])) return html`${key}`;
  return html`any`;
}

/** A schema with its description, constraints and, for objects and unions, its members. */
export function renderSchema(surface: string, s: Schema | undefined, depth = 0): Html {
  if (!s) return html`<span class="muted">no schema</span>`;
  const extra = constraints(s);
  return html`<span class="type">${typeLabel(surface, s)}</span>${extra.length ? html` <span class="muted">(${extra.join(", ")})</span>` : ""}${
    typeof s.description === "string" ? html` <span class="desc">${s.description}</span>` : ""
  }${depth > 8 ? "" : members(surface, s, depth)}`;
}

function members(surface: string, s: Schema, depth: number): Html | string {
  const props = s.properties && typeof s.properties === "object" ? (s.properties as Record<string, Schema>) : null;
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const items = s.items && typeof s.items === "object" ? (s.items as Schema) : null;
  const parts: Html[] = [];
  if (props) {
    for (const [name, child] of Object.entries(props)) {
      parts.push(html`<li><code>${name}</code>${required.has(name) ? html` <span class="req">required</span>` : ""}: ${renderSchema(surface, child, depth + 1)}</li>`);
    }
  }
  for (const key of ["oneOf", "anyOf", "allOf"] as const) {
    if (Array.isArray(s[key])) for (const child of s[key] as Schema[]) parts.push(html`<li>${renderSchema(surface, child, depth + 1)}</li>`);
  }
  if (items && !items.$ref && (items.properties || items.oneOf || items.anyOf)) parts.push(html`<li>items: ${renderSchema(surface, items, depth + 1)}</li>`);
  if (s.additionalProperties && typeof s.additionalProperties === "object") {
    parts.push(html`<li><em>any other key</em>: ${renderSchema(surface, s.additionalProperties as Schema, depth + 1)}</li>`);
  }
  return parts.length ? html`<ul class="schema">${parts}</ul>` : "";
}

/**
 * The JSON Canonicalization Scheme (RFC 8785), for the JSON a consent receipt's signature
 * covers: members sorted by their names' UTF-16 code units (§3.2.3), no whitespace, strings and
 * numbers serialized as ECMAScript's JSON.stringify does (§3.2.2), which is what the RFC
 * specifies. A verifier in any language uses its own RFC 8785 library and gets the same bytes.
 *
 * Receipts hold only strings, integers, arrays and objects; a value JSON cannot carry
 * (a non-finite number, a function) is refused rather than silently dropped.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error("canonical JSON: non-finite number");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(",")}]`;
  if (typeof value === "object") {
    const obj = value as Record<string, unknown>;
    // Default sort compares UTF-16 code units, as §3.2.3 asks.
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
  }
  throw new Error(`canonical JSON: cannot serialize a ${typeof value}`);
}

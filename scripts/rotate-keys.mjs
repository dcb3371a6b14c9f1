#!/usr/bin/env node
// `npm run keys:rotate -- --local|--remote [--persist-to DIR] [--force]`
//
// Rotates the JWT signing key with overlap (src/crypto/keys.ts):
//   - keys in "previous" become "retired" (no longer in the JWKS, no longer verify);
//   - the "current" key becomes "previous" (still in the JWKS, still verifies);
//   - the next token signed by any isolate creates a new "current" key.
// Isolates reload their key set within a minute, so for that minute some may still sign with
// the demoted key; it stays valid because "previous" keys verify.
//
// Retiring is only safe once no live token can carry the retiring key: tokens signed by a
// "previous" key were signed before the current key was created, so they are all expired
// once the current key is older than the longest token lifetime of any tenant (plus the
// isolates' one-minute reload). The script checks that and refuses otherwise (--force skips it).
import { runWrangler } from "./lib/worker.mjs";

const args = process.argv.slice(2);
const has = (f) => args.includes(f);
const opt = (name) => {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  return args[i].includes("=") ? args[i].slice(name.length + 1) : args[i + 1];
};

const remote = has("--remote");
const local = has("--local");
if (remote === local) {
  console.error("usage: npm run keys:rotate -- --local|--remote [--persist-to DIR] [--force]");
  process.exit(2);
}
const persistTo = opt("--persist-to");
const where = remote ? ["--remote"] : ["--local", ...(persistTo ? ["--persist-to", persistTo] : [])];
const force = has("--force");
/** The isolates' key reload interval (src/crypto/keys.ts REFRESH_MS) plus clock slack. */
const RELOAD_SLACK_MS = 2 * 60_000;
const DEFAULT_TOKEN_TTL_S = 24 * 3600;

/** Runs SQL (one or more statements) with `wrangler d1 execute`; one result list per statement. */
async function query(sql) {
  const out = await runWrangler(["d1", "execute", "DB", ...where, "--json", "--command", sql], { quiet: true });
  const parsed = JSON.parse(out.slice(out.indexOf("[")));
  return parsed.map((r) => r.results ?? []);
}

async function main() {
  // The keys, and the longest lifetime of any token they sign over every tenant's settings.
  const [keys, ttlRows] = await query(
    "SELECT kid, status, created_at FROM signing_keys WHERE purpose = 'jwt' AND status IN ('current', 'previous') ORDER BY created_at DESC; " +
      "SELECT max(max(coalesce(json_extract(settings, '$.accessTokenTtlSeconds'), 86400), coalesce(json_extract(settings, '$.idTokenTtlSeconds'), 86400))) AS ttl FROM tenants;",
  );
  const current = keys.find((k) => k.status === "current");
  const previous = keys.filter((k) => k.status === "previous");
  if (!current) {
    console.log("No current signing key yet (the next signed token creates one): nothing to rotate.");
    return;
  }
  const maxTtlMs = Math.max(Number(ttlRows?.[0]?.ttl ?? 0), DEFAULT_TOKEN_TTL_S) * 1000;
  const age = Date.now() - Number(current.created_at);
  if (previous.length > 0 && age < maxTtlMs + RELOAD_SLACK_MS && !force) {
    const hours = ((maxTtlMs + RELOAD_SLACK_MS - age) / 3_600_000).toFixed(1);
    console.error(
      `Refusing: the current key ${current.kid} is ${(age / 3_600_000).toFixed(1)} h old, so tokens signed by the previous key(s) ` +
        `${previous.map((k) => k.kid).join(", ")} may still be valid for up to ${hours} h. Retiring them now would log those sessions out. ` +
        "Wait, or pass --force.",
    );
    process.exit(1);
  }
  await query(
    "UPDATE signing_keys SET status = 'retired' WHERE purpose = 'jwt' AND status = 'previous'; " +
      `UPDATE signing_keys SET status = 'previous' WHERE purpose = 'jwt' AND status = 'current' AND kid = '${String(current.kid).replace(/'/g, "''")}';`,
  );
  console.log(`Rotated (${remote ? "remote" : "local"}): ${current.kid} is now previous (still verifies, still in the JWKS).`);
  if (previous.length) console.log(`Retired: ${previous.map((k) => k.kid).join(", ")}.`);
  console.log("The next signed token creates the new current key; isolates pick the change up within a minute.");
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});

#!/usr/bin/env node
// The production build check of `npm test`: bundles the Worker exactly as `wrangler deploy`
// would (`--dry-run --outdir .build/dist`), without nodejs_compat. The vitest Workers pool
// turns Node compatibility on for itself, so only this proves every dependency runs on plain
// workerd. Prints the bundle size against the Workers script size limits.
import { statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { ROOT, runWrangler } from "./lib/worker.mjs";
import { versionVarArgs } from "./version.mjs";

const OUT = ".build/dist";
const out = await runWrangler(["deploy", "--dry-run", "--outdir", OUT, ...versionVarArgs()], { quiet: true }).catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
const file = join(ROOT, OUT, "index.js");
const raw = statSync(file).size;
const gz = gzipSync(readFileSync(file)).length;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const wrangler = /Total Upload:[^\n]*/.exec(out)?.[0] ?? "";
// Workers limits: 3 MiB compressed on the Free plan, 10 MiB on paid plans.
console.log(`Production build OK: ${OUT}/index.js ${kib(raw)}, gzip ${kib(gz)} (Free plan limit 3 MiB gzip)${wrangler ? `; wrangler: ${wrangler}` : ""}`);
if (gz > 3 * 1024 * 1024) console.warn("! the gzipped bundle exceeds the Free plan's 3 MiB limit");

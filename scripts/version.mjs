#!/usr/bin/env node
// The build stamp of GET /authn/healthz (seed 004 "Healthz"): `<git-tag>.<commit-id>.<dob>`
// when HEAD is a tagged commit, else `<commit-id>.<dob>`; dob is the build time in epoch
// seconds. It reaches the Worker as the BUILD_VERSION var (`wrangler --var`), set by
// `npm run deploy`, the production build check (scripts/build.mjs) and `npm run dev`.
//
//   node scripts/version.mjs                 prints the stamp
//   node scripts/version.mjs deploy [args]   wrangler deploy --var BUILD_VERSION:<stamp> [args]
import { execFileSync, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

function git(args) {
  try {
    return execFileSync("git", args, { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
  } catch {
    return "";
  }
}

/** `<tag>.<commit>.<dob>` or `<commit>.<dob>` ("unknown" commit outside a git checkout). */
export function buildVersion(now = Date.now()) {
  const commit = git(["rev-parse", "--short=12", "HEAD"]) || "unknown";
  const tag = git(["describe", "--tags", "--exact-match", "HEAD"]);
  const dob = Math.floor(now / 1000);
  return tag ? `${tag}.${commit}.${dob}` : `${commit}.${dob}`;
}

/** The wrangler arguments that stamp a build. */
export function versionVarArgs() {
  return ["--var", `BUILD_VERSION:${buildVersion()}`];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [cmd, ...rest] = process.argv.slice(2);
  if (cmd === "deploy") {
    const wrangler = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
    const r = spawnSync(process.execPath, [wrangler, "deploy", ...versionVarArgs(), ...rest], { cwd: ROOT, stdio: "inherit" });
    process.exit(r.status ?? 1);
  } else {
    console.log(buildVersion());
  }
}

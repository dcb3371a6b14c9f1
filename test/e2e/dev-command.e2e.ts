import { execFileSync, spawn } from "node:child_process";
import { cp, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// Plain JavaScript module shared with the scripts.
import { ROOT, freePort } from "../../scripts/lib/worker.mjs";

/**
 * `npm run dev` itself (scripts/dev.mjs), as a newcomer runs it, in a scratch copy of the
 * project so it never touches the working tree's .dev.vars, credentials or local state. Three
 * runs: the first writes .dev.vars, migrates, seeds and prints the credentials; the later ones
 * keep data and credentials. Each is stopped a different way (Ctrl-C, ending npm, killing
 * npm), and nothing it started may keep serving the port afterwards.
 */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-auth-dev-"));
  for (const p of ["package.json", "wrangler.toml", "tsconfig.json", "src", "migrations", "scripts"]) {
    await cp(join(ROOT, p), join(dir, p), { recursive: true });
  }
  await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Processes whose command line names the scratch copy (wrangler, workerd, the guardian, dev.mjs). */
function leftovers(): string[] {
  try {
    return execFileSync("pgrep", ["-af", dir], { encoding: "utf8" }).split("\n").filter((l) => l.trim() !== "");
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

async function answers(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://localhost:${port}/ping`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

type Stop = "Ctrl-C" | "SIGTERM to npm" | "SIGKILL to npm";

/**
 * Runs `npm run dev` in a process group of its own, like a terminal's foreground job, until
 * its banner appears; logs in with the saved credentials; then stops it: Ctrl-C is SIGINT to
 * the whole group, the others signal the npm process alone.
 */
async function runDev(stop: Stop): Promise<{ output: string; servedAfter: boolean; left: string[] }> {
  const port = await freePort();
  const inspector = await freePort();
  const npm = spawn("npm", ["run", "dev", "--", "--port", String(port), "--inspector-port", String(inspector)], {
    cwd: dir,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  npm.stdout!.on("data", (d) => (output += d));
  npm.stderr!.on("data", (d) => (output += d));
  const deadline = Date.now() + 150_000;
  while (!/Saved in \.demo-credentials\.json|^! /m.test(output) && Date.now() < deadline && npm.exitCode === null) {
    await new Promise((r) => setTimeout(r, 200));
  }
  // The server answers with the seeded credentials before we stop it.
  const creds = existsSync(join(dir, ".demo-credentials.json")) ? JSON.parse(await readFile(join(dir, ".demo-credentials.json"), "utf8")) : null;
  if (creds) {
    const r = await fetch(`http://localhost:${port}/v1/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: creds.user.username, password: creds.user.password }) });
    output += `\n[test] login status ${r.status}\n`;
  }
  if (stop === "Ctrl-C") process.kill(-npm.pid!, "SIGINT");
  else npm.kill(stop === "SIGTERM to npm" ? "SIGTERM" : "SIGKILL");
  // wrangler gets 5 s to stop workerd before the guardian kills what is left.
  const until = Date.now() + 12_000;
  while (Date.now() < until && ((await answers(port)) || leftovers().length > 0)) await new Promise((r) => setTimeout(r, 250));
  const servedAfter = await answers(port);
  const left = leftovers();
  try {
    process.kill(-npm.pid!, "SIGKILL");
  } catch {}
  return { output, servedAfter, left };
}

describe("npm run dev", () => {
  it("sets up, seeds once and keeps its data and credentials on later runs; Ctrl-C or ending npm stops wrangler and workerd too", async () => {
    const first = await runDev("Ctrl-C");
    expect(first.output, first.output).toContain("Demo tenant seeded");
    expect(first.output).toContain("[test] login status 200");
    const vars = await readFile(join(dir, ".dev.vars"), "utf8");
    expect(vars).toMatch(/^ENVIRONMENT=development$/m);
    expect(vars).toMatch(/^DEFAULT_TENANT=demo$/m);
    for (const name of ["KEY_ENCRYPTION_SECRET", "PASSWORD_PEPPER", "BOOTSTRAP_SYSTEM_LICENSE"]) {
      expect(vars).toMatch(new RegExp(`^${name}=[A-Za-z0-9_-]{43,}$`, "m"));
    }
    const creds1 = JSON.parse(await readFile(join(dir, ".demo-credentials.json"), "utf8"));
    expect(first.output).toContain(creds1.admin.password);
    expect(creds1).toMatchObject({ tenantId: "demo", admin: { username: "admin" }, client: { clientId: "demo-client" } });
    // The OpenID Provider demo: the community's issuer and both demo clients (seed-oidc.ts).
    expect(creds1.oidc.issuer).toBe(`${creds1.url}/oidc/demo-community`);
    expect(creds1.oidc.clients).toMatchObject([
      { client_id: "demo-web-app", client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), redirect_uri: "http://127.0.0.1/callback" },
      { client_id: "demo-native-app", redirect_uri: "http://127.0.0.1/callback", token_endpoint_auth_method: "none" },
    ]);
    expect(creds1.oidc.clients[1]).not.toHaveProperty("client_secret");
    expect(creds1.totpUser).toMatchObject({ username: "bob", totpSecret: expect.stringMatching(/^[A-Z2-7]{32}$/) });
    expect(first.output).toContain(creds1.oidc.clients[0].client_secret);
    expect(first.servedAfter, "served after Ctrl-C").toBe(false);
    expect(first.left, "left after Ctrl-C").toEqual([]);

    for (const stop of ["SIGTERM to npm", "SIGKILL to npm"] as const) {
      const again = await runDev(stop);
      expect(again.output, again.output).toContain("already seeded");
      expect(again.output).toContain("[test] login status 200");
      const creds2 = JSON.parse(await readFile(join(dir, ".demo-credentials.json"), "utf8"));
      expect(creds2.admin).toEqual(creds1.admin);
      expect(creds2.client).toEqual(creds1.client);
      // Same clients and secret; the issuer follows the port this run listens on.
      expect(creds2.oidc.clients).toEqual(creds1.oidc.clients);
      expect(creds2.totpUser).toEqual(creds1.totpUser);
      expect(creds2.oidc.issuer).toBe(`${creds2.url}/oidc/demo-community`);
      expect(await readFile(join(dir, ".dev.vars"), "utf8")).toBe(vars);
      expect(again.servedAfter, `served after ${stop}`).toBe(false);
      expect(again.left, `left after ${stop}`).toEqual([]);
    }
  }, 540_000);
});

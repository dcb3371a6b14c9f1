import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { cp, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// Plain JavaScript module shared with the scripts.
import { ROOT, freePort } from "../../scripts/lib/worker.mjs";

/**
 * `npm run dev` itself (scripts/dev.mjs), run twice in a scratch copy of the project so it
 * never touches the working tree's .dev.vars, credentials or local state: the first run writes
 * .dev.vars, migrates, seeds and prints the credentials; the second keeps data and credentials.
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

/** Runs the dev command until its banner appears, then stops it with SIGTERM. */
async function runDev(): Promise<{ output: string; port: number }> {
  const port = await freePort();
  const inspector = await freePort();
  const child: ChildProcess = spawn(process.execPath, ["scripts/dev.mjs", "--port", String(port), "--inspector-port", String(inspector)], {
    cwd: dir,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 150_000;
  while (!/Saved in \.demo-credentials\.json|^! /m.test(output) && Date.now() < deadline && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 200));
  }
  // The server answers with the seeded credentials before we stop it.
  const creds = existsSync(join(dir, ".demo-credentials.json")) ? JSON.parse(await readFile(join(dir, ".demo-credentials.json"), "utf8")) : null;
  if (creds) {
    const r = await fetch(`http://localhost:${port}/v1/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: creds.user.username, password: creds.user.password }) });
    output += `\n[test] login status ${r.status}\n`;
  }
  child.kill("SIGTERM");
  await exited;
  return { output, port };
}

describe("npm run dev", () => {
  it("sets up, seeds once and keeps its data and credentials on the next run", async () => {
    const first = await runDev();
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

    const second = await runDev();
    expect(second.output, second.output).toContain("already seeded");
    expect(second.output).toContain("[test] login status 200");
    const creds2 = JSON.parse(await readFile(join(dir, ".demo-credentials.json"), "utf8"));
    expect(creds2.admin).toEqual(creds1.admin);
    expect(creds2.client).toEqual(creds1.client);
    expect(await readFile(join(dir, ".dev.vars"), "utf8")).toBe(vars);
  }, 360_000);
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

/**
 * `npm run dev` as a newcomer runs it, in a process group of its own like a terminal's
 * foreground job; `stop` ends it the way the README says (Ctrl-C: SIGINT to the whole group)
 * or by ending the npm process alone. Nothing it started may keep serving the port.
 */
async function npmRunDevThen(stop: (npm: ChildProcess) => void): Promise<{ servedBefore: boolean; servedAfter: boolean; left: string[]; output: string }> {
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
  while (!/Demo tenant|^! /m.test(output) && Date.now() < deadline && npm.exitCode === null) await new Promise((r) => setTimeout(r, 200));
  const servedBefore = await answers(port);
  stop(npm);
  // wrangler gets 5 s to stop workerd before the guardian kills what is left.
  const until = Date.now() + 12_000;
  while (Date.now() < until && ((await answers(port)) || leftovers().length > 0)) await new Promise((r) => setTimeout(r, 250));
  const servedAfter = await answers(port);
  const left = leftovers();
  try {
    process.kill(-npm.pid!, "SIGKILL");
  } catch {}
  return { servedBefore, servedAfter, left, output };
}

describe("stopping npm run dev", () => {
  it("Ctrl-C (SIGINT to the foreground group) stops wrangler and workerd too", async () => {
    const r = await npmRunDevThen((npm) => process.kill(-npm.pid!, "SIGINT"));
    expect(r.servedBefore, r.output).toBe(true);
    expect(r.servedAfter).toBe(false);
    expect(r.left).toEqual([]);
  }, 180_000);

  it("ending the npm process alone (SIGTERM, then SIGKILL) stops them too", async () => {
    for (const sig of ["SIGTERM", "SIGKILL"] as const) {
      const r = await npmRunDevThen((npm) => npm.kill(sig));
      expect(r.servedBefore, r.output).toBe(true);
      expect(r.servedAfter, sig).toBe(false);
      expect(r.left, sig).toEqual([]);
    }
  }, 360_000);
});

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type StartedWorker } from "./harness";

/**
 * Issue 7 item 11: the OpenAPI document each surface serves passes `redocly lint` with the
 * recommended rules, without errors; and the /docs page renders them over real HTTP.
 * @redocly/cli is a devDependency and runs offline (telemetry and update checks off).
 */
const SURFACES = ["authn", "sentinel", "cloudcheckr", "userpool", "croit"] as const;
const REDOCLY = join(process.cwd(), "node_modules", "@redocly", "cli", "bin", "cli.js");
const run = promisify(execFile);

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; severity: string; message: string; location: { pointer?: string }[] }[];
}

let w: StartedWorker;
let dir: string;
beforeAll(async () => {
  [w, dir] = await Promise.all([startWorker(), mkdtemp(join(tmpdir(), "openapi-lint-"))]);
});
afterAll(async () => {
  await w?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function lint(file: string): Promise<LintReport> {
  const env = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" };
  // redocly exits 1 when it finds errors; its JSON report is on stdout either way.
  const out = await run(process.execPath, [REDOCLY, "lint", "--extends=recommended", "--format=json", file], { env, maxBuffer: 16 * 1024 * 1024 }).catch(
    (e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? "", stderr: e.stderr ?? "" }),
  );
  const start = out.stdout.indexOf("{");
  if (start < 0) throw new Error(`redocly printed no report: ${out.stderr}`);
  return JSON.parse(out.stdout.slice(start)) as LintReport;
}

describe("redocly lint (recommended rules) on every served document", () => {
  it.each(SURFACES)("%s: no errors", async (surface) => {
    const res = await fetch(`${w.url}/openapi/${surface}.json`);
    expect(res.status).toBe(200);
    const file = join(dir, `${surface}.json`);
    await writeFile(file, await res.text());
    const report = await lint(file);
    const errors = report.problems.filter((p) => p.severity === "error").map((p) => `${p.ruleId} ${p.location[0]?.pointer ?? ""}: ${p.message}`);
    expect(errors).toEqual([]);
    expect(report.totals.errors).toBe(0);
  });
});

describe("/ and /docs over HTTP", () => {
  it("serve HTML that links every surface, with the security headers", async () => {
    const index = await fetch(`${w.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await index.text()).toContain('href="/docs"');
    const docs = await fetch(`${w.url}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get("x-frame-options")).toBe("DENY");
    expect(docs.headers.get("x-content-type-options")).toBe("nosniff");
    expect(docs.headers.get("content-security-policy")).toContain("default-src 'none'");
    const page = await docs.text();
    for (const s of SURFACES) expect(page).toContain(`href="/openapi/${s}.json"`);
    expect(page).toContain("/v1.0/auth/loginAs");
    expect(page).not.toMatch(/<script/i);
  });
});

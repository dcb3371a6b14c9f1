import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/lib/worker.mjs";

/**
 * bench/latency-model.mjs (docs/edge-latency.md): a simulation, run as a user runs it. It needs
 * no Worker, so it only runs Node: the printed tables must cover every route the model lists,
 * and the model must list every route the surfaces declare (a new route without hops fails here).
 */
const SCRIPT = join(ROOT, "bench/latency-model.mjs");
const REGIONS = ["Virginia", "Frankfurt", "Sao Paulo", "Tokyo", "Singapore", "Sydney"];

interface ModelRoute {
  method: string;
  path: string;
  note: string;
  hops: string;
  remoteSteps: number;
  baselineMs: Record<string, number>;
  asBuiltMs: Record<string, number>;
  allLeversMs: Record<string, number>;
}
interface Model {
  simulation: boolean;
  routes: ModelRoute[];
  levers: { id: string; keeps: string; hotSavedMs: number; made: string | null }[];
}

const run = (args: string[] = []) => execFileSync(process.execPath, [SCRIPT, ...args], { encoding: "utf8", timeout: 5000 });

/** `{tenantId}` and `{t}` alike; a variant's note in parentheses dropped. */
const norm = (method: string, path: string) => `${method.toUpperCase()} ${path.replace(/ \(.*\)$/, "").replace(/\{[^}]*\}/g, "{}")}`;

/** Every method and path the surfaces declare, with their mount points (src/app.ts). */
function declaredRoutes(): string[] {
  const mounts: Record<string, string> = { userpool: "/v1", sentinel: "/v1.0/auth", cloudcheckr: "/v1/auth", croit: "/api/auth", authn: "/authn" };
  const out: string[] = [];
  for (const [surface, base] of Object.entries(mounts)) {
    const dir = join(ROOT, "src/api", surface);
    for (const f of readdirSync(dir)) {
      if (!f.endsWith(".ts") || f.endsWith(".test.ts") || f === "schemas.ts") continue;
      const text = readFileSync(join(dir, f), "utf8");
      for (const m of text.matchAll(/method:\s*"(get|post|put|patch|delete)",\s*path:\s*"([^"]+)"/g)) out.push(norm(m[1]!, base + m[2]!));
      // Paths written as `${base}/...` (src/api/authn/webauthn.ts), with the file's own `const base = "..."`.
      const local = /const base = "([^"]+)"/.exec(text)?.[1];
      if (local !== undefined) for (const m of text.matchAll(/method:\s*"(get|post|put|patch|delete)",\s*path:\s*`\$\{base\}([^`]*)`/g)) out.push(norm(m[1]!, base + local + m[2]!));
      for (const m of text.matchAll(/route\("\w+", "(get|post|put|patch|delete)", "([^"]+)"/g)) out.push(norm(m[1]!, base + m[2]!));
    }
  }
  // The OpenID Provider's back channel (plain Hono routes under /oidc, path parameters as `:name`).
  const oidcDir = join(ROOT, "src/api/oidc");
  for (const f of readdirSync(oidcDir)) {
    if (!f.endsWith(".ts") || f.endsWith(".test.ts")) continue;
    const text = readFileSync(join(oidcDir, f), "utf8");
    for (const m of text.matchAll(/oidcProvider\.(get|post|put|patch|delete)\("([^"]+)"/g)) out.push(norm(m[1]!, `/oidc${m[2]!.replace(/:(\w+)/g, "{$1}")}`));
  }
  return out;
}

describe("bench/latency-model.mjs", () => {
  const text = run();
  const model = JSON.parse(run(["--json"])) as Model;

  it("says it is a simulation", () => {
    expect(model.simulation).toBe(true);
    expect(text.startsWith("SIMULATION (not a measurement)")).toBe(true);
  });

  it("prints a latency row in each of the three tables and a hop row for every route it lists", () => {
    expect(model.routes.length).toBeGreaterThan(60);
    for (const r of model.routes) {
      const lines = text.split("\n");
      const id = `| ${r.method} ${r.path}`;
      // One row in the baseline, as-built and all-levers tables, one in the hop table (with its note).
      expect(lines.filter((l) => l.startsWith(`${id} | `)).length, id).toBe(r.note ? 3 : 4);
      if (r.note) expect(lines.filter((l) => l.startsWith(`${id} (${r.note}) | `)).length, id).toBe(1);
      for (const table of [r.baselineMs, r.asBuiltMs, r.allLeversMs]) {
        for (const g of REGIONS) expect(Number.isFinite(table[g]) && table[g]! >= 10, `${r.path} ${g}`).toBe(true);
      }
      // No lever makes a route slower, and a route that leaves the edge costs more far away.
      // As built lies between the two: the levers made only ever remove cost.
      for (const g of REGIONS) {
        expect(r.allLeversMs[g]!).toBeLessThanOrEqual(r.asBuiltMs[g]!);
        expect(r.asBuiltMs[g]!).toBeLessThanOrEqual(r.baselineMs[g]!);
      }
      if (r.remoteSteps > 0) expect(r.baselineMs.Sydney!).toBeGreaterThan(r.baselineMs.Virginia!);
      expect(r.hops.length).toBeGreaterThan(0);
    }
  });

  it("lists every route the surfaces declare", () => {
    const listed = new Set(model.routes.map((r) => norm(r.method, r.path)));
    const missing = declaredRoutes().filter((d) => !listed.has(d));
    expect(declaredRoutes().length).toBeGreaterThan(60);
    expect(missing).toEqual([]);
  });

  it("is what docs/edge-latency.md shows (rerun it and paste the tables after changing a route)", () => {
    const doc = readFileSync(join(ROOT, "docs/edge-latency.md"), "utf8").split("\n");
    const stale = text.split("\n").filter((l) => l.startsWith("| ") && !doc.includes(l));
    expect(stale).toEqual([]);
  });

  it("ranks the levers, each with the consistency it keeps", () => {
    expect(model.levers.length).toBeGreaterThanOrEqual(5);
    for (const l of model.levers) expect(l.keeps.length).toBeGreaterThan(10);
    // Ranked greedily (each on top of those above it), so only the first is compared with nothing.
    expect(new Set(model.levers.map((l) => l.id)).size).toBe(model.levers.length);
    expect(model.levers[0]!.hotSavedMs).toBeGreaterThan(0);
    // The levers made name where the code makes them (the "as built" table prices exactly those).
    expect(model.levers.filter((l) => l.made).length).toBeGreaterThanOrEqual(3);
    for (const l of model.levers) {
      if (!l.made) continue;
      const files = [...l.made.matchAll(/[\w/-]+\.ts/g)].map((m) => m[0]);
      expect(files.length, l.id).toBeGreaterThan(0);
      for (const f of files) expect(existsSync(join(ROOT, "src", f)), `${l.id}: src/${f}`).toBe(true);
    }
  });
});

#!/usr/bin/env node
// `npm run bench:cpu [-- --n 50 --warmup 10 --interval 50 --settle 10 --only ping,login --top 6 --json out.json]`
//
// CPU milliseconds per request, route by route (issue 12 "CPU per request"): Workers bill CPU
// time, and the free plan stops a request at 10 ms of it. Inside a Worker performance.now() and
// Date.now() do not advance during computation (Spectre mitigation), so the instrument is V8's
// sampling CPU profiler, driven over the inspector that scripts/lib/worker.mjs gives the Worker
// it starts (wrangler dev --inspector-port; bench/lib/inspector.mjs).
//
// Per route: the route's requests are built by its load scenario (bench/scenarios/*.mjs) or by
// bench/lib/cpu-routes.mjs, warmed (`--warmup` requests, not profiled: the JIT settles), then
// `--n` requests are sent one at a time, each inside its own Profiler.start / Profiler.stop, with
// `--settle` ms after the answer before the stop so work the Worker does after answering
// (waitUntil) is in the profile too.
//
// What counts: every sample whose top frame is not `(idle)`: JavaScript, `(program)` (native
// work on the isolate's thread that V8 cannot attribute to a function) and `(garbage
// collector)` (GC runs on the request's thread and is billed). A request's CPU is its count of
// such samples times the sampling interval actually achieved, which is measured, not assumed:
// the median gap between consecutive samples under 1 ms in that route's profiles (workerd only
// samples while the isolate is entered, so longer gaps are time the isolate was not running).
// Resolution: one sample (about 0.1-0.2 ms on a loaded 2-core machine) per request, so p50 is
// quantised to it; the mean over n requests is finer.
//
// Durable Objects: under wrangler dev their code runs in the Worker's isolate and shows in the
// same profile. A sample is counted as Durable Object work when any frame of its stack lies in
// a src/durable/ module of the bundle (esbuild's `// <path>` module markers in the bundle file
// wrangler dev writes under .wrangler/tmp, found once over the Debugger domain). After an
// await inside a helper of another module, a Durable Object's continuation has no
// src/durable/ frame and is counted as the Worker's: the split errs towards the Worker.
// Also counted as the object's: frames of miniflare's Durable Object wrapper, and self time in
// OnceGuard's stub calls (a new ReplayGuard is created on the calling frame; see doStubCall).
// Cloudflare bills a Durable Object's work to the object (its own request, its own CPU limit),
// so the table shows the Worker's CPU without it, and the Durable Object's beside it.
//
// Where the CPU goes: self samples per function and per source module (the same markers;
// a native function such as crypto.subtle's is charged to the module calling it).
//
// The peers (issue 12, "The peers in the same run"; docs/benchmarks.md): `openauth-ping`,
// `openauth-verify`, `better-auth-ping`, `better-auth-session` are the load scenarios of
// bench/scenarios/90-peers.mjs, profiled in the peer's own Worker (bench/lib/peers.mjs starts it
// only when a selected route names it, as bench/run.mjs does) over that Worker's own inspector,
// with the same interval asked, the same warm-up, settle and count, the same non-idle total and
// the same measured interval: one instrument for every Worker. A peer's bundle is read for its
// module markers like ours (its node_modules packages and bench/peers/<name>/worker.js). The
// peers have no Durable Objects: their DO column says "none" and every sample is the Worker's.
import { readFile, readdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, randomSecret, startLocalWorker } from "../scripts/lib/worker.mjs";
import { startPeerWorker } from "./lib/peers.mjs";
import extraRoutes from "./lib/cpu-routes.mjs";
import webauthnRoutes from "./lib/cpu-routes-webauthn.mjs";
import { connectInspector } from "./lib/inspector.mjs";
import { jsonFetcher } from "./lib/fetch-json.mjs";

/** The routes, in table order: scenario or extra-route names, and the PBKDF2 derivations each runs. */
const ROUTES = [
  ["ping"],
  ["openauth-ping"],
  ["better-auth-ping"],
  ["pbkdf2", { derivations: 1 }],
  ["login", { derivations: 1 }],
  ["refresh"],
  ["refresh-rotating"],
  ["token-info"],
  ["openauth-verify"],
  ["better-auth-session"],
  ["client-credentials"],
  ["sentinel-login", { derivations: 1 }],
  ["sentinel-refresh"],
  ["cloudcheckr-login", { derivations: 1 }],
  ["cloudcheckr-refresh"],
  ["authn-authenticate-first", { derivations: 1 }],
  ["authn-authenticate-warm", { derivations: 1 }],
  ["authn-verify-token"],
  ["authn-fido"],
  ["oidc-discovery"],
  ["oidc-jwks"],
  ["oidc-code-exchange"],
  ["oidc-refresh"],
  ["oidc-userinfo"],
  ["hosted-login-page"],
  ["saml-sso"],
  ["saml-acs"],
  ["wsfed-sso"],
  ["policy-evaluate"],
  ["policy-evaluate-v1"],
  ["mail-forgot"],
];

function parseArgs(argv) {
  const o = { n: 50, warmup: 10, interval: 50, settle: 10, only: null, json: null, top: 6, users: 2, log: false };
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i].split("=", 2);
    const v = () => inline ?? argv[++i];
    if (k === "--n") o.n = Math.max(5, Number(v()));
    else if (k === "--warmup") o.warmup = Math.max(0, Number(v()));
    else if (k === "--interval") o.interval = Math.max(10, Number(v()));
    else if (k === "--settle") o.settle = Math.max(0, Number(v()));
    else if (k === "--only") o.only = v().split(",");
    else if (k === "--json") o.json = v();
    else if (k === "--top") o.top = Number(v());
    else if (k === "--log") o.log = true;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return o;
}

async function loadScenarios() {
  const dir = join(ROOT, "bench", "scenarios");
  const all = [];
  for (const f of (await readdir(dir)).filter((f) => f.endsWith(".mjs")).sort()) {
    const mod = await import(pathToFileURL(join(dir, f)).href);
    all.push(...[mod.default].flat());
  }
  return [...all, ...extraRoutes, ...webauthnRoutes];
}

/**
 * `send(i)` for a prepared scenario: one request, answered and read. Handles the load
 * scenarios' shapes: `{ request }`, `{ perConnection(i) }` (autocannon requests with optional
 * setupRequest/onResponse), and timing scenarios' `{ a: { request(i) } }` (the known account).
 */
function sender(url, prepared) {
  let perConn = null;
  const requestFor = (i) => {
    if (prepared.request) return prepared.request;
    if (prepared.perConnection) return (perConn ??= prepared.perConnection(0));
    if (prepared.a?.request) return prepared.a.request(i);
    throw new Error("the scenario prepared no request");
  };
  return async (i) => {
    const base = requestFor(i);
    const req = base.setupRequest ? base.setupRequest({ ...base }) : base;
    const res = await fetch(`${url}${req.path}`, { method: req.method ?? "GET", headers: req.headers ?? {}, redirect: "manual", ...(req.body !== undefined ? { body: req.body } : {}) });
    const text = await res.text();
    if (base.onResponse) base.onResponse(res.status, text);
    return res.status;
  };
}

/**
 * The bundle's modules: esbuild marks each with a `// <path>` line. Answers the sorted start
 * lines with their paths, for looking a frame's line up (`moduleAt`).
 */
function moduleStarts(source, peer = null) {
  const starts = [];
  String(source)
    .split("\n")
    .forEach((line, i) => {
      if (peer) {
        // A peer's bundle (wrangler dev -c bench/peers/<name>/wrangler.toml) names modules
        // relative to the peer's directory: `// ../../../node_modules/...`, `// worker.js`.
        const m = /^\/\/ (?:\.\.\/)*(node_modules\/\S+|worker\.js)$/.exec(line);
        if (m) starts.push([i, m[1] === "worker.js" ? `bench/peers/${peer}/worker.js` : m[1]]);
        return;
      }
      const m = /^\/\/ ((?:src|node_modules)\/\S+)$/.exec(line);
      if (m) starts.push([i, m[1]]);
    });
  return starts;
}

/** The module holding 0-based line `line` of the bundle, or null (the Worker entry's glue). */
function moduleAt(starts, line) {
  let lo = 0;
  let hi = starts.length - 1;
  let found = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid][0] <= line) {
      found = starts[mid][1];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** A module path as the tables show it: the package for node_modules, the path for ours. */
const shortModule = (path) => (path ? (path.startsWith("node_modules/") ? path.replace(/^node_modules\/((?:@[^/]+\/)?[^/]+).*$/, "$1") : path) : "(entry)");

/** miniflare's Durable Object wrapper (its entry and worker scripts): the object's own frames. */
const DO_RUNTIME = /do-wrapper|__mf_do_wrapper/;

/**
 * Self time in OnceGuard's stub calls (src/core/limits/once.ts `claim`, `isClaimed`). Under
 * wrangler dev the first call to a ReplayGuard that does not exist yet (a new caller key's
 * request-id scope) creates the object on the calling frame: about 1.5 ms that on Cloudflare
 * is the object's start, billed to it (found by the "ecdh" helper). The call itself costs
 * microseconds, so the whole self time is counted as Durable Object work.
 */
const doStubCall = (cf, mod) => mod === "src/core/limits/once.ts" && (cf.functionName === "claim" || cf.functionName === "isClaimed");

/**
 * One request's profile, reduced: non-idle samples, of which Durable Object ones; self samples
 * per function and per module; and the gaps between consecutive samples (for the interval).
 * `moduleOf(callFrame)` names a frame's source module (null outside the bundle).
 */
function reduce(profile, moduleOf) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inDo = new Map();
  const durable = (id) => {
    if (inDo.has(id)) return inDo.get(id);
    const p = parent.get(id);
    const cf = byId.get(id).callFrame;
    const v = (moduleOf(cf) ?? "").startsWith("src/durable/") || DO_RUNTIME.test(cf.url) || (p !== undefined && durable(p));
    inDo.set(id, v);
    return v;
  };
  let busy = 0;
  let doBusy = 0;
  const self = new Map();
  const modules = new Map();
  const gaps = [];
  let prevBusy = false;
  profile.samples.forEach((id, i) => {
    const cf = byId.get(id).callFrame;
    const idle = cf.functionName === "(idle)";
    if (i > 0 && prevBusy && !idle && profile.timeDeltas[i] < 1000) gaps.push(profile.timeDeltas[i]);
    prevBusy = !idle;
    if (idle) return;
    busy++;
    if (durable(id) || doStubCall(cf, moduleOf(cf))) doBusy++;
    // A native function (crypto.subtle's, Response) is charged to the module calling it.
    let mod = moduleOf(cf);
    for (let p = parent.get(id); !cf.url && mod === null && p !== undefined; p = parent.get(p)) mod = moduleOf(byId.get(p).callFrame);
    const where = shortModule(mod);
    const key = cf.url ? `${cf.functionName || "(anonymous)"} [${where}:${cf.lineNumber + 1}]` : `${cf.functionName || "(native)"} [${where}]`;
    self.set(key, (self.get(key) ?? 0) + 1);
    modules.set(where, (modules.get(where) ?? 0) + 1);
  });
  return { busy, doBusy, self, modules, gaps };
}

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const quantile = (xs, q) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length - 1, Math.floor(q * v.length))] : null;
};
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const fmt = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d));

/**
 * Connects to one Worker's inspector (ours or a peer's) and readies its profiler: enabled, the
 * interval asked (V8 takes microseconds; what it achieves is measured, see the header), and the
 * bundle's module markers for `moduleOf(callFrame)` (`peer`: the peer's name, whose bundle
 * names modules relative to bench/peers/<name>/). Every Worker gets exactly this, so their
 * figures come from the same instrument.
 */
async function attach(port, interval, peer = null) {
  const ins = await connectInspector(port);
  await ins.send("Profiler.enable");
  await ins.send("Profiler.setSamplingInterval", { interval });

  // The bundle, once, for the module ranges: Debugger.enable replays a scriptParsed event per
  // script, the bundle's with its file:// URL under .wrangler/tmp (profiles name it by script
  // id). (Debugger.getScriptSource of the 4 MB bundle never answered through wrangler's
  // inspector proxy.) The Debugger domain is off again before anything is measured.
  const parsed = [];
  ins.on("Debugger.scriptParsed", (p) => parsed.push(p));
  await ins.send("Debugger.enable");
  await new Promise((r) => setTimeout(r, 500));
  await ins.send("Debugger.disable");
  const script = parsed.find((p) => /^file:.*\/\.wrangler\/tmp\/.*\.js$/.test(p.url));
  let starts = [];
  let bundleId = null;
  if (script) {
    try {
      starts = moduleStarts(await readFile(new URL(script.url)), peer);
      bundleId = script.scriptId;
    } catch (e) {
      console.log(`(the bundle at ${script.url} could not be read: ${e instanceof Error ? e.message : e})`);
    }
  }
  const moduleOf = (cf) => (cf.scriptId === bundleId ? moduleAt(starts, cf.lineNumber) : null);
  return { ins, starts, moduleOf };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const scenarios = await loadScenarios();
  const routes = ROUTES.filter(([name]) => !o.only || o.only.includes(name)).map(([name, extra]) => {
    const s = scenarios.find((x) => x.name === name);
    if (!s) throw new Error(`no scenario or extra route named ${name}`);
    return { s, derivations: extra?.derivations ?? 0 };
  });
  // The peers a selected route names, started like run.mjs starts them (and only then).
  const peerNames = [...new Set(routes.map((r) => r.s.peer).filter(Boolean))];
  const benchUsers = Array.from({ length: o.users }, (_, i) => ({ username: `bench-${i + 1}`, password: randomSecret(18) }));
  const vars = { BOOTSTRAP_SYSTEM_LICENSE: randomSecret(32) };
  const settings = Object.assign({}, ...routes.map((r) => r.s.tenantSettings ?? {}));
  console.log("Starting the Worker (wrangler dev, fresh persist dir)...");
  const w = await startLocalWorker({ extraUsers: benchUsers, log: o.log, vars, ...(Object.keys(settings).length ? { settings } : {}) });
  const results = [];
  /** @type {Record<string, { url: string, stop: () => Promise<void>, inspectorPort: () => number }>} */
  const peers = {};
  /** Per Worker ("ours" or a peer's name): its inspector and module lookup (attach). */
  const profilers = {};
  try {
    for (const name of peerNames) {
      console.log(`Starting the peer ${name} (bench/peers/${name}, wrangler dev, fresh persist dir)...`);
      peers[name] = await startPeerWorker(name, { log: o.log });
    }
    const fetchJson = jsonFetcher(w.url);
    const ctx = { url: w.url, demo: w.demo, vars, benchUsers, connections: benchUsers.length, fetchJson, peers: Object.fromEntries(Object.entries(peers).map(([k, p]) => [k, { url: p.url }])) };
    profilers.ours = await attach(w.inspectorPort(), o.interval);
    if (!profilers.ours.starts.some(([, p]) => p.startsWith("src/durable/"))) console.log("(no src/durable/ modules found in the bundle: Durable Object work is not separated)");
    for (const [name, p] of Object.entries(peers)) {
      profilers[name] = await attach(p.inspectorPort(), o.interval, name);
      if (!profilers[name].starts.length) console.log(`(the peer ${name}'s bundle gave no module markers: its modules show as (entry))`);
    }

    console.log(`Worker at ${w.url}${peerNames.length ? `, peers ${peerNames.map((n) => `${n} at ${peers[n].url}`).join(", ")}` : ""}; ${o.n} profiled requests per route after ${o.warmup} warm-up, sampling interval asked ${o.interval} µs; node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"})\n`);
    for (const { s, derivations } of routes) {
      process.stdout.write(`  ${s.name.padEnd(26)} `);
      try {
        const prepared = await s.prepare(ctx);
        if (prepared.beforeRun) await prepared.beforeRun();
        if (prepared.chain) throw new Error("chain scenarios are not profiled");
        // A peer's route goes to its Worker and is profiled over its Worker's inspector.
        const { ins, moduleOf } = profilers[s.peer ?? "ours"];
        const send = sender(s.peer ? peers[s.peer].url : w.url, prepared);
        const statuses = new Map();
        for (let i = 0; i < o.warmup; i++) await send(i);
        const per = [];
        for (let i = 0; i < o.n; i++) {
          await ins.send("Profiler.start");
          const status = await send(o.warmup + i);
          if (o.settle) await new Promise((r) => setTimeout(r, o.settle));
          const { profile } = await ins.send("Profiler.stop");
          // wrangler dev rebuilds and restarts the Worker when a source file changes: the
          // profiler session is gone then, and so is the run (do not edit src/ during one).
          if (!profile) throw new Error("the profiler answered no profile (did the Worker reload?)");
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          per.push(reduce(profile, moduleOf));
        }
        const gaps = per.flatMap((p) => p.gaps);
        const intervalUs = median(gaps) ?? o.interval;
        const ms = (samples) => (samples * intervalUs) / 1000;
        const worker = per.map((p) => ms(p.busy - p.doBusy));
        const all = per.map((p) => ms(p.busy));
        const durableMs = per.map((p) => ms(p.doBusy));
        const self = new Map();
        for (const p of per) for (const [k, v] of p.self) self.set(k, (self.get(k) ?? 0) + v);
        const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, o.top).map(([k, v]) => ({ fn: k, msPerRequest: ms(v) / o.n }));
        const mods = new Map();
        for (const p of per) for (const [k, v] of p.modules) mods.set(k, (mods.get(k) ?? 0) + v);
        const topModules = [...mods].sort((a, b) => b[1] - a[1]).slice(0, o.top).map(([k, v]) => ({ module: k, msPerRequest: ms(v) / o.n }));
        // The password derivations' own CPU, from the same profiles: crypto.subtle.deriveBits
        // (PBKDF2 is the only deriveBits the service calls). Subtracting it per route is steadier
        // than subtracting the pbkdf2 route's figure, measured minutes apart on a shared machine.
        const derive = [...self].filter(([k]) => k.startsWith("deriveBits ")).reduce((n, [, v]) => n + v, 0);
        const r = {
          name: s.name,
          label: s.label,
          ...(s.peer ? { peer: s.peer } : {}),
          n: o.n,
          statuses: Object.fromEntries(statuses),
          intervalUs,
          derivations,
          deriveBitsMs: ms(derive) / o.n,
          worker: { p50: median(worker), mean: mean(worker), p90: quantile(worker, 0.9), max: Math.max(...worker) },
          total: { p50: median(all), mean: mean(all) },
          durable: { mean: mean(durableMs) },
          top,
          topModules,
        };
        results.push(r);
        const bad = [...statuses.keys()].filter((c) => c >= 400);
        console.log(`worker p50 ${fmt(r.worker.p50)} ms, mean ${fmt(r.worker.mean)} ms, p90 ${fmt(r.worker.p90)} ms; DO ${r.peer ? "none (peer)" : `mean ${fmt(r.durable.mean)} ms`} (interval ${fmt(intervalUs, 0)} µs)${bad.length ? `  statuses ${JSON.stringify(r.statuses)}` : ""}`);
      } catch (e) {
        results.push({ name: s.name, label: s.label, skipped: e instanceof Error ? e.message : String(e) });
        console.log(`skipped: ${e instanceof Error ? e.message : e}`);
      }
    }
  } finally {
    for (const p of Object.values(profilers)) p.ins.close();
    for (const p of Object.values(peers)) await p.stop();
    await w.stop();
  }

  console.log(`\nCPU per request (ms; the Worker's isolate, Durable Object work apart; ${o.n} requests each)`);
  console.log(`"-PBKDF2": the mean less the route's own crypto.subtle.deriveBits time (same profiles)`);
  if (peerNames.length) console.log(`peer rows (${peerNames.join(", ")}): the peer's own Worker, same instrument; peers have no Durable Objects (DO: none)`);
  console.log("");
  console.log(`  ${"route".padEnd(26)} ${"p50".padStart(6)} ${"mean".padStart(6)} ${"p90".padStart(6)} ${"-PBKDF2".padStart(8)} ${"DO".padStart(6)}  over 5 ms?`);
  for (const r of results) {
    if (r.skipped) {
      console.log(`  ${r.name.padEnd(26)} skipped: ${r.skipped}`);
      continue;
    }
    const minus = r.derivations ? r.worker.mean - r.deriveBitsMs : null;
    const judged = r.derivations ? (r.name === "pbkdf2" ? null : minus) : r.worker.mean;
    // The 5 ms line is our budget (issue 12), not the peers': their rows are for comparison.
    const over = r.peer ? "(peer)" : judged === null ? "(the derivation)" : judged > 5 ? "YES" : "no";
    r.minusPbkdf2 = minus;
    const doCol = r.peer ? "none" : fmt(r.durable.mean);
    console.log(`  ${r.name.padEnd(26)} ${fmt(r.worker.p50).padStart(6)} ${fmt(r.worker.mean).padStart(6)} ${fmt(r.worker.p90).padStart(6)} ${fmt(minus).padStart(8)} ${doCol.padStart(6)}  ${over}`);
  }
  console.log(`\nWhere the CPU goes (self time, ms per request, top ${o.top} per route):`);
  for (const r of results.filter((x) => !x.skipped)) {
    console.log(`  ${r.name}${r.peer ? ` (peer ${r.peer})` : ""}`);
    console.log(`    functions: ${r.top.map((t) => `${t.fn} ${fmt(t.msPerRequest)}`).join("; ")}`);
    console.log(`    modules:   ${r.topModules.map((t) => `${t.module} ${fmt(t.msPerRequest)}`).join("; ")}`);
  }
  if (o.json) {
    await writeFile(o.json, JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, options: o, results }, null, 2));
    console.log(`\nwrote ${o.json}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

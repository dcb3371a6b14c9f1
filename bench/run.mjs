#!/usr/bin/env node
// `npm run bench [-- --duration 8 --connections 10 --only ping,login --json out.json --probe]`
//
// Starts a throwaway Worker with the e2e harness (wrangler dev, its own persist dir, seeded
// demo tenant plus one benchmark user per connection), then runs every scenario in
// bench/scenarios/*.mjs with autocannon, one after another in the same run, and prints
// requests/s, p50 and p99 and each as a ratio to the baseline scenario (the bare JSON route).
// Ratios, not absolute rates, are what to compare: `wrangler dev` itself is the ceiling.
//
// A scenario module default-exports:
//   { name, label, baseline?, budget?: { minRatio } | { maxOverhead }, compareLatencyWith?,
//     connections?, prepare(ctx) -> { request } | { perConnection(i) -> request } }
// where a request is an autocannon request ({ method, path, headers, body, setupRequest,
// onResponse }). `perConnection` gives each connection its own request object, so state
// (a refresh-token chain) can live in a closure per connection.
import autocannon from "autocannon";
import { readdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, randomSecret, startLocalWorker } from "../scripts/lib/worker.mjs";

function parseArgs(argv) {
  const o = { duration: 8, warmup: 2, connections: 10, only: null, json: null, log: false, probe: false, probeSeconds: 3 };
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i].split("=", 2);
    const v = () => inline ?? argv[++i];
    if (k === "--duration") o.duration = Number(v());
    else if (k === "--warmup") o.warmup = Number(v());
    else if (k === "--connections") o.connections = Number(v());
    else if (k === "--only") o.only = v().split(",");
    else if (k === "--json") o.json = v();
    else if (k === "--log") o.log = true;
    else if (k === "--probe") o.probe = true;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return o;
}

async function loadScenarios(only) {
  const dir = join(ROOT, "bench", "scenarios");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".mjs")).sort();
  const all = [];
  for (const f of files) {
    const mod = await import(pathToFileURL(join(dir, f)).href);
    all.push(mod.default);
  }
  const wanted = (s) => !only || s.baseline || only.includes(s.name) || all.some((x) => only.includes(x.name) && x.compareLatencyWith === s.name);
  return all.filter(wanted);
}

/** Runs autocannon once; `prepared` is a scenario's prepare() result. */
async function cannon(url, prepared, connections, duration) {
  let n = 0;
  const opts = { url, connections, duration, pipelining: 1, timeout: 20 };
  if (prepared.perConnection) {
    const first = prepared.perConnection(0);
    opts.requests = [{ ...first }];
    opts.setupClient = (client) => client.setRequests([prepared.perConnection(n++)]);
  } else {
    opts.requests = [prepared.request];
  }
  const r = await autocannon(opts);
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    statusCodes: r.statusCodeStats,
  };
}

/**
 * Where a route's time goes: each primitive of GET /dev/probe run 10 times per request at one
 * connection; its cost is (mean latency - mean latency of op=none) / 10.
 */
async function probe(url, seconds) {
  const ops = ["none", "do-read", "do-write", "kv-get", "kv-put", "d1-read", "sign"];
  const N = 10;
  const mean = {};
  console.log(`\n  probing primitives (${N} per request, one connection, ${seconds} s each)`);
  for (const op of ops) {
    const req = { url: `${url}/dev/probe?op=${op}&n=${N}`, connections: 1, pipelining: 1 };
    await autocannon({ ...req, duration: 1 });
    const r = await autocannon({ ...req, duration: seconds });
    if (r.non2xx) throw new Error(`probe ${op} answered non-2xx`);
    mean[op] = r.latency.mean;
  }
  return ops.filter((op) => op !== "none").map((op) => ({ op, ms: Math.max(0, (mean[op] - mean.none) / N) }));
}

const fmt = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d));
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const scenarios = await loadScenarios(o.only);
  const benchUsers = Array.from({ length: o.connections }, (_, i) => ({ username: `bench-${i + 1}`, password: randomSecret(18) }));
  console.log(`Starting the Worker (wrangler dev, fresh persist dir) with ${benchUsers.length} benchmark users...`);
  const w = await startLocalWorker({ extraUsers: benchUsers, log: o.log });
  const started = Date.now();
  const results = [];
  const pairs = [];
  let probes = null;
  try {
    const fetchJson = async (method, path, body, headers = {}) => {
      const h = { ...headers };
      let payload;
      if (typeof body === "string") payload = body;
      else if (body !== undefined) {
        payload = JSON.stringify(body);
        h["content-type"] ??= "application/json";
      }
      const res = await fetch(`${w.url}${path}`, { method, headers: h, ...(payload !== undefined ? { body: payload } : {}) });
      const text = await res.text();
      let parsed;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { raw: text };
      }
      return { status: res.status, body: parsed };
    };
    const ctx = { url: w.url, demo: w.demo, benchUsers, connections: o.connections, fetchJson };
    console.log(`Worker at ${w.url}; ${o.connections} connections, ${o.warmup} s warm-up + ${o.duration} s per scenario, node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"})\n`);
    const prepared = new Map();
    for (const s of scenarios) {
      const connections = s.connections ?? o.connections;
      process.stdout.write(`  ${pad(s.name, 20)} `);
      try {
        const p = await s.prepare(ctx);
        prepared.set(s.name, p);
        if (o.warmup > 0) await cannon(w.url, p, connections, o.warmup);
        const r = await cannon(w.url, p, connections, o.duration);
        results.push({ scenario: s, connections, ...r });
        const codes = Object.entries(r.statusCodes ?? {})
          .filter(([code]) => !code.startsWith("2"))
          .map(([code, v]) => `${code}: ${v.count}`)
          .join(", ");
        console.log(`${fmt(r.rps, 0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms${r.non2xx || r.errors ? `  (non-2xx ${r.non2xx}${codes ? ` [${codes}]` : ""}, errors ${r.errors})` : ""}`);
      } catch (e) {
        results.push({ scenario: s, skipped: e instanceof Error ? e.message : String(e) });
        console.log(`skipped: ${e instanceof Error ? e.message : e}`);
      }
    }
    // Latency pairs at one connection: no queueing, so the difference is the extra work.
    for (const s of scenarios.filter((x) => x.compareLatencyWith && prepared.has(x.name) && prepared.has(x.compareLatencyWith))) {
      const other = s.compareLatencyWith;
      process.stdout.write(`  ${pad(`${s.name} vs ${other}`, 20)} (1 connection) `);
      const a = await cannon(w.url, prepared.get(s.name), 1, o.duration);
      const b = await cannon(w.url, prepared.get(other), 1, o.duration);
      pairs.push({ scenario: s, other, a, b });
      console.log(`p50 ${a.p50} ms vs ${b.p50} ms`);
    }
    if (o.probe) probes = await probe(w.url, o.probeSeconds);
  } finally {
    await w.stop();
  }

  const base = results.find((r) => r.scenario.baseline && !r.skipped);
  const ratio = (x, y) => (base && y ? x / y : null);
  console.log(`\nResults (ratios to the baseline "${base?.scenario.name ?? "?"}", measured in this run)\n`);
  const head = `${pad("scenario", 34)}${lpad("req/s", 9)}${lpad("p50 ms", 8)}${lpad("p99 ms", 8)}${lpad("req/s x", 9)}${lpad("p50 x", 8)}${lpad("p99 x", 8)}${lpad("non2xx", 8)}  budget`;
  console.log(head);
  console.log("-".repeat(head.length + 12));
  const rows = [];
  for (const r of results) {
    if (r.skipped) {
      console.log(`${pad(r.scenario.label ?? r.scenario.name, 34)} skipped: ${r.skipped}`);
      continue;
    }
    const rr = ratio(r.rps, base?.rps);
    let verdict = "";
    if (r.scenario.budget?.minRatio !== undefined && rr !== null) verdict = `${rr >= r.scenario.budget.minRatio ? "ok" : "MISSED"} (>= ${r.scenario.budget.minRatio}x)`;
    rows.push({ name: r.scenario.name, rps: r.rps, p50: r.p50, p99: r.p99, rpsRatio: rr, p50Ratio: ratio(r.p50, base?.p50), p99Ratio: ratio(r.p99, base?.p99), non2xx: r.non2xx, errors: r.errors, connections: r.connections, budget: verdict });
    console.log(
      `${pad(r.scenario.label ?? r.scenario.name, 34)}${lpad(fmt(r.rps, 0), 9)}${lpad(r.p50, 8)}${lpad(r.p99, 8)}${lpad(fmt(rr, 2), 9)}${lpad(fmt(ratio(r.p50, base?.p50), 2), 8)}${lpad(fmt(ratio(r.p99, base?.p99), 2), 8)}${lpad(r.non2xx, 8)}  ${verdict}`,
    );
  }
  const pairRows = [];
  for (const p of pairs) {
    const overhead = p.b.p50 ? (p.a.p50 - p.b.p50) / p.b.p50 : null;
    const max = p.scenario.budget?.maxOverhead;
    const verdict = max !== undefined && overhead !== null ? `${overhead <= max ? "ok" : "MISSED"} (<= ${Math.round(max * 100)}%)` : "";
    pairRows.push({ name: p.scenario.name, other: p.other, p50: p.a.p50, p99: p.a.p99, otherP50: p.b.p50, otherP99: p.b.p99, overhead, budget: verdict });
    console.log(
      `\n${p.scenario.name} beside ${p.other}, one connection: p50 ${p.a.p50} ms vs ${p.b.p50} ms, p99 ${p.a.p99} ms vs ${p.b.p99} ms; ` +
        `(p50 difference) / ${p.other} p50 = ${fmt(overhead === null ? null : overhead * 100, 0)}%  ${verdict}`,
    );
  }
  if (probes) {
    console.log("\nCost of one primitive (ms, mean, one connection):");
    for (const p of probes) console.log(`  ${pad(p.op, 10)} ${lpad(p.ms < 0.05 ? "< 0.05" : fmt(p.ms, 2), 7)}`);
  }
  console.log(`\n(${Math.round((Date.now() - started) / 1000)} s of load)`);
  if (o.json) {
    await writeFile(o.json, JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, options: o, results: rows, pairs: pairRows, probes }, null, 2));
    console.log(`wrote ${o.json}`);
  }
}

// Ctrl-C: exit through process.exit, so the harness's exit hook ends wrangler and its files.
for (const sig of ["SIGINT", "SIGTERM"]) process.once(sig, () => process.exit(130));

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

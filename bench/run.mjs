#!/usr/bin/env node
// `npm run bench [-- --duration 5 --rounds 1 --connections 10 --only ping,login --json out.json --probe --samples 100]`
//
// Starts a throwaway Worker with the e2e harness (wrangler dev, its own persist dir, seeded
// demo tenant plus one benchmark user per connection), then runs every scenario in
// bench/scenarios/*.mjs with autocannon, one after another in the same run, and prints
// requests/s, p50 and p99 and each as a ratio to the baseline scenario (the bare JSON route).
// Ratios, not absolute rates, are what to compare: `wrangler dev` itself is the ceiling.
//
// The baseline is measured again right before each scenario, and each ratio is taken against
// that adjacent baseline: on a shared machine the baseline alone moved by a third between
// minutes, which a single baseline at the start turned into ratio swings of 0.3. With
// `--rounds N` every scenario (and its adjacent baseline) runs N times and the median ratio is
// reported.
//
// A scenario module default-exports:
//   { name, label, baseline?, budget?: { minRatio } | { maxOverhead } | { maxPerOpMs }, compareLatencyWith?, perOp?,
//     connections?, prepare(ctx) -> { request } | { perConnection(i) -> request }, beforeRun?() }
// where a request is an autocannon request ({ method, path, headers, body, setupRequest,
// onResponse }). `perConnection` gives each connection its own request object, so state
// (a refresh-token chain) can live in a closure per connection.
//
// A scenario with `peer: "openauth" | "better-auth"` is load on that peer's Worker
// (bench/peers/<name>/, started here like ours when a selected scenario names it); its adjacent
// baseline is still our GET /ping. prepare() may return `{ chain(i) }` instead of a request: a
// login of several requests, driven and timed whole by bench/lib/chain.mjs (its adjacent
// baseline then goes through the same runner).
//
// `--versus a:b[,c:d] [--pairs 8 --window 2]` (head-to-head, bench/lib/versus.mjs): instead of
// the rows above, each named pair of scenarios is measured against each other directly, in
// alternating `--window`-second runs (ab, ba, ab, ...) after a warm-up of each, with the same
// autocannon settings and connections as the rows; per pair of runs the ratio req/s(a)/req/s(b),
// then the median ratio, its range and in how many pairs a was faster. Without `--versus`
// nothing of this runs. `--direct` (with --versus): the load goes to each Worker's runtime
// itself, not through wrangler's dev proxy (bench/lib/direct-url.mjs says why).
import autocannon from "autocannon";
import { readdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, randomSecret, startLocalWorker } from "../scripts/lib/worker.mjs";
import { requestAsChain, runChains } from "./lib/chain.mjs";
import { startPeerWorker } from "./lib/peers.mjs";
import { measureTiming } from "./lib/timing.mjs";
import { jsonFetcher } from "./lib/fetch-json.mjs";
import { cpuDelta, groupCpuMs } from "./lib/process-cpu.mjs";
import { directUrl } from "./lib/direct-url.mjs";
import { parseVersus, refusal, runVersus, summaryLines } from "./lib/versus.mjs";

function parseArgs(argv) {
  const o = { duration: 5, warmup: 1, rounds: 1, connections: 10, only: null, json: null, log: false, probe: false, probeSeconds: 3, samples: 100, versus: null, window: 2, pairs: 8 };
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i].split("=", 2);
    const v = () => inline ?? argv[++i];
    if (k === "--duration") o.duration = Number(v());
    else if (k === "--warmup") o.warmup = Number(v());
    else if (k === "--connections") o.connections = Number(v());
    else if (k === "--rounds") o.rounds = Math.max(1, Number(v()));
    else if (k === "--only") o.only = v().split(",");
    else if (k === "--json") o.json = v();
    else if (k === "--log") o.log = true;
    else if (k === "--probe") o.probe = true;
    else if (k === "--samples") o.samples = Math.max(30, Number(v()));
    else if (k === "--versus") o.versus = parseVersus(v());
    else if (k === "--window") o.window = Math.max(1, Number(v()));
    else if (k === "--pairs") o.pairs = Math.max(1, Math.round(Number(v())));
    else if (k === "--direct") o.direct = true;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  // --versus names its own scenarios; --only beside it would leave it unclear which run.
  if (o.versus && o.only) throw new Error("--versus selects its scenarios itself: leave --only out");
  if (o.direct && !o.versus) throw new Error("--direct applies to --versus only");
  if (!Number.isFinite(o.window) || !Number.isFinite(o.pairs)) throw new Error("--window and --pairs take numbers");
  return o;
}

async function loadScenarios(only) {
  const dir = join(ROOT, "bench", "scenarios");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".mjs")).sort();
  const all = [];
  for (const f of files) {
    const mod = await import(pathToFileURL(join(dir, f)).href);
    // A module may export one scenario or several (a family measured side by side).
    all.push(...[mod.default].flat());
  }
  const wanted = (s) => !only || s.baseline || only.includes(s.name) || all.some((x) => only.includes(x.name) && x.compareLatencyWith === s.name);
  return all.filter(wanted);
}

/** Runs autocannon once; `prepared` is a scenario's prepare() result. */
async function cannon(url, prepared, connections, duration) {
  let n = 0;
  if (prepared.beforeRun) await prepared.beforeRun();
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

/** The median of the numbers in `xs` (nulls ignored), or null. */
function median(xs) {
  const v = xs.filter((x) => typeof x === "number" && !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

const fmt = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d));
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

/** The scenarios `--versus` names, exactly those (no baseline beside them); an unknown name is an error. */
async function versusScenarios(pairs) {
  const all = await loadScenarios(null);
  const names = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const unknown = names.filter((n) => !all.some((s) => s.name === n));
  if (unknown.length) throw new Error(`--versus: no scenario named ${unknown.join(", ")} (scenarios: ${all.map((s) => s.name).join(", ")})`);
  return all.filter((s) => names.includes(s.name));
}

/**
 * The head-to-head mode (bench/lib/versus.mjs): every pair in turn, both sides through `measure`
 * (autocannon, as the rows) at the same connections; prints each pair's runs and summary, and
 * writes them to --json.
 */
async function versus(o, scenarios, ctx, measure) {
  const byName = (n) => scenarios.find((s) => s.name === n);
  console.log(`Worker at ${ctx.url}; head-to-head: ${o.pairs} pairs of ${o.window} s windows per pair of scenarios, order alternating, ${o.warmup} s warm-up of each; node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"})\n`);
  const prepared = new Map();
  const out = [];
  for (const { a, b } of o.versus) {
    const sa = byName(a);
    const sb = byName(b);
    console.log(`  ${a} vs ${b}`);
    try {
      for (const s of [sa, sb]) {
        if (!prepared.has(s.name)) prepared.set(s.name, s.timing ? {} : await s.prepare(ctx));
        const why = refusal(s, prepared.get(s.name));
        if (why) throw new Error(why);
      }
      // A rate depends on the connections behind it: both sides get the same, as the rows do.
      const ca = sa.connections ?? o.connections;
      const cb = sb.connections ?? o.connections;
      if (ca !== cb) throw new Error(`${a} runs at ${ca} connections and ${b} at ${cb}: their rates do not compare`);
      const v = await runVersus(sa, prepared.get(a), sb, prepared.get(b), { measure, connections: ca, window: o.window, pairs: o.pairs, warmup: o.warmup, log: (l) => console.log(l) });
      out.push(v);
    } catch (e) {
      out.push({ a, b, skipped: e instanceof Error ? e.message : String(e) });
      console.log(`    skipped: ${e instanceof Error ? e.message : e}`);
    }
  }
  console.log(`\nHead-to-head (ratio = req/s of a / req/s of b in the same pair of windows; > 1: a faster)\n`);
  for (const v of out) {
    if (v.skipped) console.log(`${v.a} vs ${v.b}: skipped: ${v.skipped}\n`);
    else console.log(`${summaryLines(v).join("\n")}\n`);
  }
  if (o.json) {
    await writeFile(o.json, JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, options: o, versus: out }, null, 2));
    console.log(`wrote ${o.json}`);
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const scenarios = o.versus ? await versusScenarios(o.versus) : await loadScenarios(o.only);
  const benchUsers = Array.from({ length: o.connections }, (_, i) => ({ username: `bench-${i + 1}`, password: randomSecret(18) }));
  console.log(`Starting the Worker (wrangler dev, fresh persist dir) with ${benchUsers.length} benchmark users...`);
  // The bootstrap system license is known to the run, so a scenario may change the demo
  // tenant's settings through the Authn management API (bench/lib/refresh-mode.mjs).
  const vars = { BOOTSTRAP_SYSTEM_LICENSE: randomSecret(32) };
  // Tenant settings a scenario needs (e.g. mail rate limits high enough to measure the 200 path).
  const settings = Object.assign({}, ...scenarios.map((s) => s.tenantSettings ?? {}));
  const w = await startLocalWorker({ extraUsers: benchUsers, log: o.log, vars, ...(Object.keys(settings).length ? { settings } : {}) });
  const peers = {};
  const stopPeers = async () => {
    for (const p of Object.values(peers)) await p.stop();
  };
  try {
    for (const name of [...new Set(scenarios.map((s) => s.peer).filter(Boolean))]) {
      console.log(`Starting the peer ${name} (bench/peers/${name}, wrangler dev, fresh persist dir)...`);
      peers[name] = await startPeerWorker(name, { log: o.log });
    }
  } catch (e) {
    await stopPeers();
    await w.stop();
    throw e;
  }
  let urlOf = (s) => (s.peer ? peers[s.peer].url : w.url);
  /** One run of a prepared scenario: autocannon, or the chain runner for multi-request logins. */
  const measure = (s, p, connections, duration) => (p.chain ? runChains(urlOf(s), p, connections, duration) : cannon(urlOf(s), p, connections, duration));
  const started = Date.now();
  const results = [];
  const pairs = [];
  const timings = [];
  let probes = null;
  try {
    const fetchJson = jsonFetcher(w.url);
    const ctx = { url: w.url, demo: w.demo, vars, benchUsers, connections: o.connections, fetchJson, peers: Object.fromEntries(Object.entries(peers).map(([k, p]) => [k, { url: p.url }])) };
    if (o.versus) {
      // Head-to-head also charges each window the CPU its Worker's processes spent
      // (bench/lib/process-cpu.mjs): a steadier figure than the rate on a shared machine.
      const pgidOf = (s) => (s.peer ? peers[s.peer].pid() : w.pid());
      if (o.direct) {
        const direct = { ours: await directUrl(w.pid(), w.url) };
        for (const [name, p] of Object.entries(peers)) direct[name] = await directUrl(p.pid(), p.url);
        const missing = Object.entries(direct).filter(([, u]) => !u).map(([n]) => n);
        if (missing.length) throw new Error(`--direct: no runtime URL found for ${missing.join(", ")} (Linux /proc only)`);
        console.log(`--direct: ${Object.entries(direct).map(([n, u]) => `${n} ${u}`).join(", ")} (wrangler's proxy bypassed)`);
        urlOf = (s) => (s.peer ? direct[s.peer] : direct.ours);
      }
      const measureWithCpu = async (s, p, connections, duration) => {
        const before = await groupCpuMs(pgidOf(s));
        const r = await measure(s, p, connections, duration);
        const d = cpuDelta(before, await groupCpuMs(pgidOf(s)));
        const n = r.total ?? 0;
        return { ...r, cpuMsPerRequest: d && n > 0 ? d.total / n : null, workerdMsPerRequest: d && n > 0 ? d.workerd / n : null };
      };
      await versus(o, scenarios, ctx, measureWithCpu);
      return; // the finally below stops the Workers
    }
    console.log(`Worker at ${w.url}; ${o.connections} connections, ${o.warmup} s warm-up + ${o.duration} s per scenario, node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"})\n`);
    const prepared = new Map();
    const baseline = scenarios.find((s) => s.baseline);
    if (!baseline) throw new Error("no baseline scenario");
    const baselinePrepared = await baseline.prepare(ctx);
    prepared.set(baseline.name, baselinePrepared);
    await cannon(w.url, baselinePrepared, o.connections, Math.max(1, o.warmup));
    const baselineChain = { chain: requestAsChain(baselinePrepared.request) };
    const runs = new Map(); // scenario name -> [{ r, b }] per round (b: the adjacent baseline run)
    for (let round = 1; round <= o.rounds; round++) {
      if (o.rounds > 1) console.log(`  round ${round} of ${o.rounds}`);
      for (const s of scenarios.filter((x) => !x.baseline && !x.timing)) {
        const connections = s.connections ?? o.connections;
        process.stdout.write(`  ${pad(s.name, 20)} `);
        try {
          if (!prepared.has(s.name)) {
            prepared.set(s.name, await s.prepare(ctx));
          }
          const p = prepared.get(s.name);
          if (o.warmup > 0) await measure(s, p, connections, o.warmup);
          const b = p.chain ? await runChains(w.url, baselineChain, connections, o.duration) : await cannon(w.url, baselinePrepared, connections, o.duration);
          const r = await measure(s, p, connections, o.duration);
          if (!runs.has(s.name)) runs.set(s.name, []);
          runs.get(s.name).push({ r, b, connections });
          const codes = Object.entries(r.statusCodes ?? {})
            .filter(([code]) => !code.startsWith("2"))
            .map(([code, v]) => `${code}: ${v.count}`)
            .join(", ");
          console.log(`${fmt(r.rps, 0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms (baseline beside it: ${fmt(b.rps, 0)} req/s)${r.non2xx || r.errors ? `  (non-2xx ${r.non2xx}${codes ? ` [${codes}]` : ""}, errors ${r.errors})` : ""}`);
          for (const f of r.failures ?? []) console.log(`      a failed chain: ${f}`);
        } catch (e) {
          if (!results.some((x) => x.scenario === s)) results.push({ scenario: s, skipped: e instanceof Error ? e.message : String(e) });
          console.log(`skipped: ${e instanceof Error ? e.message : e}`);
        }
      }
    }
    // One row per scenario: medians over rounds of its rates and of its ratios to the adjacent baseline.
    const allBase = [...runs.values()].flat().map((x) => x.b);
    results.unshift({ scenario: baseline, connections: o.connections, rps: median(allBase.map((b) => b.rps)), p50: median(allBase.map((b) => b.p50)), p99: median(allBase.map((b) => b.p99)), non2xx: allBase.reduce((n, b) => n + b.non2xx, 0), errors: allBase.reduce((n, b) => n + b.errors, 0), ratios: { rps: 1, p50: 1, p99: 1 } });
    for (const s of scenarios.filter((x) => !x.baseline)) {
      const rs = runs.get(s.name);
      if (!rs) continue;
      results.push({
        scenario: s,
        connections: rs[0].connections,
        rps: median(rs.map((x) => x.r.rps)),
        p50: median(rs.map((x) => x.r.p50)),
        p99: median(rs.map((x) => x.r.p99)),
        non2xx: rs.reduce((n, x) => n + x.r.non2xx, 0),
        errors: rs.reduce((n, x) => n + x.r.errors, 0),
        ratios: { rps: median(rs.map((x) => x.r.rps / x.b.rps)), p50: median(rs.map((x) => (x.b.p50 ? x.r.p50 / x.b.p50 : null))), p99: median(rs.map((x) => (x.b.p99 ? x.r.p99 / x.b.p99 : null))) },
      });
    }
    // Latency pairs at one connection: no queueing, so the difference is the extra work.
    // Alternated over the rounds; the median overhead is reported.
    for (const s of scenarios.filter((x) => x.compareLatencyWith && prepared.has(x.name) && prepared.has(x.compareLatencyWith))) {
      const other = s.compareLatencyWith;
      const otherScenario = scenarios.find((x) => x.name === other);
      // When one side is a chain (or the scenario asks, `chainPair`), both go through the chain
      // runner: same client overhead, and latencies to 0.1 ms instead of autocannon's whole ms.
      const pa = prepared.get(s.name);
      const pb = prepared.get(other);
      const chains = Boolean(pa.chain || pb.chain || s.chainPair);
      const asChain = (p) => (p.chain ? p : { chain: requestAsChain(p.request ?? p.perConnection(0)) });
      const ab = [];
      for (let round = 1; round <= o.rounds; round++) {
        process.stdout.write(`  ${pad(`${s.name} vs ${other}`, 20)} (1 connection) `);
        const a = chains ? await runChains(urlOf(s), asChain(pa), 1, o.duration) : await cannon(urlOf(s), pa, 1, o.duration);
        const b = chains ? await runChains(urlOf(otherScenario), asChain(pb), 1, o.duration) : await cannon(urlOf(otherScenario), pb, 1, o.duration);
        ab.push({ a, b });
        console.log(`p50 ${a.p50} ms vs ${b.p50} ms`);
      }
      const pick = (k) => ({ p50: median(ab.map((x) => x[k].p50)), p99: median(ab.map((x) => x[k].p99)) });
      pairs.push({ scenario: s, other, a: pick("a"), b: pick("b"), overhead: median(ab.map((x) => (x.b.p50 ? (x.a.p50 - x.b.p50) / x.b.p50 : null))), diffMs: median(ab.map((x) => x.a.p50 - x.b.p50)) });
    }
    // Timing scenarios: two kinds of request on one route, one connection (bench/lib/timing.mjs).
    for (const s of scenarios.filter((x) => x.timing)) {
      process.stdout.write(`  ${pad(s.name, 20)} (timing, ${o.samples} of each kind per phase) `);
      try {
        const t = await measureTiming(w.url, await s.prepare(ctx), { samples: o.samples });
        timings.push({ scenario: s, ...t });
        console.log(`interleaved p50 ${fmt(t.interleaved.a.p50, 2)} vs ${fmt(t.interleaved.b.p50, 2)} ms; blocks ${fmt(t.blocks.a.p50, 2)} vs ${fmt(t.blocks.b.p50, 2)} ms`);
      } catch (e) {
        results.push({ scenario: s, skipped: e instanceof Error ? e.message : String(e) });
        console.log(`skipped: ${e instanceof Error ? e.message : e}`);
      }
    }
    if (o.probe) probes = await probe(w.url, o.probeSeconds);
  } finally {
    await stopPeers();
    await w.stop();
  }

  const base = results.find((r) => r.scenario.baseline && !r.skipped);
  console.log(`\nResults (ratios to the baseline "${base?.scenario.name ?? "?"}" measured right before each scenario${o.rounds > 1 ? `; medians of ${o.rounds} rounds` : ""})\n`);
  const head = `${pad("scenario", 34)}${lpad("req/s", 9)}${lpad("p50 ms", 8)}${lpad("p99 ms", 8)}${lpad("req/s x", 9)}${lpad("p50 x", 8)}${lpad("p99 x", 8)}${lpad("non2xx", 8)}  budget`;
  console.log(head);
  console.log("-".repeat(head.length + 12));
  const rows = [];
  for (const r of results) {
    if (r.skipped) {
      console.log(`${pad(r.scenario.label ?? r.scenario.name, 34)} skipped: ${r.skipped}`);
      continue;
    }
    const rr = r.ratios.rps;
    let verdict = "";
    if (r.scenario.budget?.minRatio !== undefined && rr !== null) verdict = `${rr >= r.scenario.budget.minRatio ? "ok" : "MISSED"} (>= ${r.scenario.budget.minRatio}x)`;
    rows.push({ name: r.scenario.name, ...(r.scenario.peer ? { peer: r.scenario.peer } : {}), rps: r.rps, p50: r.p50, p99: r.p99, rpsRatio: rr, p50Ratio: r.ratios.p50, p99Ratio: r.ratios.p99, non2xx: r.non2xx, errors: r.errors, connections: r.connections, budget: verdict });
    console.log(
      `${pad(r.scenario.label ?? r.scenario.name, 34)}${lpad(fmt(r.rps, 0), 9)}${lpad(r.p50, 8)}${lpad(r.p99, 8)}${lpad(fmt(rr, 2), 9)}${lpad(fmt(r.ratios.p50, 2), 8)}${lpad(fmt(r.ratios.p99, 2), 8)}${lpad(r.non2xx, 8)}  ${verdict}`,
    );
  }
  const pairRows = [];
  for (const p of pairs) {
    const overhead = p.overhead;
    const max = p.scenario.budget?.maxOverhead;
    const verdict = max !== undefined && overhead !== null ? `${overhead <= max ? "ok" : "MISSED"} (<= ${Math.round(max * 100)}%)` : "";
    // `perOp: N`: the scenario does N operations per request that `other` does not (a dev route's
    // loop, bench/scenarios/90-policy.mjs), so (p50 difference) / N is one operation's time.
    const perOpMs = p.scenario.perOp && p.diffMs !== null ? p.diffMs / p.scenario.perOp : null;
    const opVerdict = perOpMs !== null && p.scenario.budget?.maxPerOpMs !== undefined ? `${perOpMs <= p.scenario.budget.maxPerOpMs ? "ok" : "MISSED"} (<= ${p.scenario.budget.maxPerOpMs} ms)` : "";
    pairRows.push({ name: p.scenario.name, other: p.other, p50: p.a.p50, p99: p.a.p99, otherP50: p.b.p50, otherP99: p.b.p99, overhead, diffMs: p.diffMs, ...(perOpMs !== null ? { perOpMs } : {}), budget: verdict || opVerdict });
    console.log(
      `\n${p.scenario.name} beside ${p.other}, one connection: p50 ${p.a.p50} ms vs ${p.b.p50} ms, p99 ${p.a.p99} ms vs ${p.b.p99} ms; ` +
        (perOpMs !== null
          ? `one operation = (p50 difference) / ${p.scenario.perOp} = ${fmt(perOpMs * 1000, 1)} us (p50)  ${opVerdict}`
          : `p50 difference ${fmt(p.diffMs, 1)} ms; (p50 difference) / ${p.other} p50 = ${fmt(overhead === null ? null : overhead * 100, 0)}%  ${verdict}`),
    );
  }
  const timingRows = [];
  for (const t of timings) {
    const max = t.scenario.budget?.maxDiffMs;
    const d = t.interleaved.diffMs;
    const verdict = max !== undefined ? `${Math.abs(d) <= max ? "ok" : "MISSED"} (|difference| <= ${max} ms)` : "";
    timingRows.push({ name: t.scenario.name, labels: t.labels, interleaved: t.interleaved, blocks: t.blocks, budget: verdict });
    console.log(
      `\n${t.scenario.label ?? t.scenario.name}, one connection, medians of ${t.interleaved.a.n}: ${t.labels.a} ${fmt(t.interleaved.a.p50, 2)} ms, ${t.labels.b} ${fmt(t.interleaved.b.p50, 2)} ms ` +
        `(interleaved), difference ${fmt(d, 2)} ms  ${verdict}; median of the pairs' differences ${fmt(t.interleaved.pairedDiffMs, 2)} ms; in blocks ${fmt(t.blocks.a.p50, 2)} vs ${fmt(t.blocks.b.p50, 2)} ms (work left behind included)` +
        `; statuses ${JSON.stringify(t.interleaved.a.statuses)} / ${JSON.stringify(t.interleaved.b.statuses)}`,
    );
  }
  if (probes) {
    console.log("\nCost of one primitive (ms, mean, one connection):");
    for (const p of probes) console.log(`  ${pad(p.op, 10)} ${lpad(p.ms < 0.05 ? "< 0.05" : fmt(p.ms, 2), 7)}`);
  }
  console.log(`\n(${Math.round((Date.now() - started) / 1000)} s of load)`);
  if (o.json) {
    await writeFile(o.json, JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, options: o, results: rows, pairs: pairRows, timings: timingRows, probes }, null, 2));
    console.log(`wrote ${o.json}`);
  }
}

// Ctrl-C: exit through process.exit, so the harness's exit hook ends wrangler and its files.
for (const sig of ["SIGINT", "SIGTERM"]) process.once(sig, () => process.exit(130));

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// Head-to-head throughput (`npm run bench -- --versus a:b[,c:d] [--pairs 8 --window 2]`,
// issue 12 "The peers in the same run"; docs/benchmarks.md "Method, where it differs from ours").
//
// Why: the adjacent-baseline rows compare each scenario with our GET /ping measured right before
// it, and two scenarios with each other only through two such ratios taken minutes apart. On the
// shared 2-core machine the rate drifts by more than the difference being asked about (rounds
// swung by +-15%). Here the two scenarios are measured against each other directly: short
// windows, a then b then b then a..., so both see the same machine within seconds, and the order
// within a pair alternates so neither always runs first (a warmer cache, a JIT settling, or a
// load that rises through the pair favours neither side). The ratio is taken per pair and its
// median reported with its spread and a count of the pairs a won: a drift slower than a pair
// cancels in each ratio instead of only being halved by an adjacent baseline.
//
// Both sides run through the same `measure(scenario, prepared, connections, seconds)` (run.mjs's
// autocannon run, the normal rows' settings) at the same number of connections.

/** The pairs of `--versus a:b[,c:d]`: [{ a, b }] of scenario names. */
export function parseVersus(text) {
  const pairs = String(text)
    .split(",")
    .filter(Boolean)
    .map((p) => {
      const [a, b, extra] = p.split(":");
      if (!a || !b || extra !== undefined) throw new Error(`--versus takes scenario pairs a:b[,c:d], not "${p}"`);
      if (a === b) throw new Error(`--versus ${p}: a scenario against itself`);
      return { a, b };
    });
  if (pairs.length === 0) throw new Error("--versus names no pair");
  return pairs;
}

/** The median of numbers, or null. */
function median(xs) {
  const v = xs.filter((x) => typeof x === "number" && !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

const fmt = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d));

/**
 * Why a prepared scenario cannot run in this mode, or null. Only single requests go through
 * autocannon; a chain (a login of several requests, bench/lib/chain.mjs) has its own runner
 * whose rate would not compare with autocannon's, and a timing scenario is not load.
 */
export function refusal(scenario, prepared) {
  if (scenario.timing) return `${scenario.name} is a timing scenario (two kinds of request on one route), not load: it has no --versus form`;
  if (prepared.chain) return `${scenario.name} is a chain (several requests per operation, driven by bench/lib/chain.mjs): --versus compares single-request scenarios through autocannon only; compare it in the normal rows instead`;
  if (!prepared.request && !prepared.perConnection) return `${scenario.name} prepared no request`;
  return null;
}

/**
 * Runs one pair: a warm-up of each (`warmup` s), then `pairs` pairs of `window`-second runs,
 * ab, ba, ab, ... Returns the per-pair figures and the summary.
 * @param {{ name: string }} sa @param {object} pa the prepared a
 * @param {{ name: string }} sb @param {object} pb the prepared b
 * @param {{ measure: (s: object, p: object, connections: number, seconds: number) => Promise<{ rps: number, p50: number, p99: number, non2xx: number, errors: number }>, connections: number, window: number, pairs: number, warmup: number, log: (line: string) => void }} o
 */
export async function runVersus(sa, pa, sb, pb, o) {
  const { measure, connections, window, pairs, warmup, log } = o;
  if (warmup > 0) {
    await measure(sa, pa, connections, warmup);
    await measure(sb, pb, connections, warmup);
  }
  const rows = [];
  for (let i = 0; i < pairs; i++) {
    const abOrder = i % 2 === 0;
    const first = abOrder ? [sa, pa] : [sb, pb];
    const second = abOrder ? [sb, pb] : [sa, pa];
    const r1 = await measure(first[0], first[1], connections, window);
    const r2 = await measure(second[0], second[1], connections, window);
    const a = abOrder ? r1 : r2;
    const b = abOrder ? r2 : r1;
    const ratio = b.rps > 0 ? a.rps / b.rps : null;
    const row = { order: abOrder ? "ab" : "ba", a: pick(a), b: pick(b), ratio };
    rows.push(row);
    const bad = a.non2xx + a.errors + b.non2xx + b.errors;
    const cpu = (r) => (r.cpuMsPerRequest === null || r.cpuMsPerRequest === undefined ? "" : `, ${fmt(r.cpuMsPerRequest, 3)} ms CPU/req`);
    log(
      `    pair ${String(i + 1).padStart(2)} (${row.order}): ${sa.name} ${fmt(a.rps, 0)} req/s p50 ${a.p50} ms${cpu(a)}, ${sb.name} ${fmt(b.rps, 0)} req/s p50 ${b.p50} ms${cpu(b)}; ratio ${fmt(ratio, 3)}` +
        (bad ? `  (non-2xx ${a.non2xx}/${b.non2xx}, errors ${a.errors}/${b.errors})` : ""),
    );
  }
  const ratios = rows.map((r) => r.ratio).filter((x) => x !== null);
  return {
    a: sa.name,
    b: sb.name,
    connections,
    window,
    rows,
    ratio: { median: median(ratios), min: ratios.length ? Math.min(...ratios) : null, max: ratios.length ? Math.max(...ratios) : null },
    aFaster: ratios.filter((x) => x > 1).length,
    pairs: rows.length,
    p50: { a: median(rows.map((r) => r.a.p50)), b: median(rows.map((r) => r.b.p50)) },
    rps: { a: median(rows.map((r) => r.a.rps)), b: median(rows.map((r) => r.b.rps)) },
    // CPU of each side's serving processes per request (bench/lib/process-cpu.mjs), when measured.
    cpu: {
      a: median(rows.map((r) => r.a.cpuMsPerRequest)),
      b: median(rows.map((r) => r.b.cpuMsPerRequest)),
      workerdA: median(rows.map((r) => r.a.workerdMsPerRequest)),
      workerdB: median(rows.map((r) => r.b.workerdMsPerRequest)),
      aLower: rows.filter((r) => typeof r.a.cpuMsPerRequest === "number" && typeof r.b.cpuMsPerRequest === "number" && r.a.cpuMsPerRequest < r.b.cpuMsPerRequest).length,
    },
    non2xx: { a: rows.reduce((n, r) => n + r.a.non2xx, 0), b: rows.reduce((n, r) => n + r.b.non2xx, 0) },
    errors: { a: rows.reduce((n, r) => n + r.a.errors, 0), b: rows.reduce((n, r) => n + r.b.errors, 0) },
  };
}

const pick = (r) => ({ rps: r.rps, p50: r.p50, p99: r.p99, non2xx: r.non2xx, errors: r.errors, cpuMsPerRequest: r.cpuMsPerRequest ?? null, workerdMsPerRequest: r.workerdMsPerRequest ?? null });

/** The summary lines of one pair's result (runVersus). */
export function summaryLines(v) {
  const lines = [
    `${v.a} vs ${v.b} (${v.connections} connections, ${v.pairs} pairs of ${v.window} s windows, order alternating):`,
    `  req/s ratio a/b: median ${fmt(v.ratio.median, 3)} (min ${fmt(v.ratio.min, 3)}, max ${fmt(v.ratio.max, 3)}); ${v.a} faster in ${v.aFaster} of ${v.pairs} pairs`,
    `  median req/s ${fmt(v.rps.a, 0)} vs ${fmt(v.rps.b, 0)}; median p50 ${fmt(v.p50.a, 1)} ms vs ${fmt(v.p50.b, 1)} ms`,
  ];
  if (v.cpu && v.cpu.a !== null && v.cpu.b !== null) {
    lines.push(
      `  CPU of each Worker's processes per request: median ${fmt(v.cpu.a, 3)} ms vs ${fmt(v.cpu.b, 3)} ms (workerd alone ${fmt(v.cpu.workerdA, 3)} vs ${fmt(v.cpu.workerdB, 3)}); ${v.a} lower in ${v.cpu.aLower} of ${v.pairs} pairs`,
    );
  }
  const ratios = v.rows.map((r) => fmt(r.ratio, 2)).join(", ");
  lines.push(`  per pair: ${ratios}`);
  if (v.non2xx.a || v.non2xx.b || v.errors.a || v.errors.b) lines.push(`  non-2xx ${v.non2xx.a} / ${v.non2xx.b}, errors ${v.errors.a} / ${v.errors.b}: rates that include failed answers do not compare`);
  return lines;
}

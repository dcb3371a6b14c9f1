// Timing comparisons of two kinds of request on one route (e.g. a known and an unknown
// account), sent one at a time over one keep-alive connection and timed from send to the last
// byte of the answer with performance.now() (sub-millisecond, unlike autocannon's histogram).
//
// Two phases, `samples` requests of each kind in each:
//  - interleaved: a, b, b, a, a, b, ... (ABBA order, so neither kind always follows the
//    other). Work a request leaves behind (a queue consumer running in the same local
//    process) falls on both kinds alike, so the difference of the medians is the route's own
//    work: the difference of its medians is what the budget is checked against; the median of
//    the back-to-back pairs' differences is reported beside it.
//  - blocks: every a, then every b. Here the work left behind by a lands on the next a: under
//    `wrangler dev` the queue consumer shares the process (and its storage engines) with the
//    requests, which a deployed Worker's consumer does not. Reported, not budgeted.

function median(xs) {
  const v = [...xs].sort((x, y) => x - y);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

async function send(url, req) {
  const t0 = performance.now();
  const res = await fetch(`${url}${req.path}`, { method: req.method, headers: req.headers, ...(req.body !== undefined ? { body: req.body } : {}) });
  await res.arrayBuffer();
  return { ms: performance.now() - t0, status: res.status };
}

function summary(samples) {
  const statuses = {};
  for (const s of samples) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  return { n: samples.length, p50: median(samples.map((s) => s.ms)), statuses };
}

/** `prepared` is a timing scenario's prepare() result: { a: { label, request(i) }, b: { ... } }. */
export async function measureTiming(url, prepared, { samples = 100, warmup = 10 } = {}) {
  const { a, b } = prepared;
  for (let i = 0; i < warmup; i++) {
    await send(url, a.request(i));
    await send(url, b.request(i));
  }
  const ia = [];
  const ib = [];
  for (let i = 0; i < samples; i++) {
    // ABBA: pairs alternate which kind goes first.
    if (i % 2 === 0) {
      ia.push(await send(url, a.request(i)));
      ib.push(await send(url, b.request(i)));
    } else {
      ib.push(await send(url, b.request(i)));
      ia.push(await send(url, a.request(i)));
    }
  }
  const ba = [];
  const bb = [];
  for (let i = 0; i < samples; i++) ba.push(await send(url, a.request(samples + i)));
  for (let i = 0; i < samples; i++) bb.push(await send(url, b.request(samples + i)));
  // Each interleaved pair ran back to back, so a burst of load on the machine hits both: the
  // median of the pairs' differences is far steadier than the difference of the medians.
  const paired = median(ia.map((x, i) => x.ms - ib[i].ms));
  const interleaved = { a: summary(ia), b: summary(ib), pairedDiffMs: paired };
  const blocks = { a: summary(ba), b: summary(bb) };
  return {
    labels: { a: a.label, b: b.label },
    interleaved: { ...interleaved, diffMs: interleaved.a.p50 - interleaved.b.p50 },
    blocks: { ...blocks, diffMs: blocks.a.p50 - blocks.b.p50 },
  };
}

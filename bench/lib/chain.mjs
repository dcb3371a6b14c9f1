// Load for a login that takes more than one HTTP request (OpenAuth's: GET /authorize, the
// password form's POST, the code exchange at /token). autocannon times single requests, so a
// chain is driven here instead: `connections` loops, each running its chain back to back for
// `duration` seconds over keep-alive connections (Node's fetch), timing every whole chain.
// Returns the same shape as bench/run.mjs's autocannon runs, with chains in place of requests.
// A scenario whose rows are chains has its adjacent baseline measured by this same runner
// (GET /ping as a chain of one request), so its ratios compare like with like.

/** The p-th percentile (0..100) of sorted numbers, or null. */
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * @param {string} url the Worker's origin
 * @param {{ chain: (i: number) => (url: string) => Promise<boolean>, beforeRun?: () => Promise<void> }} prepared
 *   `chain(i)` gives connection i its step function; a step resolves true when every answer
 *   was the expected one, otherwise false or a string saying which was not (counted as non-2xx;
 *   the first few strings are returned as `failures`), and throws on a network error.
 */
export async function runChains(url, prepared, connections, duration) {
  if (prepared.beforeRun) await prepared.beforeRun();
  const latencies = [];
  let ok = 0;
  let bad = 0;
  let errors = 0;
  const failures = new Set();
  const started = performance.now();
  const end = started + duration * 1000;
  await Promise.all(
    Array.from({ length: connections }, async (_, i) => {
      const step = prepared.chain(i);
      while (performance.now() < end) {
        const t = performance.now();
        try {
          const r = await step(url);
          if (r === true) ok++;
          else {
            bad++;
            if (typeof r === "string" && failures.size < 5) failures.add(r);
          }
          latencies.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const round = (x) => (x === null ? null : Math.round(x * 10) / 10);
  return { rps: (ok + bad) / seconds, p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), total: ok + bad, non2xx: bad, errors, statusCodes: {}, failures: [...failures] };
}

/** A single autocannon-style request ({ method, path, headers, body }) as a chain of one. */
export function requestAsChain(request) {
  return () => async (url) => {
    const res = await fetch(`${url}${request.path}`, { method: request.method ?? "GET", headers: request.headers ?? {}, ...(request.body !== undefined ? { body: request.body } : {}) });
    await res.arrayBuffer();
    return res.status >= 200 && res.status < 300;
  };
}

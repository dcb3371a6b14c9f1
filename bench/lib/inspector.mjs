// A minimal Chrome DevTools Protocol client for the Worker's inspector (wrangler dev
// --inspector-port, started by scripts/lib/worker.mjs): enough to run V8's sampling CPU
// profiler around a batch of requests (bench/cpu-profile.mjs).
//
// It uses the global WebSocket: Node 22 has it, Node 20 (>= 20.10) needs
// `--experimental-websocket`, which `npm run bench:cpu` passes. No `ws` import: that package is
// only a transitive dependency here (miniflare's), not one of ours.

/** Connects to the first inspector target at `port`; resolves with { send, on, close }. */
export async function connectInspector(port) {
  if (typeof WebSocket !== "function") throw new Error("no global WebSocket: run Node with --experimental-websocket (Node >= 20.10) or Node >= 22");
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  if (!Array.isArray(targets) || targets.length === 0) throw new Error(`the inspector at ${port} lists no target`);
  // wrangler's inspector proxy takes DevTools connections from local origins only
  // (templates/startDevWorker/InspectorProxyWorker.ts): say we are one. undici's WebSocket
  // accepts `headers` beside the protocols (WebSocketInit).
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { headers: { origin: "http://127.0.0.1" } });
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error("inspector WebSocket failed")), { once: true });
  });
  let id = 0;
  const pending = new Map();
  const listeners = new Map(); // event method -> handlers
  ws.addEventListener("message", (ev) => {
    const msg = JSON.parse(typeof ev.data === "string" ? ev.data : Buffer.from(ev.data).toString("utf8"));
    if (msg.id === undefined) {
      for (const fn of listeners.get(msg.method) ?? []) fn(msg.params);
      return;
    }
    if (!pending.has(msg.id)) return;
    const { resolve, reject } = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) reject(new Error(`${msg.error.message} (${msg.error.code})`));
    else resolve(msg.result);
  });
  /** One CDP command; resolves with its result. */
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const n = ++id;
      pending.set(n, { resolve, reject });
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  /** Calls `fn(params)` for every event `method` (e.g. "Debugger.scriptParsed"). */
  const on = (method, fn) => listeners.set(method, [...(listeners.get(method) ?? []), fn]);
  return { send, on, close: () => ws.close(), targets };
}

/**
 * Sums a V8 CPU profile (`Profiler.stop`'s `profile`): each sample lasts until the next one
 * (the last until `endTime`), as DevTools attributes time. Returns the microseconds per
 * top-of-stack node kind and per function (self time), and the mean sampling interval.
 * @param {{ nodes: { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }} profile
 */
export function summarize(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const ts = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) ts.push((t += d));
  const self = new Map(); // node id -> µs
  for (let i = 0; i < profile.samples.length; i++) {
    const dur = (i + 1 < ts.length ? ts[i + 1] : profile.endTime) - ts[i];
    if (dur > 0) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dur);
  }
  const special = { "(idle)": 0, "(program)": 0, "(garbage collector)": 0, "(root)": 0 };
  const fns = new Map(); // "name url:line" -> µs
  let js = 0;
  for (const [nid, us] of self) {
    const cf = byId.get(nid).callFrame;
    if (cf.functionName in special && !cf.url) {
      special[cf.functionName] += us;
      continue;
    }
    js += us;
    const key = `${cf.functionName || "(anonymous)"} ${cf.url.replace(/^.*\//, "")}:${cf.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const wall = profile.endTime - profile.startTime;
  return { wall, js, special, fns, samples: profile.samples.length, meanIntervalUs: profile.samples.length ? wall / profile.samples.length : null };
}

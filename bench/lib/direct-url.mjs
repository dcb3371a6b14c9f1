// The URL of a Worker's own runtime under `wrangler dev`, behind wrangler's proxy (`--direct`).
//
// Why: `wrangler dev` answers on a proxy (wrangler's ProxyWorker, in a workerd of its own) that
// forwards each request to the runtime holding the Worker and, per answer, walks every response
// header in JavaScript (templates/startDevWorker/ProxyWorker.ts, rewriteUrlRelatedHeaders). A
// deployed Worker has no such proxy, so the proxy charges a Worker for each header it sends
// in a way production never does. `--direct` calls the runtime itself, for every Worker alike.
//
// How: the runtime's workerd is the one in the Worker's process group (scripts/lib/worker.mjs
// starts each `wrangler dev` in its own) that does not listen on the outer port; of its
// listening ports (proc(5) /proc/net/tcp, the socket inodes under /proc/<pid>/fd), the entry
// is the one whose `GET /ping` answers `{"ok":true}` (every Worker in the benchmark has that
// bare route). Linux only; elsewhere, or when nothing answers, null.
import { readFile, readdir, readlink } from "node:fs/promises";
import { groupProcesses } from "./process-cpu.mjs";

async function socketInodes(pid) {
  const inodes = new Set();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(m[1]);
  }
  return inodes;
}

/** Listening 127.0.0.1 TCP ports by socket inode (state 0A = LISTEN). */
async function listeningPorts() {
  const byInode = new Map();
  const text = await readFile("/proc/net/tcp", "utf8");
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== "0A") continue;
    const port = parseInt(f[1].split(":")[1], 16);
    byInode.set(f[9], port);
  }
  return byInode;
}

/**
 * The direct URL of the Worker whose `wrangler dev` process group is `pgid` and whose proxy
 * answers on `outerUrl`, or null.
 */
export async function directUrl(pgid, outerUrl) {
  if (!pgid) return null;
  const outerPort = Number(new URL(outerUrl).port);
  let ports;
  try {
    const byInode = await listeningPorts();
    ports = [];
    for (const { pid } of ((await groupProcesses(pgid)) ?? []).filter((p) => p.comm === "workerd")) {
      const inodes = await socketInodes(pid);
      const mine = [...inodes].map((i) => byInode.get(i)).filter((p) => p !== undefined);
      if (mine.includes(outerPort)) continue; // the proxy's workerd
      ports.push(...mine);
    }
  } catch {
    return null;
  }
  for (const port of ports) {
    const url = `http://127.0.0.1:${port}`;
    try {
      const r = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2000) });
      const body = await r.json().catch(() => null);
      if (r.status === 200 && body && body.ok === true) return url;
    } catch {
      // the inspector or another service of the runtime
    }
  }
  return null;
}

// CPU time of a Worker's whole serving side under `wrangler dev`, read from Linux's /proc.
//
// Why: a rate (req/s) on this shared 2-core machine moves with whatever else runs, by more than
// the differences the head-to-head mode asks about. The CPU time the serving processes spend is
// far steadier: it is what they did, not how long they waited for a core. `wrangler dev` starts
// each Worker in its own process group (scripts/lib/worker.mjs spawnWranglerDev), holding
// wrangler's node process, its proxy workerd (the port the benchmark calls) and the Worker's
// workerd (the isolate, with miniflare's entry worker in front of it). Every process of the
// group is counted, split into workerd and the rest, so a Worker is charged for all the work a
// request causes in its runtime: HTTP parsing, headers in and out, the proxy, its own code.
//
// utime + stime of /proc/<pid>/stat (proc(5)), in clock ticks (sysconf(_SC_CLK_TCK) is 100 on
// Linux, so 10 ms resolution per process: a window of a few thousand requests is measured to
// well under 1%). Elsewhere than Linux: null, and the callers print no CPU column.
import { readFile, readdir } from "node:fs/promises";

const TICK_MS = 10;

/** Fields of /proc/<pid>/stat after the command (which may contain spaces and parentheses). */
function statFields(text) {
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  return { comm: text.slice(text.indexOf("(") + 1, close), rest: text.slice(close + 2).split(" ") };
}

/**
 * The processes of process group `pgid`: [{ pid, comm, cpuMs }] (cpuMs: utime + stime so far),
 * or null where /proc is not there. rest[2] is pgrp, rest[11] utime, rest[12] stime (fields 5,
 * 14 and 15 of proc(5), counted from the pid as field 1).
 */
export async function groupProcesses(pgid) {
  if (!pgid) return null;
  let pids;
  try {
    pids = (await readdir("/proc")).filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  const found = await Promise.all(
    pids.map(async (pid) => {
      try {
        const f = statFields(await readFile(`/proc/${pid}/stat`, "utf8"));
        if (!f || Number(f.rest[2]) !== pgid) return null;
        return { pid, comm: f.comm, cpuMs: (Number(f.rest[11]) + Number(f.rest[12])) * TICK_MS };
      } catch {
        return null; // exited meanwhile
      }
    }),
  );
  return found.filter(Boolean);
}

/** CPU milliseconds used so far by the processes of process group `pgid`: { total, workerd, other }, or null. */
export async function groupCpuMs(pgid) {
  const procs = await groupProcesses(pgid);
  if (!procs) return null;
  const out = { total: 0, workerd: 0, other: 0 };
  for (const p of procs) {
    out.total += p.cpuMs;
    if (p.comm === "workerd") out.workerd += p.cpuMs;
    else out.other += p.cpuMs;
  }
  return out;
}

/** `after - before`, field by field (null when either is). */
export function cpuDelta(before, after) {
  if (!before || !after) return null;
  return { total: after.total - before.total, workerd: after.workerd - before.workerd, other: after.other - before.other };
}

// Starts the peers' Workers (bench/peers/<name>/) the way scripts/lib/worker.mjs starts ours:
// `wrangler dev` in local mode with its own wrangler.toml (-c), a fresh temporary persist dir,
// its D1 migrations applied there first by wrangler's own runner, no network, no account.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, freePort, randomSecret, runWrangler, spawnWranglerDev, stopChild, waitUntilUp } from "../../scripts/lib/worker.mjs";

/** Each peer: its config, the D1 binding its migrations go to, and vars it needs at start. */
const PEERS = {
  openauth: { binding: "AUTH_DB", vars: () => ({}) },
  "better-auth": { binding: "DB", vars: (url) => ({ BETTER_AUTH_SECRET: randomSecret(32), BETTER_AUTH_URL: url }) },
};

/**
 * Starts one peer Worker; resolves with { name, url, stop, output, inspectorPort }.
 * `inspectorPort()` is wrangler's DevTools proxy for the peer's isolate, the same kind of port
 * startLocalWorker gives ours: bench/cpu-profile.mjs profiles every Worker through it, so the
 * peers' CPU is measured by the same instrument as ours.
 * @param {"openauth" | "better-auth"} name
 * @param {{ log?: boolean }} [opts]
 */
export async function startPeerWorker(name, opts = {}) {
  const peer = PEERS[name];
  if (!peer) throw new Error(`unknown peer ${name}`);
  const config = join(ROOT, "bench", "peers", name, "wrangler.toml");
  const persistTo = await mkdtemp(join(tmpdir(), `edge-auth-peer-${name}-`));
  let output = "";
  const onOutput = (d) => {
    output += d;
    if (output.length > 200_000) output = output.slice(-100_000);
    if (opts.log) process.stdout.write(d);
  };
  let child = null;
  const stop = async () => {
    if (child) await stopChild(child);
    await rm(persistTo, { recursive: true, force: true });
  };
  try {
    await runWrangler(["d1", "migrations", "apply", peer.binding, "--local", "-c", config, "--persist-to", persistTo], { quiet: true });
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const inspectorPort = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const mark = output.length;
      child = spawnWranglerDev({
        port,
        ip: "127.0.0.1",
        persistTo,
        vars: peer.vars(url),
        args: ["-c", config, "--inspector-port", String(inspectorPort), "--show-interactive-dev-session=false", "--log-level", "warn"],
        onOutput,
      });
      try {
        await waitUntilUp(url, child, 90_000, () => /Build failed/.test(output));
        return { name, url, stop, output: () => output, inspectorPort: () => inspectorPort, pid: () => child?.pid ?? null };
      } catch (e) {
        await stopChild(child);
        child = null;
        if (attempt >= 5 || !/Address already in use/.test(output.slice(mark))) throw e;
      }
    }
  } catch (e) {
    await stop();
    throw new Error(`peer ${name}: ${e instanceof Error ? e.message : e}\n--- wrangler output ---\n${output.slice(-4000)}`);
  }
}

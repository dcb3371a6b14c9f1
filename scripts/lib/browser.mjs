// Chromium for the browser tests and the screenshot script: Debian's `chromium` package,
// installed by the project's own files (scripts/ensure-tools.mjs), never downloaded by a
// test tool at run time. Shared by test/e2e/browser.ts (typed wrapper) and scripts/screenshots.mjs.
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where Debian's package puts the browser (a wrapper script that starts the real binary). */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * The flags this machine needs (/work/.library/env/machines/node.md): headless, no sandbox (the
 * tests run as root), no GPU, and nothing that reaches out to Google's services: the network is
 * closed, and without the background-networking flags Chromium's connections are refused many
 * at a time and every start waits on look-ups of Google's hosts.
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Whether the browser is there and executable. */
export function chromiumInstalled() {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** What to tell someone whose machine has no Chromium and who cannot install it from here. */
export const MISSING_MESSAGE =
  `Chromium is missing: the browser tests need Debian's chromium package at ${CHROMIUM_PATH}.\n` +
  "Install it as root (apt-get update && apt-get install -y chromium), or run `npm test` as root, which installs it.";

/**
 * Makes sure Chromium is installed: nothing to do when it is; as root on a machine with apt-get,
 * installs Debian's package (quietly, one log line, the apt output only if it fails); otherwise
 * throws MISSING_MESSAGE. `log` receives the progress lines.
 * @param {{ log?: (line: string) => void }} [opts]
 */
export function ensureChromium(opts = {}) {
  const log = opts.log ?? ((line) => console.log(line));
  if (chromiumInstalled()) return;
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  const apt = existsSync("/usr/bin/apt-get");
  if (!root || !apt) throw new Error(MISSING_MESSAGE);
  log(`• Chromium is missing: installing Debian's chromium package for the browser tests (apt-get install chromium)`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", "chromium"]]) {
    const r = spawnSync("apt-get", args, { env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) {
      throw new Error(`apt-get ${args.join(" ")} failed (exit ${r.status ?? r.signal}):\n${(r.stdout ?? "").slice(-4000)}${(r.stderr ?? "").slice(-4000)}\n${MISSING_MESSAGE}`);
    }
  }
  if (!chromiumInstalled()) throw new Error(`apt-get installed chromium but ${CHROMIUM_PATH} is not there.\n${MISSING_MESSAGE}`);
  const version = spawnSync(CHROMIUM_PATH, ["--version"], { encoding: "utf8" }).stdout?.trim();
  log(`• installed ${version || "chromium"}`);
}

/**
 * Launches Chromium through playwright-core with a fresh, empty profile (--user-data-dir, via
 * launchPersistentContext's equivalent: a temporary directory removed on close). Returns the
 * playwright Browser; closing it removes the profile.
 * @param {{ headless?: boolean }} [opts]
 */
export async function launchChromium(opts = {}) {
  if (!chromiumInstalled()) throw new Error(MISSING_MESSAGE);
  const { chromium } = await import("playwright-core");
  // playwright passes its own --user-data-dir (a fresh temporary one) to every launch() and
  // refuses one in `args`; our own empty directory is for Chromium's crash and cache files,
  // which otherwise land in $HOME.
  const scratch = await mkdtemp(join(tmpdir(), "edge-auth-chromium-"));
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: opts.headless ?? true,
    args: [...CHROMIUM_ARGS, `--disk-cache-dir=${join(scratch, "cache")}`, `--crash-dumps-dir=${join(scratch, "crashes")}`],
    env: { ...process.env, HOME: scratch, XDG_CONFIG_HOME: join(scratch, "config"), XDG_CACHE_HOME: join(scratch, "cache") },
  });
  browser.once("disconnected", () => void rm(scratch, { recursive: true, force: true }));
  return browser;
}

#!/usr/bin/env node
// `node scripts/ensure-browser.mjs`: makes Chromium available for the browser e2e tests before
// they run (`npm test` and `npm run test:e2e` call it). Debian's chromium package, installed with
// apt-get when we are root (CI runs as root with Debian's mirror reachable); anyone else gets one
// clear message saying what to install. Test tools never download a browser of their own.
import { ensureChromium } from "./lib/browser.mjs";

try {
  ensureChromium();
} catch (e) {
  console.error(`\n! ${e instanceof Error ? e.message : e}\n`);
  process.exit(1);
}

#!/usr/bin/env node
// `node scripts/ensure-tools.mjs`: makes the e2e tests' outside tools available before they run
// (`npm test` and `npm run test:e2e` call it): Chromium for the browser tests and xmlsec1, the
// independent XML-DSig verifier of the SAML/WS-Fed tests. Both are Debian packages, installed
// with apt-get when we are root (CI runs as root with Debian's mirror reachable); anyone else
// gets one clear message per missing tool saying what to install. Test tools never download a
// binary of their own.
import { ensureChromium } from "./lib/browser.mjs";
import { ensureXmlsec1 } from "./lib/xmlsec.mjs";

const failures = [];
for (const ensure of [ensureChromium, ensureXmlsec1]) {
  try {
    ensure();
  } catch (e) {
    failures.push(e instanceof Error ? e.message : String(e));
  }
}
if (failures.length > 0) {
  for (const message of failures) console.error(`\n! ${message}`);
  console.error("");
  process.exit(1);
}

// xmlsec1 for the SAML/WS-Fed e2e tests: Debian's `xmlsec1` package (the XML Security Library's
// command-line tool), installed by the project's own files (scripts/ensure-tools.mjs), the same
// way scripts/lib/browser.mjs brings Chromium. It is the verifier nobody here wrote: the e2e
// tests hand it what the service signs (responses, assertions, metadata) with the certificate
// pinned on the command line, so a pass means an independent implementation of XML-DSig
// (exclusive c14n, enveloped signature) agrees with ours.
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where Debian's package puts the tool. */
export const XMLSEC1_PATH = "/usr/bin/xmlsec1";

/**
 * The ID-carrying elements the tests name in `idAttr`: namespace URI + ':' + local name, for an
 * attribute called `ID` (SAML 2.0); SAML 1.1's assertion calls it `AssertionID`, hence the
 * object form `{ attr, node }`.
 */
export const ID_ATTRS = {
  assertion: "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
  response: "urn:oasis:names:tc:SAML:2.0:protocol:Response",
  authnRequest: "urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest",
  logoutRequest: "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest",
  logoutResponse: "urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse",
  entityDescriptor: "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
  saml11Assertion: { attr: "AssertionID", node: "urn:oasis:names:tc:SAML:1.0:assertion:Assertion" },
};

/** Whether xmlsec1 is there and executable. */
export function xmlsec1Installed() {
  try {
    accessSync(XMLSEC1_PATH, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** What to tell someone whose machine has no xmlsec1 and who cannot install it from here. */
export const XMLSEC1_MISSING_MESSAGE =
  `xmlsec1 is missing: the SAML e2e tests need Debian's xmlsec1 package at ${XMLSEC1_PATH}.\n` +
  "Install it as root (apt-get update && apt-get install -y xmlsec1), or run `npm test` as root, which installs it.";

/** The installed version line (`xmlsec1 1.2.37 (openssl)`), or undefined when missing. */
export function xmlsec1Version() {
  if (!xmlsec1Installed()) return undefined;
  const r = spawnSync(XMLSEC1_PATH, ["--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * Makes sure xmlsec1 is installed: nothing to do when it is; as root on a machine with apt-get,
 * installs Debian's package (one log line, the apt output only if it fails); otherwise throws
 * XMLSEC1_MISSING_MESSAGE. Debian's xmlsec1 depends on libxmlsec1-openssl, which is the crypto
 * backend `--pubkey-cert-pem` needs, so the one package is enough.
 * @param {{ log?: (line: string) => void }} [opts]
 */
export function ensureXmlsec1(opts = {}) {
  const log = opts.log ?? ((line) => console.log(line));
  if (xmlsec1Installed()) return;
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  const apt = existsSync("/usr/bin/apt-get");
  if (!root || !apt) throw new Error(XMLSEC1_MISSING_MESSAGE);
  log("• xmlsec1 is missing: installing Debian's xmlsec1 package for the SAML e2e tests (apt-get install xmlsec1)");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", "xmlsec1"]]) {
    const r = spawnSync("apt-get", args, { env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) {
      throw new Error(`apt-get ${args.join(" ")} failed (exit ${r.status ?? r.signal}):\n${(r.stdout ?? "").slice(-4000)}${(r.stderr ?? "").slice(-4000)}\n${XMLSEC1_MISSING_MESSAGE}`);
    }
  }
  if (!xmlsec1Installed()) throw new Error(`apt-get installed xmlsec1 but ${XMLSEC1_PATH} is not there.\n${XMLSEC1_MISSING_MESSAGE}`);
  log(`• installed ${xmlsec1Version() ?? "xmlsec1"}`);
}

/**
 * Verifies the XML signature(s) in `xml` with xmlsec1, trusting only `certPem` (the key is pinned
 * on the command line: `--pubkey-cert-pem`; a KeyInfo in the document selects nothing else, since
 * no keys manager holds any other key and `--enabled-key-data` limits KeyInfo to key names).
 *
 * `idAttr` names the element(s) whose `ID` attribute is an XML ID (SAML's IDs are not declared by
 * a DTD, so xmlsec1 must be told, or `URI="#_abc"` resolves to nothing): one value or several,
 * each `<namespace URI>:<local name>`, or `{ attr, node }` for an attribute with another name
 * (see ID_ATTRS). `nodeId` picks which signature to check
 * when the document has several (the Signature inside the element with that ID); without it
 * xmlsec1 checks the first Signature in document order.
 *
 * Returns { ok, output } (output: xmlsec1's stdout + stderr, for assertion messages). Never
 * throws for a bad signature; throws when xmlsec1 is missing.
 * @param {string} xml
 * @typedef {string | { attr: string, node: string }} IdAttr
 * @param {{ certPem: string, idAttr: IdAttr | IdAttr[], nodeId?: string }} opts
 * @returns {Promise<{ ok: boolean, output: string }>}
 */
export async function xmlsecVerify(xml, opts) {
  if (!xmlsec1Installed()) throw new Error(XMLSEC1_MISSING_MESSAGE);
  const dir = await mkdtemp(join(tmpdir(), "edge-auth-xmlsec-"));
  try {
    const xmlFile = join(dir, "signed.xml");
    const certFile = join(dir, "cert.pem");
    await writeFile(xmlFile, xml);
    await writeFile(certFile, opts.certPem);
    const args = ["--verify", "--pubkey-cert-pem", certFile];
    // Only the pinned key: KeyInfo may name a key (KeyName), nothing else (no embedded
    // X509Data / KeyValue becomes a trusted key).
    args.push("--enabled-key-data", "key-name");
    for (const idAttr of [opts.idAttr].flat()) {
      if (typeof idAttr === "string") args.push("--id-attr:ID", idAttr);
      else args.push(`--id-attr:${idAttr.attr}`, idAttr.node);
    }
    if (opts.nodeId) args.push("--node-id", opts.nodeId);
    args.push(xmlFile);
    const r = spawnSync(XMLSEC1_PATH, args, { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    const output = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
    // xmlsec1 exits 0 and prints "OK" on a good signature, non-zero with "FAIL" otherwise.
    return { ok: r.status === 0 && /^OK$/m.test(output), output };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

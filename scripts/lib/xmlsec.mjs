// xmlsec1 for the SAML/WS-Fed e2e tests: Debian's `xmlsec1` package (the XML Security Library's
// command-line tool), installed by the project's own files (scripts/ensure-tools.mjs), the same
// way scripts/lib/browser.mjs brings Chromium. It is the verifier nobody here wrote: the e2e
// tests hand it what the service signs (responses, assertions, metadata) with the certificate
// pinned on the command line, so a pass means an independent implementation of XML-DSig
// (exclusive c14n, enveloped signature) agrees with ours.
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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

/** @typedef {string | { attr: string, node: string }} IdAttr */

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
 * xmlsec1's `--id-attr:<attribute> <namespace>:<element>` arguments.
 * @param {IdAttr | IdAttr[]} idAttr
 */
function idAttrArgs(idAttr) {
  return [idAttr].flat().flatMap((a) => (typeof a === "string" ? ["--id-attr:ID", a] : [`--id-attr:${a.attr}`, a.node]));
}

/**
 * Verifies the XML signature(s) in `xml` with xmlsec1, trusting only `certPem` (the key is pinned
 * on the command line: `--pubkey-cert-pem`; a KeyInfo in the document selects nothing else, since
 * no keys manager holds any other key and `--enabled-key-data` limits KeyInfo to key names), or
 * `pubkeyPem` (a bare SPKI public key, `-----BEGIN PUBLIC KEY-----`: `--pubkey-pem`). RSA and
 * ECDSA (P-256, SignatureValue as r||s per RFC 4050) both verify.
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
 * @param {{ certPem?: string, pubkeyPem?: string, idAttr: IdAttr | IdAttr[], nodeId?: string }} opts
 * @returns {Promise<{ ok: boolean, output: string }>}
 */
export async function xmlsecVerify(xml, opts) {
  if (!xmlsec1Installed()) throw new Error(XMLSEC1_MISSING_MESSAGE);
  const key = opts.certPem ?? opts.pubkeyPem;
  if (!key) throw new Error("xmlsecVerify: certPem or pubkeyPem is required (the key is pinned, never taken from KeyInfo)");
  const dir = await mkdtemp(join(tmpdir(), "edge-auth-xmlsec-"));
  try {
    const xmlFile = join(dir, "signed.xml");
    const keyFile = join(dir, "key.pem");
    await writeFile(xmlFile, xml);
    await writeFile(keyFile, key);
    const args = ["--verify", opts.certPem ? "--pubkey-cert-pem" : "--pubkey-pem", keyFile];
    // Only the pinned key: KeyInfo may name a key (KeyName), nothing else (no embedded
    // X509Data / KeyValue becomes a trusted key).
    args.push("--enabled-key-data", "key-name");
    args.push(...idAttrArgs(opts.idAttr));
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

/**
 * Signs a template with xmlsec1 (`--sign`): the document must already hold an empty ds:Signature
 * (SignedInfo with the algorithms, empty DigestValue and SignatureValue). For samples no Node
 * library makes, such as ECDSA-SHA256 signatures from an independent signer. Throws on failure.
 * @param {string} template
 * @param {{ keyPem: string, idAttr: IdAttr | IdAttr[] }} opts
 * @returns {Promise<string>}
 */
export async function xmlsecSign(template, opts) {
  if (!xmlsec1Installed()) throw new Error(XMLSEC1_MISSING_MESSAGE);
  const dir = await mkdtemp(join(tmpdir(), "edge-auth-xmlsec-"));
  try {
    const inFile = join(dir, "template.xml");
    const keyFile = join(dir, "key.pem");
    const outFile = join(dir, "signed.xml");
    await writeFile(inFile, template);
    await writeFile(keyFile, opts.keyPem);
    const args = ["--sign", "--privkey-pem", keyFile, "--output", outFile];
    args.push(...idAttrArgs(opts.idAttr));
    args.push(inFile);
    const r = spawnSync(XMLSEC1_PATH, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`xmlsec1 --sign failed (exit ${r.status ?? r.signal}): ${r.stdout}${r.stderr}`);
    return await readFile(outFile, "utf8");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// The Authn envelope for benchmark clients, written with Node's own crypto (independent of the
// service's code): secp256k1 (or P-256) ECDH, the x-coordinate as the AES-256-GCM key,
// base64(iv16 || ciphertext || tag16). See DESIGN.md "The Authn API envelope".
import { createCipheriv, createDecipheriv, createECDH, randomBytes, randomUUID } from "node:crypto";

const NODE_CURVE = { secp256k1: "secp256k1", "P-256": "prime256v1" };

/** A caller key pair and its shared key with the service public key (wire encoding). */
export function newCaller(curve, servicePublicKey) {
  const ecdh = createECDH(NODE_CURVE[curve]);
  ecdh.generateKeys();
  const publicKey = ecdh.getPublicKey().subarray(1).toString("base64");
  const sharedKey = ecdh.computeSecret(Buffer.concat([Buffer.from([4]), Buffer.from(servicePublicKey, "base64")]));
  return { publicKey, sharedKey };
}

export function encrypt(plaintext, key) {
  const iv = randomBytes(16);
  const c = createCipheriv("aes-256-gcm", key, iv);
  const ct = Buffer.concat([c.update(plaintext, "utf8"), c.final()]);
  return Buffer.concat([iv, ct, c.getAuthTag()]).toString("base64");
}

export function decrypt(b64, key) {
  const raw = Buffer.from(b64, "base64");
  const d = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 16));
  d.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([d.update(raw.subarray(16, raw.length - 16)), d.final()]).toString("utf8");
}

/** The three envelope headers, with a fresh request id (ts now, new uuid). */
export function envelopeHeaders(caller, licenseKey) {
  const requestid = JSON.stringify({ ts: Math.floor(Date.now() / 1000), appid: "bench", uuid: randomUUID() });
  return {
    "content-type": "application/json",
    publickey: caller.publicKey,
    licensekey: encrypt(licenseKey, caller.sharedKey),
    requestid: encrypt(requestid, caller.sharedKey),
  };
}

/**
 * What an Authn benchmark needs from the run: the service key and curve, and a license. The
 * license comes from the demo seed (`authn.licenseKey`) or the bootstrap system license the
 * harness started the Worker with; without either the scenario is skipped.
 */
export async function authnSetup(ctx) {
  const a = ctx.demo?.authn ?? {};
  const licenseKey = a.licenseKey ?? a.systemLicenseKey ?? a.bootstrapLicense ?? ctx.vars?.BOOTSTRAP_SYSTEM_LICENSE;
  if (!licenseKey) throw new Error("no Authn license in the seed (demo.authn.licenseKey) or the run's vars");
  const env = await ctx.fetchJson("GET", "/authn/environment");
  const keys = await ctx.fetchJson("GET", "/authn/publickeys");
  if (keys.status !== 200) throw new Error(`GET /authn/publickeys answered ${keys.status}`);
  const curve = env.body?.EC_CURVE_NAME === "P-256" ? "P-256" : "secp256k1";
  return { licenseKey, curve, servicePublicKey: keys.body.publicKey, base: `/authn/tenant/${ctx.demo.tenantId}/community/${ctx.demo.communityId}` };
}

/** Checks one authenticate through the envelope before the load starts. */
export async function probeAuthenticate(ctx, s, user) {
  const caller = newCaller(s.curve, s.servicePublicKey);
  const body = JSON.stringify({ data: encrypt(JSON.stringify({ credentials: { username: user.username, password: user.password } }), caller.sharedKey) });
  const r = await ctx.fetchJson("POST", `${s.base}/authenticate`, body, envelopeHeaders(caller, s.licenseKey));
  if (r.status !== 200) throw new Error(`authenticate answered ${r.status}: ${JSON.stringify(r.body)}`);
  const data = JSON.parse(decrypt(r.body.data, caller.sharedKey));
  if (!data.proof_of_authentication_jwt) throw new Error("authenticate answered no proof");
}

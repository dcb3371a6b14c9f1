// WebAuthn for bench/cpu-profile.mjs: a passkey sign-in through the Authn API
// (`authenticate_with_fido`, seed 004 FIDO). A registration's verification is not measured: a
// user who has a credential needs a FIDO proof to add another, so each request would need its
// own user, and the bench has two. Each measured
// request needs its own single-use challenge, so `prepare` asks for them all beforehand (not
// measured) and each request takes the next one. The authenticator is the test suite's software
// one (test/helpers/soft-authenticator.ts: written from the WebAuthn and CBOR specifications,
// WebCrypto P-256), loaded through tsx, which the project already uses for its scripts.
import { tsImport } from "tsx/esm/api";
import { authnSetup, decrypt, encrypt, envelopeHeaders, newCaller } from "./authn-envelope.mjs";

/** Requests a route's preparation makes ready: warm-up and measured ones, with room to spare. */
const READY = 120;

async function softAuthenticator() {
  return tsImport("../../test/helpers/soft-authenticator.ts", import.meta.url);
}

/** A warm caller (one key for every call, so the ECDH is cached) and its enveloped calls. */
function caller(ctx, s) {
  const me = newCaller(s.curve, s.servicePublicKey);
  const call = async (path, payload) => {
    const r = await ctx.fetchJson("POST", `${s.base}${path}`, JSON.stringify({ data: encrypt(JSON.stringify(payload), me.sharedKey) }), envelopeHeaders(me, s.licenseKey));
    const data = r.status < 300 && typeof r.body?.data === "string" ? JSON.parse(decrypt(r.body.data, me.sharedKey)) : r.body;
    if (r.status !== 200) throw new Error(`${path} answered ${r.status}: ${JSON.stringify(data).slice(0, 300)}`);
    return data;
  };
  const request = (path, payload) => ({
    method: "POST",
    path: `${s.base}${path}`,
    setupRequest: (req) => ({ ...req, headers: envelopeHeaders(me, s.licenseKey), body: JSON.stringify({ data: encrypt(JSON.stringify(payload()), me.sharedKey) }) }),
  });
  return { call, request };
}

/** The origin the "browser" reports: the Worker's own address (the demo tenant is bound to it). */
const originOf = (ctx) => new URL(ctx.url).origin;

async function proof(api, user) {
  const r = await api.call("/authenticate", { credentials: { username: user.username, password: user.password } });
  return r.proof_of_authentication_jwt;
}

/** Hands out prepared bodies one per request; the last one again if a run asks for more. */
function queue(items) {
  let i = 0;
  return () => items[Math.min(i++, items.length - 1)];
}

export default [
  {
    name: "authn-fido",
    label: "Authn POST .../authenticate_with_fido (passkey assertion, warm caller)",
    async prepare(ctx) {
      const { SoftCredential } = await softAuthenticator();
      const s = await authnSetup(ctx);
      const api = caller(ctx, s);
      const user = ctx.benchUsers[ctx.benchUsers.length - 1];
      const origin = originOf(ctx);
      const cred = await SoftCredential.create();
      const jwt = await proof(api, user);
      const o = await api.call("/webauthn/registration/options", { jwt });
      await api.call("/webauthn/registration/verify", { jwt, credential: await cred.attest(o, { origin }), name: "bench key" });
      const bodies = [];
      for (let k = 0; k < READY; k++) {
        const opts = await api.call("/webauthn/authentication/options", { username: user.username });
        bodies.push({ username: user.username, assertionResults: await cred.assert(opts, { origin }) });
      }
      // One is spent here, to fail the preparation rather than the measurement.
      const next = queue(bodies);
      const first = await api.call("/authenticate_with_fido", next());
      if (!first.proof_of_authentication_jwt) throw new Error(`authenticate_with_fido answered no proof: ${JSON.stringify(first).slice(0, 300)}`);
      return { request: api.request("/authenticate_with_fido", next) };
    },
  },
];

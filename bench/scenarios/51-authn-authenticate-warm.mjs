import { authnSetup, encrypt, envelopeHeaders, newCaller, probeAuthenticate } from "../lib/authn-envelope.mjs";

/**
 * Authn authenticate (password) through the envelope from a known caller key (the service's
 * shared key is cached): DESIGN.md asks at least 0.8x the same call in preview plaintext,
 * i.e. at most 25% more latency at one connection.
 */
export default {
  name: "authn-authenticate-warm",
  label: "authn authenticate, warm envelope",
  compareLatencyWith: "authn-authenticate-preview",
  budget: { maxOverhead: 0.25 },
  async prepare(ctx) {
    const s = await authnSetup(ctx);
    await probeAuthenticate(ctx, s, ctx.benchUsers[0]);
    return {
      perConnection(i) {
        const user = ctx.benchUsers[i % ctx.benchUsers.length];
        const caller = newCaller(s.curve, s.servicePublicKey);
        const payload = JSON.stringify({ credentials: { username: user.username, password: user.password } });
        return {
          method: "POST",
          path: `${s.base}/authenticate`,
          setupRequest: (req) => ({ ...req, headers: envelopeHeaders(caller, s.licenseKey), body: JSON.stringify({ data: encrypt(payload, caller.sharedKey) }) }),
        };
      },
    };
  },
};

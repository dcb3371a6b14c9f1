import { authnSetup, encrypt, envelopeHeaders, newCaller, probeAuthenticate } from "../lib/authn-envelope.mjs";

/**
 * Authn authenticate (password) through the envelope, every request from a new caller key:
 * the service pays ECDH for each (its shared-key LRU never hits). Compare with the warm run.
 */
export default {
  name: "authn-authenticate-first",
  label: "authn authenticate, new caller key",
  async prepare(ctx) {
    const s = await authnSetup(ctx);
    await probeAuthenticate(ctx, s, ctx.benchUsers[0]);
    return {
      perConnection(i) {
        const user = ctx.benchUsers[i % ctx.benchUsers.length];
        const payload = JSON.stringify({ credentials: { username: user.username, password: user.password } });
        return {
          method: "POST",
          path: `${s.base}/authenticate`,
          setupRequest: (req) => {
            const caller = newCaller(s.curve, s.servicePublicKey);
            return { ...req, headers: envelopeHeaders(caller, s.licenseKey), body: JSON.stringify({ data: encrypt(payload, caller.sharedKey) }) };
          },
        };
      },
    };
  },
};

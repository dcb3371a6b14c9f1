import { authnSetup, envelopeHeaders, newCaller } from "../lib/authn-envelope.mjs";

/**
 * Authn authenticate (password) with the payload and answer in preview plaintext (development
 * only): the same work as the warm envelope run minus the body's AES-GCM. The license and
 * request-id headers are still encrypted: the guard always requires them.
 */
export default {
  name: "authn-authenticate-preview",
  label: "authn authenticate, preview plaintext",
  async prepare(ctx) {
    const s = await authnSetup(ctx);
    const probeCaller = newCaller(s.curve, s.servicePublicKey);
    const u0 = ctx.benchUsers[0];
    const probe = await ctx.fetchJson("POST", `${s.base}/authenticate`, JSON.stringify({ data: { credentials: { username: u0.username, password: u0.password } } }), envelopeHeaders(probeCaller, s.licenseKey));
    if (probe.status !== 200 || typeof probe.body.data !== "object") throw new Error(`preview authenticate answered ${probe.status} (is preview mode on?)`);
    return {
      perConnection(i) {
        const user = ctx.benchUsers[i % ctx.benchUsers.length];
        const caller = newCaller(s.curve, s.servicePublicKey);
        const body = JSON.stringify({ data: { credentials: { username: user.username, password: user.password } } });
        return {
          method: "POST",
          path: `${s.base}/authenticate`,
          setupRequest: (req) => ({ ...req, headers: envelopeHeaders(caller, s.licenseKey), body }),
        };
      },
    };
  },
};

import { setRefreshRotation } from "../lib/refresh-mode.mjs";

/**
 * Refresh as seed 002 documents it (the userpool default): POST /v1/token-refresh with the
 * login's refresh token, again and again; no new refresh token, and nothing written to a
 * Durable Object or KV (a read of the authority, cached in the isolate for at most 1 s).
 * Budget (issue 7): at least 0.8x the bare route.
 */
export default {
  name: "refresh",
  label: "refresh, no rotation (userpool)",
  budget: { minRatio: 0.8 },
  async prepare(ctx) {
    const sessions = [];
    return {
      // Every run makes sure of the mode (the rotating scenario turns rotation on) and logs in.
      async beforeRun() {
        await setRefreshRotation(ctx, false);
        sessions.length = 0;
        for (let i = 0; i < ctx.connections; i++) {
          const u = ctx.benchUsers[i % ctx.benchUsers.length];
          const r = await ctx.fetchJson("POST", "/v1/login", { username: u.username, password: u.password });
          if (r.status !== 200) throw new Error(`login for a refresh token answered ${r.status}`);
          sessions.push(JSON.stringify({ username: u.username, refresh_token: r.body.refresh_token }));
        }
      },
      perConnection(i) {
        return {
          method: "POST",
          path: "/v1/token-refresh",
          headers: { "content-type": "application/json" },
          setupRequest: (req) => ({ ...req, body: sessions[i % sessions.length] }),
        };
      },
    };
  },
};

import { setRefreshRotation } from "../lib/refresh-mode.mjs";

/**
 * Refresh with rotation on (refreshRotation.userpool: true): each connection chains its own
 * session, every response's refresh_token being the next request's (per-connection state).
 * A rotation in the Durable Object per request. DESIGN.md asks at least 0.5x the bare route.
 */
export default {
  name: "refresh-rotating",
  label: "refresh + rotation (userpool opt-in)",
  budget: { minRatio: 0.5 },
  async prepare(ctx) {
    const sessions = [];
    const login = async () => {
      await setRefreshRotation(ctx, true);
      sessions.length = 0;
      for (let i = 0; i < ctx.connections; i++) {
        const u = ctx.benchUsers[i % ctx.benchUsers.length];
        const r = await ctx.fetchJson("POST", "/v1/login", { username: u.username, password: u.password });
        if (r.status !== 200) throw new Error(`login for a refresh token answered ${r.status}`);
        sessions.push({ username: u.username, refreshToken: r.body.refresh_token });
      }
    };
    return {
      // A run that ends mid-request leaves its connection's token rotated without the answer
      // read; used again after the grace window (10 s) that would be reuse, and the session
      // revoked. So every run starts from fresh sessions.
      beforeRun: login,
      perConnection(i) {
        const s = sessions[i % sessions.length];
        return {
          method: "POST",
          path: "/v1/token-refresh",
          headers: { "content-type": "application/json" },
          setupRequest: (req) => ({ ...req, body: JSON.stringify({ username: s.username, refresh_token: s.refreshToken }) }),
          onResponse: (status, body) => {
            if (status !== 200) return;
            try {
              s.refreshToken = JSON.parse(body).refresh_token;
            } catch {}
          },
        };
      },
    };
  },
};

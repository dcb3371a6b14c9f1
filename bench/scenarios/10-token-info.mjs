/**
 * Token verification: croit GET /api/auth/token-info with a bearer access token (signature,
 * claims, and the session's revocation state, cached in the isolate for at most 1 s).
 */
export default {
  name: "token-info",
  label: "verify token (croit token-info)",
  budget: { minRatio: 0.9 },
  async prepare(ctx) {
    const login = await ctx.fetchJson("POST", "/v1/login", { username: ctx.demo.admin.username, password: ctx.demo.admin.password });
    if (login.status !== 200) throw new Error(`login for a token answered ${login.status}`);
    const probe = await ctx.fetchJson("GET", "/api/auth/token-info", undefined, { authorization: `Bearer ${login.body.access_token}` });
    if (probe.status !== 200) throw new Error(`token-info answered ${probe.status}`);
    return { request: { method: "GET", path: "/api/auth/token-info", headers: { authorization: `Bearer ${login.body.access_token}` } } };
  },
};

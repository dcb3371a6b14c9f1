/**
 * Authn POST /authn/jwt/verifyToken with a valid access token: signature, claims and the
 * session's revocation state (cached in the isolate for at most 1 s). A token verification
 * route: DESIGN.md asks at least 0.9x the bare route's requests/s.
 */
export default {
  name: "authn-verify-token",
  label: "authn jwt/verifyToken",
  budget: { minRatio: 0.9 },
  async prepare(ctx) {
    const login = await ctx.fetchJson("POST", "/v1/login", { username: ctx.demo.admin.username, password: ctx.demo.admin.password });
    if (login.status !== 200) throw new Error(`login for a token answered ${login.status}`);
    const body = JSON.stringify({ token: login.body.access_token });
    const probe = await ctx.fetchJson("POST", "/authn/jwt/verifyToken", body, { "content-type": "application/json" });
    if (probe.status !== 200) throw new Error(`jwt/verifyToken answered ${probe.status}: ${JSON.stringify(probe.body)}`);
    return { request: { method: "POST", path: "/authn/jwt/verifyToken", headers: { "content-type": "application/json" }, body } };
  },
};

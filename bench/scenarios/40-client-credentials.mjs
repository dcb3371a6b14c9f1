/** Client credentials: croit POST /api/auth/login with HTTP Basic (RFC 6749 §4.4, §2.3.1). */
export default {
  name: "client-credentials",
  label: "client credentials (croit, Basic)",
  budget: { minRatio: 0.7 },
  async prepare(ctx) {
    const c = ctx.demo.client;
    const headers = {
      authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    };
    const probe = await ctx.fetchJson("POST", "/api/auth/login", "grant_type=client_credentials", headers);
    if (probe.status !== 200) throw new Error(`client credentials answered ${probe.status}`);
    return { request: { method: "POST", path: "/api/auth/login", headers, body: "grant_type=client_credentials" } };
  },
};

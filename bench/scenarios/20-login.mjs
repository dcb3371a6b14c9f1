/**
 * Password login: userpool POST /v1/login. Each connection logs in as its own benchmark user
 * (one user per connection, as many users would), so successes never meet the lockout and no
 * single user's Durable Objects serialise the whole run.
 */
export default {
  name: "login",
  label: "password login (userpool)",
  // Everything besides the one PBKDF2 derivation must stay under 10% of its cost (DESIGN.md).
  compareLatencyWith: "pbkdf2",
  budget: { maxOverhead: 0.1 },
  async prepare(ctx) {
    const u = ctx.benchUsers[0];
    const probe = await ctx.fetchJson("POST", "/v1/login", { username: u.username, password: u.password });
    if (probe.status !== 200) throw new Error(`login answered ${probe.status}`);
    return {
      perConnection(i) {
        const user = ctx.benchUsers[i % ctx.benchUsers.length];
        return { method: "POST", path: "/v1/login", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: user.username, password: user.password }) };
      },
    };
  },
};

/**
 * Known against unknown accounts on the routes that mail an account (issue 7 item 8): each
 * route's answer must not tell them apart, its timing included. Timing scenarios
 * (bench/lib/timing.mjs): one connection, one request at a time, `--samples` (100) of each
 * kind interleaved ABBA, then in blocks; the budget is the difference of the interleaved
 * medians: within 2 ms (DESIGN.md "Queues").
 *
 * Requests rotate over the benchmark users (bench-1 .. bench-N, mail bench-N@localhost) and as
 * many missing names of the same length (ghost-1 .. ghost-N), so the per-address limit is
 * shared out; the tenant's `mailPerHour` is raised so the 200 path is what is measured.
 */
const ROUTES = [
  { name: "mail-forgot", label: "userpool POST /v1/forgot-password", path: "/v1/forgot-password", body: (name) => ({ username: name }) },
  { name: "mail-reset-link", label: "Sentinel POST /passwordReset", path: "/v1.0/auth/passwordReset", body: (name) => ({ username: name }) },
  { name: "mail-username", label: "Sentinel POST /usernameRequest", path: "/v1.0/auth/usernameRequest", body: (name) => ({ email: `${name}@localhost` }) },
  { name: "mail-reset-token", label: "CloudCheckr POST /v1/auth/resetpassword", path: "/v1/auth/resetpassword", body: (name) => ({ email_address: `${name}@localhost` }) },
];

const request = (r, name) => ({ method: "POST", path: r.path, headers: { "content-type": "application/json" }, body: JSON.stringify(r.body(name)) });

export default ROUTES.map((r) => ({
  name: r.name,
  label: r.label,
  timing: true,
  budget: { maxDiffMs: 2 },
  tenantSettings: { mailPerHour: 1000 },
  async prepare(ctx) {
    const known = ctx.benchUsers.map((u) => u.username);
    const unknown = known.map((n) => n.replace(/^bench/, "ghost"));
    for (const name of [known[0], unknown[0]]) {
      const probe = await ctx.fetchJson("POST", r.path, r.body(name));
      if (probe.status !== 200) throw new Error(`${r.path} answered ${probe.status}`);
    }
    return {
      a: { label: "known", request: (i) => request(r, known[i % known.length]) },
      b: { label: "unknown", request: (i) => request(r, unknown[i % unknown.length]) },
    };
  },
}));

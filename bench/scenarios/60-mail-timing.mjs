/**
 * Known against unknown accounts on the routes that mail an account (issue 7 item 8): each
 * route's answer must not tell them apart, its timing included. Each pair runs one connection
 * (no queueing: the difference is the work itself), known first, then unknown, over the same
 * number of seconds; autocannon's p50 is the median of every request of the run (hundreds,
 * far more than 30). Budget: medians within 2 ms (DESIGN.md "Queues").
 *
 * Requests rotate over the benchmark users (bench-1 .. bench-N, mail bench-N@localhost) and as
 * many missing names of the same length (ghost-1 .. ghost-N), so the per-address limit is
 * shared out; the tenant's `mailPerHour` is raised so the 200 path is what is measured.
 */
const ROUTES = [
  { name: "mail-forgot", label: "userpool forgot-password", path: "/v1/forgot-password", body: (name) => ({ username: name }) },
  { name: "mail-reset-link", label: "Sentinel passwordReset", path: "/v1.0/auth/passwordReset", body: (name) => ({ username: name }) },
  { name: "mail-username", label: "Sentinel usernameRequest", path: "/v1.0/auth/usernameRequest", body: (name) => ({ email: `${name}@localhost` }) },
  { name: "mail-reset-token", label: "CloudCheckr resetpassword", path: "/v1/auth/resetpassword", body: (name) => ({ email_address: `${name}@localhost` }) },
];

/** One request object whose body names the next of `names` each time it is sent. */
function rotating(path, names, body) {
  let i = 0;
  return {
    method: "POST",
    path,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body(names[0])),
    setupRequest(req) {
      i = (i + 1) % names.length;
      return { ...req, body: JSON.stringify(body(names[i])) };
    },
  };
}

const known = (ctx) => ctx.benchUsers.map((u) => u.username);
const unknown = (ctx) => ctx.benchUsers.map((u) => u.username.replace(/^bench/, "ghost"));

export default ROUTES.flatMap((r) => [
  {
    name: r.name,
    label: `${r.label}: known accounts`,
    pairOnly: true,
    compareLatencyWith: `${r.name}-unknown`,
    budget: { maxDiffMs: 2 },
    tenantSettings: { mailPerHour: 1000 },
    async prepare(ctx) {
      const probe = await ctx.fetchJson("POST", r.path, r.body(known(ctx)[0]));
      if (probe.status !== 200) throw new Error(`${r.path} answered ${probe.status}`);
      return { request: rotating(r.path, known(ctx), r.body) };
    },
  },
  {
    name: `${r.name}-unknown`,
    label: `${r.label}: unknown accounts`,
    pairOnly: true,
    async prepare(ctx) {
      const probe = await ctx.fetchJson("POST", r.path, r.body(unknown(ctx)[0]));
      if (probe.status !== 200) throw new Error(`${r.path} answered ${probe.status}`);
      return { request: rotating(r.path, unknown(ctx), r.body) };
    },
  },
]);

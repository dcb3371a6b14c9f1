/** The baseline: a bare JSON route (GET /ping), i.e. what wrangler dev + workerd + Hono cost. */
export default {
  name: "ping",
  label: "bare JSON route (baseline)",
  baseline: true,
  async prepare() {
    return { request: { method: "GET", path: "/ping" } };
  },
};

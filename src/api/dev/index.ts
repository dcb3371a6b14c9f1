import { Hono, type Context } from "hono";
import { AuthError } from "../../core/errors";
import { hashPassword } from "../../crypto/password";
import { describeZodError, surfaceErrorHandler } from "../../http/errors";
import { DEFAULT_STATUS } from "../../http/errors";
import { limitBody } from "../../http/body-limit";
import { noStore } from "../../http/no-store";
import type { AppEnv } from "../../http/types";
import { PROBE_OPS, runProbe, type ProbeOp } from "./probe";
import { SeedRequest, seedDemo } from "./seed";
import { seedAuthnDemo } from "../authn/dev-seed";
import { mintBenchCodes, OidcCodesRequest } from "./oidc-codes";
import { POLICY_BENCH_MAX_N, runPolicyBench } from "./policy-bench";

/**
 * Development-only routes, answered only when ENVIRONMENT is "development" (a 404 otherwise,
 * so production exposes none of them):
 *
 * - GET  /dev/outbox?to=<email>&limit=<n>: mail stored by the development transport, newest
 *   first, so a developer (and the e2e tests) can read reset codes.
 * - POST /dev/seed: creates the demo tenant through the core provisioning code (idempotent;
 *   see seed.ts). Used by `npm run dev` and by the e2e harness.
 * - POST /dev/pbkdf2: performs exactly one password derivation (the same hashPassword the
 *   login path uses) and nothing else, so the benchmark can time a login against it.
 * - GET  /dev/probe?op=<op>&n=<n>: performs one storage or crypto primitive n times (probe.ts),
 *   so the benchmark can say where a route's time goes.
 *
 * - POST /dev/oidc-codes: a benchmark OIDC client and authorization codes for it (oidc-codes.ts).
 * - GET  /dev/policy-bench?n=<n>: the adaptive policy's `decide` run n times against 1,000
 *   synthetic journeys compiled once per isolate (policy-bench.ts), timed from outside.
 *
 * Errors are `{error, message}`.
 */
export const dev = new Hono<AppEnv>();

const renderDevError = (c: Context<AppEnv>, e: AuthError) => {
  const status = DEFAULT_STATUS[e.code];
  return c.json({ error: e.code, message: e.message }, status as 400);
};

dev.use("*", async (c, next) => {
  if (c.get("services").config.production) return c.json({ error: "not_found" }, 404);
  await next();
});
dev.use("*", limitBody(renderDevError), noStore);
dev.onError(surfaceErrorHandler(renderDevError));

/** GET /dev/outbox?to=<email>&limit=<n>: newest first. */
dev.get("/outbox", async (c) => {
  const to = c.req.query("to");
  const limit = Math.min(Math.max(Number(c.req.query("limit") ?? 20) || 20, 1), 200);
  const mail = await c.get("services").mailStore.list({ ...(to ? { to } : {}), limit });
  return c.json({ mail });
});

async function jsonBody(c: Context<AppEnv>): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new AuthError("invalid_request", "body must be JSON");
  }
}

/** POST /dev/seed: seeds the demo tenant once; answers its ids (201 when created, else 200). */
dev.post("/seed", async (c) => {
  const parsed = SeedRequest.safeParse(await jsonBody(c));
  if (!parsed.success) throw new AuthError("invalid_request", describeZodError(parsed.error));
  const result = await seedDemo(c.get("services"), parsed.data);
  if (parsed.data.authn) result.authn = await seedAuthnDemo(c.env, result.tenant.id, parsed.data.authn);
  return c.json(result, result.created ? 201 : 200);
});

/** POST /dev/pbkdf2: one PBKDF2 derivation with the production parameters; the benchmark's yardstick. */
dev.post("/pbkdf2", async (c) => {
  await hashPassword("benchmark-password", c.get("services").config.passwordPepper);
  return c.json({ ok: true });
});

/** GET /dev/probe?op=<op>&n=<1..100>: n sequential runs of one primitive (benchmark breakdown). */
dev.get("/probe", async (c) => {
  const op = c.req.query("op") ?? "";
  if (!(PROBE_OPS as readonly string[]).includes(op)) throw new AuthError("invalid_request", `op must be one of ${PROBE_OPS.join(", ")}`);
  const n = Math.min(Math.max(Math.trunc(Number(c.req.query("n") ?? 1)) || 1, 1), 100);
  await runProbe(c.get("services"), op as ProbeOp, n);
  return c.json({ ok: true, op, n });
});

/** POST /dev/oidc-codes: the benchmark's OIDC client and a batch of fresh codes (oidc-codes.ts). */
dev.post("/oidc-codes", async (c) => {
  const parsed = OidcCodesRequest.safeParse(await jsonBody(c));
  if (!parsed.success) throw new AuthError("invalid_request", describeZodError(parsed.error));
  return c.json(await mintBenchCodes(c.get("services"), parsed.data));
});

/** GET /dev/policy-bench?n=<0..10000>: n policy decisions against 1,000 journeys (policy-bench.ts). */
dev.get("/policy-bench", (c) => {
  const n = Math.min(Math.max(Math.trunc(Number(c.req.query("n") ?? 1)) || 0, 0), POLICY_BENCH_MAX_N);
  return c.json(runPolicyBench(n));
});

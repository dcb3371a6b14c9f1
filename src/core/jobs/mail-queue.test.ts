import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { callJson } from "../../../test/helpers/http";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { eventually } from "../../../test/helpers/sentinel";
import { setMailerOverride } from "../../http/services";
import type { Services } from "../context";
import { consumeJobs, parseJob, retryDelaySeconds } from "./consumer";
import { JOB_QUEUE, JOB_VERSION, type Job } from "./types";

/**
 * Issue 7 item 8: the mail routes only validate, rate-limit and enqueue; the look-up and the
 * mail happen in the queue consumer (the real one, run by miniflare from wrangler.toml).
 */
let t: TestTenant;
beforeAll(async () => {
  t = await createTestTenant();
});
afterEach(() => setMailerOverride(null));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const outbox = (tenantId: string) => services().mailStore.list({ tenantId, limit: 50 });

interface Route {
  name: string;
  path: string;
  known: (t: TestTenant) => Record<string, unknown>;
  unknown: Record<string, unknown>;
  /** The address the known request's mail goes to. */
  to: (t: TestTenant) => string;
}

const ROUTES: Route[] = [
  { name: "userpool forgot-password", path: "/v1/forgot-password", known: () => ({ username: "alice" }), unknown: { username: "no-such-user" }, to: (t) => t.alice.email! },
  { name: "Sentinel passwordReset", path: "/v1.0/auth/passwordReset", known: () => ({ username: "alice" }), unknown: { username: "no-such-user" }, to: (t) => t.alice.email! },
  { name: "Sentinel usernameRequest", path: "/v1.0/auth/usernameRequest", known: (t) => ({ email: t.alice.email }), unknown: { email: "nobody@nowhere.test" }, to: (t) => t.alice.email! },
  { name: "CloudCheckr resetpassword", path: "/v1/auth/resetpassword", known: (t) => ({ email_address: t.alice.email }), unknown: { email_address: "nobody@nowhere.test" }, to: (t) => t.alice.email! },
];

describe.each(ROUTES)("$name through the job queue", (route) => {
  it("answers identically for known and unknown users; after delivery only the known one has mail", async () => {
    const tt = await createTestTenant();
    // The unknown request goes first: once the known user's mail is in, the consumer has had the unknown job too.
    const missing = await callJson("POST", route.path, route.unknown, { host: tt.host });
    const existing = await callJson("POST", route.path, route.known(tt), { host: tt.host });
    expect(existing.status).toBe(200);
    expect(missing.status).toBe(existing.status);
    expect(missing.body).toEqual(existing.body);
    expect([...missing.headers.entries()].filter(([k]) => k !== "date")).toEqual(
      [...existing.headers.entries()].filter(([k]) => k !== "date"),
    );
    const mail = await eventually(async () => (await outbox(tt.tenant.id)).find((m) => m.to === route.to(tt)));
    expect(mail.to).toBe(route.to(tt));
    await sleep(300);
    const all = await outbox(tt.tenant.id);
    expect(all).toHaveLength(1);
    expect(all.some((m) => m.to.startsWith("nobody@") || m.to.startsWith("no-such-user"))).toBe(false);
  });

  it("still applies the per-address mail rate limit, the same for known and unknown", async () => {
    const tt = await createTestTenant({ mailPerHour: 2 });
    const known = [];
    const unknown = [];
    for (let i = 0; i < 3; i++) known.push(await callJson("POST", route.path, route.known(tt), { host: tt.host, ip: "198.51.100.1" }));
    for (let i = 0; i < 3; i++) unknown.push(await callJson("POST", route.path, route.unknown, { host: tt.host, ip: "198.51.100.2" }));
    expect(known.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(unknown.map((r) => r.status)).toEqual([200, 200, 429]);
    // Sentinel's error shape carries a timestamp; everything else is the same.
    const { timestamp: _a, ...refusedUnknown } = unknown[2]!.body;
    const { timestamp: _b, ...refusedKnown } = known[2]!.body;
    expect(refusedUnknown).toEqual(refusedKnown);
    expect(unknown[2]!.headers.get("retry-after")).toBe(known[2]!.headers.get("retry-after"));
    // Two jobs went through for the known address; the refused request enqueued nothing.
    await eventually(async () => ((await outbox(tt.tenant.id)).length >= 2 ? true : null));
    await sleep(300);
    expect(await outbox(tt.tenant.id)).toHaveLength(2);
  });
});

describe("the job queue under hostile input", () => {
  it("concurrent requests for one address: exactly mailPerHour are accepted and mailed", async () => {
    const tt = await createTestTenant({ mailPerHour: 3 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => callJson("POST", "/v1/forgot-password", { username: "alice" }, { host: tt.host })));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(3);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(7);
    await eventually(async () => ((await outbox(tt.tenant.id)).length >= 3 ? true : null));
    await sleep(300);
    expect(await outbox(tt.tenant.id)).toHaveLength(3);
  });

  it("mails nobody for another tenant's user, a disabled user, or malformed bodies", async () => {
    const other = await createTestTenant();
    const svc = services();
    await svc.users.update(t.tenant.id, t.newbie.uid, { disabled: true });
    const asks = [
      // alice of `other` asked for on t's host: t's alice gets it, other's never.
      callJson("POST", "/v1/forgot-password", { username: "newbie" }, { host: t.host }),
      callJson("POST", "/v1.0/auth/usernameRequest", { email: other.alice.email }, { host: t.host }),
      callJson("POST", "/v1/auth/resetpassword", { email_address: other.admin.email }, { host: t.host }),
      callJson("POST", "/v1.0/auth/passwordReset", { username: "alice", corpId: other.community.id }, { host: t.host }),
    ];
    for (const r of await Promise.all(asks)) expect(r.status).toBe(200);
    for (const bad of [{ username: 7 }, { username: ["alice"] }, "{not json", { username: "x".repeat(100_000) }]) {
      const r = await callJson("POST", "/v1/forgot-password", bad, { host: t.host });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
    await sleep(500);
    expect(await outbox(other.tenant.id)).toHaveLength(0);
    expect((await outbox(t.tenant.id)).filter((m) => m.to === t.newbie.email)).toHaveLength(0);
    expect((await outbox(t.tenant.id)).filter((m) => m.to.endsWith(other.host))).toHaveLength(0);
  });

  it("drops a malformed or foreign message instead of retrying it", async () => {
    const bodies = [null, "text", { v: JOB_VERSION, kind: "drop_tables" }, { v: 99, kind: "reset_code", tenantId: t.tenant.id, communityId: t.community.id, ip: "x", userAgent: null, username: "alice" }];
    for (const b of bodies) expect(parseJob(b)).toBeNull();
    const batch = createMessageBatch<unknown>(JOB_QUEUE, bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })));
    const ctx = createExecutionContext();
    await consumeJobs(batch, services());
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["m0", "m1", "m2", "m3"]);
    expect(result.retryMessages).toEqual([]);
  });
});

describe("failing delivery", () => {
  it("is retried with a growing delay (consumer, one batch)", async () => {
    const failing: Services = { ...services(), mailer: { send: () => Promise.reject(new Error("mail API answered 503")) } };
    const job: Job = { v: JOB_VERSION, tenantId: t.tenant.id, communityId: t.community.id, ip: "203.0.113.7", userAgent: null, kind: "reset_code", username: "admin" };
    const batch = createMessageBatch<unknown>(JOB_QUEUE, [{ id: "fail-1", timestamp: new Date(), attempts: 3, body: job }]);
    const ctx = createExecutionContext();
    const retry = vi.spyOn(batch.messages[0]!, "retry");
    await consumeJobs(batch, { ...failing, config: { ...failing.config, jobRetryBaseSeconds: 10 } });
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages).toEqual([{ msgId: "fail-1" }]);
    // The third attempt failed: the fourth waits 4x the base.
    expect(retry).toHaveBeenCalledWith({ delaySeconds: 40 });
    expect(result.explicitAcks).toEqual([]);
    expect([1, 2, 3, 4, 5, 9].map((a) => retryDelaySeconds(10, a))).toEqual([10, 20, 40, 80, 160, 300]);
  });

  it("ends in the dead-letter queue after max_retries, which records it and mails nothing", async () => {
    const tt = await createTestTenant();
    let attempts = 0;
    setMailerOverride({
      send: (m) => {
        if (m.tenantId === tt.tenant.id) attempts++;
        return Promise.reject(new Error("mail API answered 503"));
      },
    });
    const r = await callJson("POST", "/v1/forgot-password", { username: "alice" }, { host: tt.host });
    expect(r.status).toBe(200);
    const dead = await eventually(async () => (await services().audit.list(tt.tenant.id, { type: "job_dead_lettered" }))[0], 10_000);
    // max_retries = 3 in wrangler.toml: the first delivery and three retries.
    expect(attempts).toBe(4);
    expect(dead.detail).toMatchObject({ kind: "reset_code" });
    expect(JSON.stringify(dead)).not.toContain("alice");
    expect(await outbox(tt.tenant.id)).toHaveLength(0);
    setMailerOverride(null);
  });
});

import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../../app";
import type { Env } from "../../env";
import { callJson } from "../../../test/helpers/http";
import { services } from "../../../test/helpers/tenant";
import { DEMO, DEMO_ADMIN_ROLES } from "./seed";

const seedBody = {
  passwords: { admin: "admin-pass-0123456789", user: "alice-pass-0123456789", newbie: "newbie-pass-0123456789" },
  clientSecret: "demo-client-secret-0123456789abcdef",
};
const host = "localhost";

describe("POST /dev/seed", () => {
  it("refuses bad input without storing anything", async () => {
    for (const body of ["{not json", { passwords: { admin: "short" } }, { ...seedBody, clientSecret: "x" }, []]) {
      const r = await callJson("POST", "/dev/seed", body, { host });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ error: "invalid_request" });
    }
    expect(await services().tenants.getTenant(DEMO.tenantId)).toBeNull();
  });

  it("seeds the demo tenant once, through the real core", async () => {
    const first = await callJson<Record<string, any>>("POST", "/dev/seed", seedBody, { host });
    expect(first.status).toBe(201);
    expect(first.body.created).toBe(true);
    expect(first.body.tenant.id).toBe(DEMO.tenantId);
    expect(first.body.users.admin.roles).toEqual([...DEMO_ADMIN_ROLES]);
    expect(first.body.users.newbie.mustChangePassword).toBe(true);
    expect(first.body.client).toMatchObject({ clientId: DEMO.clientId, grants: ["client_credentials"] });
    expect(JSON.stringify(first.body)).not.toContain(seedBody.clientSecret);
    expect(JSON.stringify(first.body)).not.toContain(seedBody.passwords.admin);

    // Both hostnames select the tenant; the seeded passwords work through the login path.
    for (const h of DEMO.hostnames) {
      const login = await callJson("POST", "/v1/login", { username: "admin", password: seedBody.passwords.admin }, { host: h });
      expect(login.status).toBe(200);
      expect(typeof login.body.access_token).toBe("string");
    }
    const challenge = await callJson("POST", "/v1/login", { username: "newbie", password: seedBody.passwords.newbie }, { host });
    expect(challenge.body.challenge_name).toBe("NEW_PASSWORD_REQUIRED");

    // A second run keeps the data: same ids, nothing seeded twice, other secrets ignored.
    const again = await callJson<Record<string, any>>("POST", "/dev/seed", { ...seedBody, passwords: { admin: "another-pass-0123456789", user: "x-pass-0123456789", newbie: "y-pass-0123456789" } }, { host });
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(false);
    expect(again.body.users.admin.uid).toBe(first.body.users.admin.uid);
    expect(again.body.users.user.uid).toBe(first.body.users.user.uid);
    const stillOld = await callJson("POST", "/v1/login", { username: "admin", password: seedBody.passwords.admin }, { host });
    expect(stillOld.status).toBe(200);
    const users = await services().users.byUsernameInTenant(DEMO.tenantId, "admin");
    expect(users).toHaveLength(1);
  });

  it("adds missing extra users on a later run", async () => {
    const r = await callJson<Record<string, any>>("POST", "/dev/seed", { ...seedBody, extraUsers: [{ username: "bench1", password: "bench-pass-0123456789" }] }, { host });
    expect(r.status).toBe(200);
    expect(r.body.users.extra).toHaveLength(1);
    const login = await callJson("POST", "/v1/login", { username: "bench1", password: "bench-pass-0123456789" }, { host });
    expect(login.status).toBe(200);
  });
});

describe("POST /dev/pbkdf2", () => {
  it("performs a derivation", async () => {
    const r = await callJson("POST", "/dev/pbkdf2", undefined, { host });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true });
  });
});

describe("GET /dev/probe", () => {
  it("runs each primitive, and refuses unknown ops", async () => {
    for (const op of ["none", "do-read", "do-write", "kv-get", "kv-put", "d1-read", "sign"]) {
      const r = await callJson("GET", `/dev/probe?op=${op}&n=2`, undefined, { host });
      expect(r.status, op).toBe(200);
    }
    const bad = await callJson("GET", "/dev/probe?op=drop-tables", undefined, { host });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: "invalid_request" });
  });
});

describe("in production", () => {
  it("every dev route is absent", async () => {
    const prodEnv = { ...(env as unknown as Env), ENVIRONMENT: "production" };
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    for (const [method, path] of [["POST", "/dev/seed"], ["POST", "/dev/pbkdf2"], ["GET", "/dev/outbox"], ["GET", "/dev/probe?op=kv-put"]] as const) {
      const res = await app.fetch(new Request(`http://localhost${path}`, { method, ...(method === "POST" ? { body: JSON.stringify(seedBody), headers: { "content-type": "application/json" } } : {}) }), prodEnv, ctx);
      expect(res.status).toBe(404);
    }
  });

  it("the worker under test is in development mode", async () => {
    const res = await SELF.fetch("http://localhost/dev/outbox");
    expect(res.status).toBe(200);
  });
});

import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../app";
import type { Env } from "../../env";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { eventually } from "../../../test/helpers/sentinel";

/**
 * Issue 7 item 9: every URL written into mail or metadata comes from the tenant's bound
 * hostnames, never the Host header. A request on an unbound host (it reaches a tenant through
 * DEFAULT_TENANT) gets the tenant's primary hostname: the first one bound.
 */
let t: TestTenant;
let second: string;
/** The Worker's env with `t` as the tenant of unbound hosts. */
let fallbackEnv: Env;

beforeAll(async () => {
  t = await createTestTenant();
  second = `brand2.${t.host}`;
  await services().tenants.bindDomain({ hostname: second, tenantId: t.tenant.id, communityId: t.community.id });
  fallbackEnv = { ...(env as unknown as Env), DEFAULT_TENANT: t.tenant.id };
});

async function send(host: string, method: string, path: string, body?: unknown, e: Env = fallbackEnv) {
  const init: RequestInit = { method, headers: { host, "cf-connecting-ip": "203.0.113.9", "content-type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await app.request(`http://${host}${path}`, init, e);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function mailedResetLink(user: { email: string | null }, afterCount: number): Promise<string> {
  const mail = await eventually(async () => {
    const all = await services().mailStore.list({ tenantId: t.tenant.id, to: user.email!, limit: 50 });
    return all.length > afterCount ? all[0] : null;
  });
  const link = /https?:\/\/\S+/.exec(mail.text)?.[0];
  expect(link).toBeDefined();
  return link!;
}

const mailCount = async (to: string) => (await services().mailStore.list({ tenantId: t.tenant.id, to, limit: 50 })).length;

describe("Sentinel POST /passwordReset: the mailed link", () => {
  it("with Host: attacker.example goes to the tenant's primary hostname", async () => {
    const before = await mailCount(t.alice.email!);
    const r = await send("attacker.example", "POST", "/v1.0/auth/passwordReset", { username: "alice" });
    expect(r.status).toBe(200);
    const link = await mailedResetLink(t.alice, before);
    expect(link).not.toContain("attacker.example");
    expect(link.startsWith(`http://${t.host}/reset-password#token=`)).toBe(true);
  });

  it("on another bound hostname of the tenant stays on that hostname", async () => {
    const before = await mailCount(t.admin.email!);
    expect((await send(second, "POST", "/v1.0/auth/passwordReset", { username: "admin" })).status).toBe(200);
    expect((await mailedResetLink(t.admin, before)).startsWith(`http://${second}/reset-password#token=`)).toBe(true);
  });

  it("a Host that is another tenant's bound hostname never lends its name to this tenant's links", async () => {
    const other = await createTestTenant();
    const before = await mailCount(t.alice.email!);
    // On other's host the request is other's; alice of t is not there, so t gets nothing and other's users nothing.
    expect((await send(other.host, "POST", "/v1.0/auth/passwordReset", { username: "alice", corpId: t.community.id })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await mailCount(t.alice.email!)).toBe(before);
    const link = await (async () => {
      const b = await mailCount(t.alice.email!);
      await send("attacker.example", "POST", "/v1.0/auth/passwordReset", { username: "alice" });
      return mailedResetLink(t.alice, b);
    })();
    expect(link).not.toContain(other.host);
  });

  it("with the tenant's configured page, uses that page whatever the Host", async () => {
    const tt = await createTestTenant({ resetLink: { url: "https://app.customer.example/reset?t={token}" } });
    const r = await send("attacker.example", "POST", "/v1.0/auth/passwordReset", { username: "alice" }, { ...(env as unknown as Env), DEFAULT_TENANT: tt.tenant.id });
    expect(r.status).toBe(200);
    const mail = await eventually(async () => (await services().mailStore.list({ tenantId: tt.tenant.id, to: tt.alice.email!, limit: 1 }))[0]);
    expect(mail.text).toContain("https://app.customer.example/reset?t=");
    expect(mail.text).not.toContain("attacker.example");
  });
});

describe("GET /.well-known/openid-configuration: jwks_uri", () => {
  it("with Host: attacker.example names the primary hostname", async () => {
    const r = await send("attacker.example", "GET", "/.well-known/openid-configuration");
    expect(r.status).toBe(200);
    expect(r.body.jwks_uri).toBe(`http://${t.host}/.well-known/jwks.json`);
  });

  it("on a bound hostname names that hostname", async () => {
    expect((await send(second, "GET", "/.well-known/openid-configuration")).body.jwks_uri).toBe(`http://${second}/.well-known/jwks.json`);
  });

  it("in production is https on the bound hostname, with no port from the Host", async () => {
    const prod = { ...fallbackEnv, ENVIRONMENT: "production" } as Env;
    const r = await send("attacker.example:8443", "GET", "/.well-known/openid-configuration", undefined, prod);
    expect(r.status).toBe(200);
    expect(r.body.jwks_uri).toBe(`https://${t.host}/.well-known/jwks.json`);
  });

  it("a tenant with no bound hostname answers 404 rather than echo the Host", async () => {
    const lone = await services().tenants.createTenant({ name: "no hostnames" });
    await services().tenants.createCommunity({ tenantId: lone.id, name: "only" });
    const r = await send("attacker.example", "GET", "/.well-known/openid-configuration", undefined, { ...(env as unknown as Env), DEFAULT_TENANT: lone.id });
    expect(r.status).toBe(404);
    expect(JSON.stringify(r.body)).not.toContain("attacker.example");
  });
});

describe("discovery on a host bound to no tenant, with no default tenant", () => {
  it("answers 404, not 5xx, and names no host", async () => {
    const r = await send("attacker.example", "GET", "/.well-known/openid-configuration", undefined, env as unknown as Env);
    expect(r.status).toBe(404);
    expect(JSON.stringify(r.body)).not.toContain("jwks_uri");
  });
});

describe("GET /authn/sd", () => {
  it("with Host: attacker.example lists the surfaces on the primary hostname", async () => {
    const r = await send("attacker.example", "GET", "/authn/sd");
    expect(r.status).toBe(200);
    expect(r.body.authn).toBe(`http://${t.host}/authn`);
    expect(JSON.stringify(r.body)).not.toContain("attacker.example");
  });

  it("on a bound hostname lists them on that hostname", async () => {
    expect((await send(second, "GET", "/authn/sd")).body.sentinel).toBe(`http://${second}/v1.0/auth`);
  });

  it("on an unbound host with no default tenant answers 404", async () => {
    const r = await send("attacker.example", "GET", "/authn/sd", undefined, env as unknown as Env);
    expect(r.status).toBe(404);
    expect(JSON.stringify(r.body)).not.toContain("attacker.example");
  });
});

import { env, SELF } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callJson } from "../../../test/helpers/http";
import { createTestIdp, type TestIdp } from "../../../test/helpers/oidc-idp";
import { services } from "../../../test/helpers/tenant";
import { bearer, createSentinelTenant, eventually, sentinelLogin, type SentinelTenant, expectSentinelError as expectError, SENTINEL_ERROR_KEYS as ERROR_KEYS } from "../../../test/helpers/sentinel";
import { forgetDiscoveryCache } from "../../core/federation/oidc-connection";
import { forgetJwksCache } from "../../core/federation/remote-jwks";
import { setOutboundFetch } from "../../http/services";

/**
 * Extension routes GET, PATCH and DELETE /sso/connections/{id}: SYSTEM_ADMIN only, Sentinel's
 * error body, validation shared with creation, and what a change or a deletion does to logins
 * that are starting or already in flight.
 */
let t: SentinelTenant;
let other: SentinelTenant;
let idp: TestIdp;
let sys: Record<string, string>;
let otherSys: Record<string, string>;
const ISSUER = "https://idp-admin.example";
const APP = "https://app.example/sso/done";
const SECRETS = ["first-secret-value-0123", "rotated-secret-value-4567"];
/** Every answer's text, to prove no secret is ever in one. */
const answers: string[] = [];

beforeAll(async () => {
  [t, other] = await Promise.all([createSentinelTenant(), createSentinelTenant()]);
  idp = await createTestIdp(ISSUER);
  setOutboundFetch(async (input, init) => idp.handle(new Request(input as RequestInfo, init)));
  forgetJwksCache();
  forgetDiscoveryCache();
  sys = bearer(await sentinelLogin(t, "sysadmin"));
  otherSys = bearer(await sentinelLogin(other, "sysadmin"));
});
afterAll(() => setOutboundFetch(null));

async function api(method: string, path: string, body: unknown, headers: Record<string, string> = sys, host = t.host) {
  const r = await callJson(method, `/v1.0/auth${path}`, body, { host, headers });
  answers.push(JSON.stringify(r.body));
  return r;
}


let n = 0;
const uniqueDomain = () => `d${n++}-${t.community.id}.example`;

/** Creates a connection through POST /sso/connections (explicit endpoints: no discovery). */
async function createConnection(domains: string[], extra: Record<string, unknown> = {}, headers = sys, host = t.host): Promise<Record<string, unknown>> {
  const r = await api(
    "POST",
    "/sso/connections",
    {
      name: "Admin IdP",
      type: "oidc",
      domains,
      issuer: ISSUER,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      authorizationEndpoint: `${ISSUER}/authorize`,
      tokenEndpoint: `${ISSUER}/token`,
      jwksUri: `${ISSUER}/jwks`,
      redirectUris: [APP, "https://app.example/other"],
      ...extra,
    },
    headers,
    host,
  );
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

const initiate = (email: string) => api("POST", "/sso/initiate", { email }, {});

/** GET on our callback without following the redirect. */
const callback = (pathAndQuery: string) => SELF.fetch(`http://${t.host}${pathAndQuery}`, { headers: { host: t.host, "cf-connecting-ip": "203.0.113.7" }, redirect: "manual" });

/** Initiates a login and takes it through the IdP, stopping before our callback. */
async function loginUpToCallback(email: string): Promise<URL> {
  const r = await initiate(email);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  idp.nextUser = { sub: `sub-${crypto.randomUUID()}`, email, email_verified: true };
  const atIdp = await idp.handle(new Request(r.body.authorizationUrl as string));
  expect(atIdp.status).toBe(302);
  return new URL(atIdp.headers.get("location")!);
}

describe("GET /sso/connections/{id}", () => {
  it("answers one connection without its secret", async () => {
    const created = await createConnection([uniqueDomain()], { clientSecret: SECRETS[0] });
    const r = await api("GET", `/sso/connections/${created.id as string}`, undefined);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(created);
    expect(r.body.hasClientSecret).toBe(true);
    expect(r.body).not.toHaveProperty("clientSecret");
    expect(r.body).not.toHaveProperty("clientSecretSealed");
  });

  it("404 for an unknown id, in the Sentinel shape", async () => {
    const r = await api("GET", "/sso/connections/no-such-connection", undefined);
    expectError(r, 404, "not_found");
    expect(r.body.path).toBe("/v1.0/auth/sso/connections/no-such-connection");
  });
});

describe("PATCH /sso/connections/{id}", () => {
  it("renames and rotates the secret; stores it sealed; audits the changed field names only", async () => {
    const created = await createConnection([uniqueDomain()], { clientSecret: SECRETS[0] });
    const id = created.id as string;
    const before = await env.DB.prepare("SELECT client_secret_sealed FROM sso_connections WHERE id = ?").bind(id).first<{ client_secret_sealed: string }>();
    const r = await api("PATCH", `/sso/connections/${id}`, { name: "Renamed IdP", clientSecret: SECRETS[1], issuer: ISSUER });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ id, name: "Renamed IdP", hasClientSecret: true, domains: created.domains, createdAt: created.createdAt });
    const after = await env.DB.prepare("SELECT client_secret_sealed FROM sso_connections WHERE id = ?").bind(id).first<{ client_secret_sealed: string }>();
    expect(after!.client_secret_sealed).not.toBe(before!.client_secret_sealed);
    expect(after!.client_secret_sealed).not.toContain(SECRETS[1]);
    const events = await eventually(async () => {
      const e = await services().audit.list(t.tenant.id, { type: "sso_connection_updated" });
      return e.find((x) => (x.detail as { connectionId?: string }).connectionId === id) ?? null;
    });
    // The issuer was given unchanged: not a change. No value is recorded, only names.
    expect(events.detail).toEqual({ connectionId: id, fields: ["name", "clientSecret"] });
    expect(events.actorId).toBe(t.sysadmin.uid);
    expect(JSON.stringify(events)).not.toContain(SECRETS[1]);
  });

  it("null removes the client secret; an empty patch changes nothing", async () => {
    const created = await createConnection([uniqueDomain()], { clientSecret: SECRETS[0] });
    const id = created.id as string;
    const r = await api("PATCH", `/sso/connections/${id}`, { clientSecret: null });
    expect(r.status).toBe(200);
    expect(r.body.hasClientSecret).toBe(false);
    const row = await env.DB.prepare("SELECT client_secret_sealed FROM sso_connections WHERE id = ?").bind(id).first<{ client_secret_sealed: string | null }>();
    expect(row!.client_secret_sealed).toBeNull();
    const same = await api("PATCH", `/sso/connections/${id}`, {});
    expect(same.status).toBe(200);
    expect(same.body).toEqual(r.body);
  });

  it("switches from explicit endpoints to discovery when all three are cleared", async () => {
    const created = await createConnection([uniqueDomain()]);
    const r = await api("PATCH", `/sso/connections/${created.id as string}`, { authorizationEndpoint: null, tokenEndpoint: null, jwksUri: null, discoveryUrl: `${ISSUER}/.well-known/openid-configuration` });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ authorizationEndpoint: null, tokenEndpoint: null, jwksUri: null, discoveryUrl: `${ISSUER}/.well-known/openid-configuration` });
  });

  it("moves the connection to another organisation by corpId", async () => {
    const created = await createConnection([uniqueDomain()]);
    const r = await api("PATCH", `/sso/connections/${created.id as string}`, { corpId: t.other.name });
    expect(r.status).toBe(200);
    expect(r.body.communityId).toBe(t.other.id);
  });

  it("disabling stops new logins (404 at initiate); enabling brings them back", async () => {
    const d = uniqueDomain();
    const created = await createConnection([d]);
    const id = created.id as string;
    expect((await initiate(`jane@${d}`)).status).toBe(200);
    const off = await api("PATCH", `/sso/connections/${id}`, { enabled: false });
    expect(off.body.enabled).toBe(false);
    expectError(await initiate(`jane@${d}`), 404, "not_found");
    // A disabled connection keeps its domains.
    expectError(await api("POST", "/sso/connections", { name: "x", type: "oidc", domains: [d], issuer: ISSUER, clientId: "c", redirectUris: [APP] }), 409, "conflict");
    const on = await api("PATCH", `/sso/connections/${id}`, { enabled: true });
    expect(on.body.enabled).toBe(true);
    expect((await initiate(`jane@${d}`)).status).toBe(200);
  });

  it("refuses what creation refuses, and unknown fields, with a 400 and no change", async () => {
    const created = await createConnection([uniqueDomain()]);
    const path = `/sso/connections/${created.id as string}`;
    const bad: unknown[] = [
      { domains: ["not a domain"] },
      { domains: [] },
      { issuer: "http://idp.example" },
      { tokenEndpoint: "https://idp.example/token2", authorizationEndpoint: null },
      { redirectUris: ["https://app.example/cb#frag"] },
      { redirectUris: ["javascript:alert(1)"] },
      { scopes: "email profile" },
      { corpId: "NO-SUCH-CORP" },
      { clientSecret: "" },
      { name: "" },
      { enabled: "yes" },
      { type: "saml" },
      { clientSecretSealed: "x" },
      { domain: ["typo.example"] },
      [],
    ];
    for (const body of bad) expectError(await api("PATCH", path, body), 400, "invalid_request");
    expectError(await api("PATCH", path, "{not json", { ...sys, "content-type": "application/json" }), 400, "invalid_request");
    const now = await api("GET", path, undefined);
    expect(now.body).toEqual(created);
  });

  it("409 for a domain of another connection of the tenant; the connection is unchanged", async () => {
    const [d1, d2] = [uniqueDomain(), uniqueDomain()];
    const a = await createConnection([d1]);
    await createConnection([d2]);
    expectError(await api("PATCH", `/sso/connections/${a.id as string}`, { domains: [d1, d2], name: "Grabby" }), 409, "conflict");
    expect((await api("GET", `/sso/connections/${a.id as string}`, undefined)).body).toEqual(a);
    // Its own domains, reordered or repeated in other case, are no conflict.
    const same = await api("PATCH", `/sso/connections/${a.id as string}`, { domains: [d1.toUpperCase(), d1] });
    expect(same.status).toBe(200);
    expect(same.body.domains).toEqual([d1]);
  });

  it("a domain moved to another connection: initiate goes to the new one", async () => {
    const [keep, moving, theirs] = [uniqueDomain(), uniqueDomain(), uniqueDomain()];
    const a = await createConnection([keep, moving]);
    const b = await createConnection([theirs], { clientId: "client-b" });
    expect(new URL((await initiate(`x@${moving}`)).body.authorizationUrl as string).searchParams.get("client_id")).toBe(idp.clientId);
    expect((await api("PATCH", `/sso/connections/${a.id as string}`, { domains: [keep] })).status).toBe(200);
    expectError(await initiate(`x@${moving}`), 404, "not_found");
    expect((await api("PATCH", `/sso/connections/${b.id as string}`, { domains: [theirs, moving] })).status).toBe(200);
    const r = await initiate(`x@${moving}`);
    expect(r.status).toBe(200);
    expect(new URL(r.body.authorizationUrl as string).searchParams.get("client_id")).toBe("client-b");
    expect(new URL((await initiate(`x@${keep}`)).body.authorizationUrl as string).searchParams.get("client_id")).toBe(idp.clientId);
  });

  it("404 for an unknown id", async () => {
    expectError(await api("PATCH", "/sso/connections/no-such-connection", { name: "x" }), 404, "not_found");
  });
});

describe("DELETE /sso/connections/{id}", () => {
  it("204, then 404; its domain no longer starts a login and is free again", async () => {
    const d = uniqueDomain();
    const created = await createConnection([d]);
    const path = `/sso/connections/${created.id as string}`;
    const r = await api("DELETE", path, undefined);
    expect(r.status).toBe(204);
    expectError(await api("GET", path, undefined), 404, "not_found");
    expectError(await api("DELETE", path, undefined), 404, "not_found");
    expectError(await api("PATCH", path, { name: "x" }), 404, "not_found");
    expectError(await initiate(`jane@${d}`), 404, "not_found");
    expect((await api("GET", "/sso/connections", undefined)).body).not.toContainEqual(expect.objectContaining({ id: created.id }));
    const index = await env.DB.prepare("SELECT count(*) AS n FROM sso_connection_domains WHERE domain = ?").bind(d).first<{ n: number }>();
    expect(index!.n).toBe(0);
    await createConnection([d]);
    await eventually(async () => (await services().audit.list(t.tenant.id, { type: "sso_connection_deleted" })).some((e) => (e.detail as { connectionId?: string }).connectionId === created.id));
  });
});

describe("logins in flight", () => {
  it("a callback for a deleted connection is a 400 in the Sentinel shape, with no redirect and no user", async () => {
    const d = uniqueDomain();
    const created = await createConnection([d]);
    const cb = await loginUpToCallback(`jane@${d}`);
    expect((await api("DELETE", `/sso/connections/${created.id as string}`, undefined)).status).toBe(204);
    const res = await callback(`${cb.pathname}${cb.search}`);
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(ERROR_KEYS);
    expect(body).toMatchObject({ status: 400, code: "invalid_grant", path: "/v1.0/auth/sso/callback" });
    expect(await services().users.byExternalSubject(t.tenant.id, `${ISSUER}|${idp.nextUser.sub}`)).toBeNull();
  });

  it("a callback whose app redirect URI was removed from the connection is a 400, not a redirect there", async () => {
    const d = uniqueDomain();
    const created = await createConnection([d]);
    const cb = await loginUpToCallback(`jane@${d}`); // goes back to APP, the first redirect URI
    expect((await api("PATCH", `/sso/connections/${created.id as string}`, { redirectUris: ["https://app.example/other"] })).status).toBe(200);
    const res = await callback(`${cb.pathname}${cb.search}`);
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
  });

  it("a callback for a disabled connection goes back to the app with an error and no token", async () => {
    const d = uniqueDomain();
    const created = await createConnection([d]);
    const cb = await loginUpToCallback(`jane@${d}`);
    await api("PATCH", `/sso/connections/${created.id as string}`, { enabled: false });
    const res = await callback(`${cb.pathname}${cb.search}`);
    expect(res.status).toBe(302);
    const f = new URLSearchParams(res.headers.get("location")!.split("#")[1]);
    expect(f.get("error")).toBe("access_denied");
    expect(f.get("token")).toBeNull();
  });

  it("a login started after a secret rotation uses the new secret at the token endpoint", async () => {
    const d = uniqueDomain();
    const created = await createConnection([d], { clientSecret: "stale-secret-0000" });
    const saved = idp.clientSecret;
    try {
      idp.clientSecret = "fresh-secret-at-the-idp-1111";
      await api("PATCH", `/sso/connections/${created.id as string}`, { clientSecret: idp.clientSecret });
      const cb = await loginUpToCallback(`jane@${d}`);
      const res = await callback(`${cb.pathname}${cb.search}`);
      expect(res.status).toBe(302);
      expect(new URLSearchParams(res.headers.get("location")!.split("#")[1]).get("token")).toBeTruthy();
    } finally {
      idp.clientSecret = saved;
    }
  });
});

describe("who may", () => {
  let id: string;
  let path: string;
  beforeAll(async () => {
    id = (await createConnection([uniqueDomain()])).id as string;
    path = `/sso/connections/${id}`;
  });
  const calls = (): [string, unknown][] => [
    ["GET", undefined],
    ["PATCH", { name: "Hijacked" }],
    ["DELETE", undefined],
  ];

  it("401 without a token, or with a bad one", async () => {
    for (const [method, body] of calls()) {
      for (const headers of [{}, { authorization: "Bearer not-a-jwt" }] as Record<string, string>[]) {
        const r = await api(method, path, body, headers);
        expectError(r, 401);
        expect(r.body.path).toBe(`/v1.0/auth${path}`);
      }
    }
  });

  it("403 for every role below SYSTEM_ADMIN; nothing changes", async () => {
    for (const who of ["alice", "orgadmin", "helpdesk", "admin"]) {
      const h = bearer(await sentinelLogin(t, who));
      for (const [method, body] of calls()) expectError(await api(method, path, body, h), 403, "forbidden");
    }
    const r = await api("GET", path, undefined);
    expect(r.status).toBe(200);
    expect(r.body.name).toBe("Admin IdP");
  });

  it("another tenant's administrator gets 404 for this tenant's connection, and cannot change or delete it", async () => {
    for (const [method, body] of calls()) expectError(await api(method, path, body, otherSys, other.host), 404, "not_found");
    // Nor with its own host but this tenant's token (a token is valid for its tenant only).
    expectError(await api("GET", path, undefined, otherSys), 401);
    const r = await api("GET", path, undefined);
    expect(r.status).toBe(200);
    expect(r.body.name).toBe("Admin IdP");
    // And the other way round: its connection is invisible here.
    const theirs = await createConnection([`theirs-${other.community.id}.example`], {}, otherSys, other.host);
    expectError(await api("GET", `/sso/connections/${theirs.id as string}`, undefined), 404, "not_found");
    expectError(await api("DELETE", `/sso/connections/${theirs.id as string}`, undefined), 404, "not_found");
    expect((await api("GET", `/sso/connections/${theirs.id as string}`, undefined, otherSys, other.host)).status).toBe(200);
  });
});

describe("secrets", () => {
  it("no answer of this file ever carried a client secret", () => {
    expect(answers.length).toBeGreaterThan(50);
    for (const text of answers) for (const s of [...SECRETS, idp.clientSecret, "stale-secret-0000", "fresh-secret-at-the-idp-1111"]) expect(text).not.toContain(s);
  });
});

describe("the store", () => {
  it("update of a connection deleted meanwhile writes nothing, and leaves no domain held", async () => {
    const svc = services();
    const d = uniqueDomain();
    const c = await svc.ssoConnections.byId(t.tenant.id, (await createConnection([uniqueDomain()])).id as string);
    expect(await svc.ssoConnections.delete(t.tenant.id, c!.id)).toBe(true);
    expect(await svc.ssoConnections.update({ ...c!, domains: [d] })).toBeNull();
    const index = await env.DB.prepare("SELECT count(*) AS n FROM sso_connection_domains WHERE connection_id = ? OR domain = ?").bind(c!.id, d).first<{ n: number }>();
    expect(index!.n).toBe(0);
    expect(await svc.ssoConnections.delete(t.tenant.id, c!.id)).toBe(false);
  });

  it("a domain bound to another connection rolls the whole update back", async () => {
    const svc = services();
    const [d1, d2] = [uniqueDomain(), uniqueDomain()];
    const a = (await svc.ssoConnections.byId(t.tenant.id, (await createConnection([d1])).id as string))!;
    await createConnection([d2]);
    await expect(svc.ssoConnections.update({ ...a, name: "changed", domains: [d2] })).rejects.toThrow(/UNIQUE/);
    expect(await svc.ssoConnections.byId(t.tenant.id, a.id)).toEqual(a);
    expect((await svc.ssoConnections.byDomain(t.tenant.id, d1))?.id).toBe(a.id);
  });
});

describe("OpenAPI", () => {
  it("documents the three routes and the patch body (nullable secret, enabled, no type)", async () => {
    const doc = (await callJson<{ paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, { properties: Record<string, unknown>; additionalProperties?: unknown }> } }>("GET", "/openapi/sentinel.json", undefined, { host: t.host })).body;
    expect(Object.keys(doc.paths["/sso/connections/{id}"] ?? {}).sort()).toEqual(["delete", "get", "patch"]);
    const patch = doc.components.schemas.SsoConnectionPatch!;
    expect(Object.keys(patch.properties)).toEqual(expect.arrayContaining(["name", "domains", "clientSecret", "enabled", "redirectUris", "corpId"]));
    expect(patch.properties).not.toHaveProperty("type");
    expect(patch.additionalProperties).toBe(false);
  });
});

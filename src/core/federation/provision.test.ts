import { outcomeCode as code } from "../../../test/helpers/outcome";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import type { Scope } from "../context";
import { parseTenantSettings } from "../tenants/settings";
import { TestIdp } from "../../../test/helpers/idp";
import { forgetDiscoveryCache } from "./discovery";
import { groupsClaim, mapOktaGroups, oktaJwksUri } from "./okta";
import { externalSubjectOf, provisionFederatedUser } from "./provision";

let t: TestTenant;
let scope: Scope;
beforeAll(async () => {
  t = await createTestTenant();
  scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "203.0.113.9", userAgent: null };
});

const ISS = "https://idp.example.test";

describe("provisionFederatedUser", () => {
  it("creates on first login, then finds the same user and refreshes roles, groups and email", async () => {
    const svc = services();
    const first = await provisionFederatedUser(svc, scope, { issuer: ISS, sub: "s-1", username: "Fed.User", email: "Fed@Example.test", emailVerified: true, roles: ["a"], groups: ["g1"] });
    expect(first.created).toBe(true);
    expect(first.user).toMatchObject({ username: "fed.user", email: "fed@example.test", emailVerified: true, roles: ["a"], groups: ["g1"], passwordHash: null, externalSubject: `${ISS}|s-1` });
    const second = await provisionFederatedUser(svc, scope, { issuer: ISS, sub: "s-1", username: "renamed", email: "new@example.test", roles: ["b"], groups: ["g2"] });
    expect(second.created).toBe(false);
    expect(second.user.id).toBe(first.user.id);
    // The username is kept; what the IdP is authoritative for follows it.
    expect(second.user).toMatchObject({ username: "fed.user", email: "new@example.test", roles: ["b"], groups: ["g2"] });
    const stored = await svc.users.byUid(t.tenant.id, first.user.uid);
    expect(stored).toMatchObject({ roles: ["b"], groups: ["g2"], email: "new@example.test" });
  });

  it("leaves roles alone when none are given", async () => {
    const svc = services();
    const a = await provisionFederatedUser(svc, scope, { issuer: ISS, sub: "s-keep", username: "keeper", roles: ["kept"] });
    const b = await provisionFederatedUser(svc, scope, { issuer: ISS, sub: "s-keep" });
    expect(b.user.id).toBe(a.user.id);
    expect(b.user.roles).toEqual(["kept"]);
  });

  it("the same sub at another issuer is another user", async () => {
    const svc = services();
    const a = await provisionFederatedUser(svc, scope, { issuer: ISS, sub: "same", username: "same-a" });
    const b = await provisionFederatedUser(svc, scope, { issuer: "https://other.example.test", sub: "same", username: "same-b" });
    expect(a.user.id).not.toBe(b.user.id);
  });

  it("falls back from username to email to sub", async () => {
    const svc = services();
    expect((await provisionFederatedUser(svc, scope, { issuer: ISS, sub: "s-e", email: "only@mail.test" })).user.username).toBe("only@mail.test");
    expect((await provisionFederatedUser(svc, scope, { issuer: ISS, sub: "00uSUBONLY" })).user.username).toBe("00usubonly");
  });

  it("never links to a local user holding the username (conflict), and refuses disabled users", async () => {
    const svc = services();
    expect(await code(provisionFederatedUser(svc, scope, { issuer: ISS, sub: "s-admin", username: "ADMIN", roles: ["admin"] }))).toBe("conflict");
    expect(await svc.users.byExternalSubject(t.tenant.id, externalSubjectOf(ISS, "s-admin"))).toBeNull();
    const { user } = await provisionFederatedUser(svc, scope, { issuer: ISS, sub: "s-off", username: "off" });
    await svc.users.update(t.tenant.id, user.uid, { disabled: true });
    expect(await code(provisionFederatedUser(svc, scope, { issuer: ISS, sub: "s-off" }))).toBe("user_disabled");
  });

  it("refuses a community of another tenant, and an empty identity", async () => {
    const svc = services();
    const other = await createTestTenant();
    expect(await code(provisionFederatedUser(svc, scope, { issuer: ISS, sub: "s-x", username: "x" }, { communityId: other.community.id }))).toBe("not_configured");
    expect(await code(provisionFederatedUser(svc, scope, { issuer: "", sub: "s" }))).toBe("invalid_request");
    expect(await code(provisionFederatedUser(svc, scope, { issuer: ISS, sub: "" }))).toBe("invalid_request");
  });

  it("concurrent first logins of one identity create exactly one user", async () => {
    const svc = services();
    const results = await Promise.all(Array.from({ length: 10 }, () => provisionFederatedUser(svc, scope, { issuer: ISS, sub: "s-race", username: "race" })));
    expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
    expect(results.filter((r) => r.created).length).toBe(1);
  });
});

describe("Okta helpers", () => {
  it("maps groups to the sorted union of roles, ignoring unmapped and prototype keys", () => {
    const map = { admins: ["admin", "user"], ops: ["operator", "user"] };
    expect(mapOktaGroups(map, ["ops", "admins", "Everyone", "__proto__", "constructor"])).toEqual(["admin", "operator", "user"]);
    expect(mapOktaGroups(map, [])).toEqual([]);
  });

  it("takes the JWKS location from the issuer's discovery document unless one is configured", async () => {
    const svc = services();
    forgetDiscoveryCache();
    // An org authorization server: keys at <org>/oauth2/v1/keys, not <issuer>/v1/keys.
    const org = `https://org-${Date.now()}.okta.test`;
    const idp = await TestIdp.create({ issuer: org, jwksUri: `${org}/oauth2/v1/keys` });
    const base = { baseUrl: "b", clientId: "c", audience: "a", mapRoles: {} };
    expect(await oktaJwksUri(svc, { ...base, issuer: idp.issuer })).toBe(idp.jwksUri);
    expect(idp.discoveryFetches).toBe(1);
    expect(await oktaJwksUri(svc, { ...base, issuer: idp.issuer, jwksUri: "https://x.okta.com/keys" })).toBe("https://x.okta.com/keys");
    // A discovery document naming another issuer (a trailing slash) is not used.
    const slash = await TestIdp.create({ issuer: `https://slash-${Date.now()}.okta.test/oauth2/default` });
    slash.discoveryIssuer = `${slash.issuer}/`;
    expect(await code(oktaJwksUri(svc, { ...base, issuer: slash.issuer }))).toBe("upstream_error");
  });

  it("reads groups only from a groups claim that is present", () => {
    expect(groupsClaim(undefined)).toBeUndefined();
    expect(groupsClaim(null)).toBeUndefined();
    expect(groupsClaim({ a: 1 })).toBeUndefined();
    expect(groupsClaim([])).toEqual([]);
    expect(groupsClaim("admins")).toEqual(["admins"]);
    expect(groupsClaim(["admins", 3, "", "ops"])).toEqual(["admins", "ops"]);
  });
});

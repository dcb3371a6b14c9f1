import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import type { Scope } from "../context";
import { AuthError } from "../errors";
import { parseTenantSettings } from "../tenants/settings";
import { consumeSamlResponse, externalIdpForResponse, PUBLIC_FAILURE } from "./acs";
import { registerTestIdp, type TestExternalIdp } from "./test-idp";

let t: TestTenant;
let other: TestTenant;
let scope: Scope;
let otherScope: Scope;
let idp: TestExternalIdp;
let jit: TestExternalIdp;
const ORIGIN = "https://sp.example.test";

const scopeOf = (tt: TestTenant): Scope => ({ tenant: tt.tenant, settings: parseTenantSettings(tt.tenant.settings), community: tt.community, ip: "203.0.113.7", userAgent: null });

beforeAll(async () => {
  t = await createTestTenant();
  other = await createTestTenant();
  scope = scopeOf(t);
  otherScope = scopeOf(other);
  idp = await registerTestIdp(services(), scope, { origin: ORIGIN });
  jit = await registerTestIdp(services(), scope, { origin: ORIGIN, usersInIdpStore: true });
});

async function refusal(p: Promise<unknown>): Promise<AuthError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(AuthError);
  expect((e as AuthError).code).toBe("invalid_token");
  expect((e as AuthError).message).toBe(PUBLIC_FAILURE);
  return e as AuthError;
}

describe("consumeSamlResponse", () => {
  it("SP-initiated: signs in the community's existing user named by NameID (usersInIdpStore false) and returns the request's relay", async () => {
    const svc = services();
    const rid = await idp.request({ returnUrl: "https://app.example/after" });
    const SAMLResponse = await idp.response({ inResponseTo: rid, nameId: "alice" });
    const found = await externalIdpForResponse(svc, scope, SAMLResponse);
    expect(found?.id).toBe(idp.record.id);
    const r = await consumeSamlResponse(svc, scope, found, { SAMLResponse, RelayState: "xyz" }, { acsUrl: idp.acsUrl });
    expect(r.user.uid).toBe(t.alice.uid);
    expect(r.created).toBe(false);
    expect(r.request?.relay).toEqual({ returnUrl: "https://app.example/after" });
    expect(r.relayState).toBe("xyz");
    expect(r.identity.attributes.groups).toEqual(["staff", "admins"]);
  });

  it("the same Response again is refused: its request and its assertion are spent", async () => {
    const svc = services();
    const SAMLResponse = await idp.response({ inResponseTo: await idp.request(), nameId: "alice" });
    await consumeSamlResponse(svc, scope, idp.record, { SAMLResponse }, { acsUrl: idp.acsUrl });
    await refusal(consumeSamlResponse(svc, scope, idp.record, { SAMLResponse }, { acsUrl: idp.acsUrl }));
  });

  it("race: the same SAMLResponse posted 10 times at once signs in exactly once", async () => {
    const svc = services();
    for (const inResponseTo of [await idp.request(), null]) {
      const SAMLResponse = await idp.response({ inResponseTo, nameId: "alice" });
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => consumeSamlResponse(svc, scope, idp.record, { SAMLResponse }, { acsUrl: idp.acsUrl, allowUnsolicited: true })));
      expect(results.filter((x) => x.status === "fulfilled")).toHaveLength(1);
      for (const x of results) if (x.status === "rejected") expect((x.reason as AuthError).code).toBe("invalid_token");
    }
  });

  it("unsolicited responses only where the caller allows them; an unknown or foreign request ID is refused", async () => {
    const svc = services();
    await refusal(consumeSamlResponse(svc, scope, idp.record, { SAMLResponse: await idp.response({ inResponseTo: null, nameId: "alice" }) }, { acsUrl: idp.acsUrl }));
    await refusal(consumeSamlResponse(svc, scope, idp.record, { SAMLResponse: await idp.response({ inResponseTo: "_" + "ab".repeat(20), nameId: "alice" }) }, { acsUrl: idp.acsUrl }));
    // A request sent to another IdP cannot be answered by this one.
    const toJit = await jit.request();
    await refusal(consumeSamlResponse(svc, scope, idp.record, { SAMLResponse: await idp.response({ inResponseTo: toJit, nameId: "alice" }) }, { acsUrl: idp.acsUrl }));
  });

  it("usersInIdpStore false: an unknown NameID is refused exactly like a bad signature (nothing tells)", async () => {
    const svc = services();
    const unknown = await refusal(consumeSamlResponse(svc, scope, idp.record, { SAMLResponse: await idp.response({ inResponseTo: await idp.request(), nameId: "nobody-here" }) }, { acsUrl: idp.acsUrl }));
    const forged = await refusal(consumeSamlResponse(svc, scope, idp.record, { SAMLResponse: (await jit.response({ inResponseTo: await idp.request(), nameId: "alice", issuer: idp.entityId })) }, { acsUrl: idp.acsUrl }));
    expect(unknown.message).toBe(forged.message);
    expect(await svc.users.byUsername(t.community.id, "nobody-here")).toBeNull();
  });

  it("usersInIdpStore true: provisions on first login (email, groups), finds the same user after", async () => {
    const svc = services();
    const first = await consumeSamlResponse(svc, scope, jit.record, { SAMLResponse: await jit.response({ inResponseTo: await jit.request(), nameId: "fed.one@example.org", attributes: { mail: ["fed.one@example.org"], groups: ["g1"] } }) }, { acsUrl: jit.acsUrl });
    expect(first.created).toBe(true);
    expect(first.user).toMatchObject({ username: "fed.one@example.org", email: "fed.one@example.org", groups: ["g1"], externalSubject: `${jit.entityId}|fed.one@example.org` });
    const second = await consumeSamlResponse(svc, scope, jit.record, { SAMLResponse: await jit.response({ inResponseTo: await jit.request(), nameId: "fed.one@example.org" }) }, { acsUrl: jit.acsUrl });
    expect(second.user.uid).toBe(first.user.uid);
    expect(second.created).toBe(false);
    // A local account's username is never taken over by a federated identity.
    await refusal(consumeSamlResponse(svc, scope, jit.record, { SAMLResponse: await jit.response({ inResponseTo: await jit.request(), nameId: "admin" }) }, { acsUrl: jit.acsUrl }));
  });

  it("another tenant's IdP, a wrong ACS URL, hostile input: refused, never a crash", async () => {
    const svc = services();
    const SAMLResponse = await idp.response({ inResponseTo: await idp.request(), nameId: "alice" });
    expect(await externalIdpForResponse(svc, otherScope, SAMLResponse)).toBeNull();
    await refusal(consumeSamlResponse(svc, otherScope, idp.record, { SAMLResponse }, { acsUrl: idp.acsUrl }));
    await refusal(consumeSamlResponse(svc, scope, idp.record, { SAMLResponse }, { acsUrl: idp.acsUrl + "x" }));
    for (const bad of [undefined, 42, "", "%%%", "PHg+", ["a"], { a: 1 }]) {
      expect(await externalIdpForResponse(svc, scope, bad)).toBeNull();
      await refusal(consumeSamlResponse(svc, scope, idp.record, { SAMLResponse: bad }, { acsUrl: idp.acsUrl }));
    }
    await refusal(consumeSamlResponse(svc, scope, null, { SAMLResponse }, { acsUrl: idp.acsUrl }));
    await refusal(consumeSamlResponse(svc, scope, idp.record, { SAMLResponse, RelayState: "r".repeat(5000) }, { acsUrl: idp.acsUrl }));
  });
});

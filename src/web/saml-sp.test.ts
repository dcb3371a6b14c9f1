import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { call } from "../../test/helpers/http";
import { createTestTenant, services, type TestTenant } from "../../test/helpers/tenant";
import type { Scope } from "../core/context";
import { registerTestIdp, type TestExternalIdp } from "../core/saml-sp/test-idp";
import { parseTenantSettings } from "../core/tenants/settings";
import { hostedLoginPath } from "./saml-sp";

let t: TestTenant;
let idp: TestExternalIdp;
let scope: Scope;
beforeAll(async () => {
  t = await createTestTenant();
  scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "203.0.113.7", userAgent: null };
  // In development the public origin is the request's scheme and bound host (core/tenants/public-origin).
  idp = await registerTestIdp(services(), scope, { origin: `http://${t.host}` });
});

const acs = () => `/saml/${t.community.id}/sp/acs`;
// SELF.fetch follows redirects unless told not to: the ACS's 303 is what is checked.
const post = (form: Record<string, string>) =>
  SELF.fetch(`http://${t.host}${acs()}`, { method: "POST", redirect: "manual", headers: { host: t.host, "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": "203.0.113.7" }, body: new URLSearchParams(form).toString() });

describe("POST /saml/<communityId>/sp/acs", () => {
  it("a verified Response signs the user in on the hosted login and continues to the RelayState path", async () => {
    const SAMLResponse = await idp.response({ inResponseTo: await idp.request(), nameId: "alice" });
    const next = `/oidc/${t.community.id}/authorize?client_id=x&state=1`;
    const res = await post({ SAMLResponse, RelayState: next });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(next);
    expect(res.headers.get("set-cookie")).toMatch(/__Host-edge-auth-sso=/);
    // Replayed: refused, no session.
    const again = await post({ SAMLResponse, RelayState: next });
    expect(again.status).toBe(400);
    expect(again.headers.get("set-cookie") ?? "").not.toMatch(/edge-auth-sso=/);
  });

  it("a RelayState outside this community's hosted login is never followed (no open redirect)", async () => {
    for (const relay of ["https://evil.example/", "//evil.example/", `/oidc/${t.community.id}//evil.example`, `/oidc/${t.community.id}/\\evil`, `/oidc/other/authorize`, `/oidc/${t.community.id}/%2F%2Fevil`, "javascript:alert(1)"]) {
      const SAMLResponse = await idp.response({ inResponseTo: await idp.request(), nameId: "alice" });
      const res = await post({ SAMLResponse, RelayState: relay });
      expect(res.status, relay).toBe(200);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).toContain("Signed in");
    }
    expect(hostedLoginPath(`/oidc/c1/authorize?x=1`, "c1")).toBe(`/oidc/c1/authorize?x=1`);
  });

  it("hostile input: garbage, not a form, oversized, unknown community, a forged signature: 4xx pages, never 5xx", async () => {
    expect((await post({ SAMLResponse: "garbage" })).status).toBe(400);
    expect((await post({})).status).toBe(400);
    expect((await call("POST", acs(), JSON.stringify({ SAMLResponse: "x" }), { host: t.host, headers: { "content-type": "application/json" } })).status).toBe(415);
    expect((await call("POST", acs(), "SAMLResponse=" + "A".repeat(600_000), { host: t.host, headers: { "content-type": "application/x-www-form-urlencoded" } })).status).toBe(413);
    expect((await call("POST", `/saml/no-such-community/sp/acs`, new URLSearchParams({ SAMLResponse: "x" }), { host: t.host })).status).toBe(404);
    const forged = await idp.response({ inResponseTo: await idp.request(), nameId: "alice" });
    const tampered = btoa(atob(forged).replace(">alice<", ">admin<"));
    expect((await post({ SAMLResponse: tampered })).status).toBe(400);
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import type { Scope } from "../context";
import { parseTenantSettings } from "../tenants/settings";
import { consumeCloudCheckrResponse } from "./cloudcheckr-acs";
import { registerTestIdp, type TestExternalIdp } from "./test-idp";

let t: TestTenant;
let scope: Scope;
let idp: TestExternalIdp;
let other: TestExternalIdp;
const ACS = "https://cc.example.test/v1/auth/saml/acs";

beforeAll(async () => {
  t = await createTestTenant();
  scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "203.0.113.7", userAgent: null };
  idp = await registerTestIdp(services(), scope, { origin: "https://cc.example.test", acsUrl: ACS });
  other = await registerTestIdp(services(), scope, { origin: "https://cc.example.test", acsUrl: ACS });
});

const cfg = () => ({ communityId: t.community.id, externalIdpId: idp.record.id, dashboardUrl: "https://dash.example.test/home" });

describe("consumeCloudCheckrResponse", () => {
  it("redirects to the return URL kept at login, the CloudCheckr token in the fragment", async () => {
    const SAMLResponse = await idp.response({ inResponseTo: await idp.request({ returnUrl: "https://dash.example.test/reports?x=1", relayState: "r1" }), nameId: "alice" });
    const r = await consumeCloudCheckrResponse(services(), scope, cfg(), { SAMLResponse, RelayState: "https://evil.example/" }, { acsUrl: ACS });
    const u = new URL(r.redirect);
    expect(`${u.origin}${u.pathname}${u.search}`).toBe("https://dash.example.test/reports?x=1");
    const f = new URLSearchParams(u.hash.slice(1));
    expect(f.get("token")).toMatch(/^ey/);
    expect(f.get("token_type")).toBe("Bearer");
    expect(r.uid).toBe(t.alice.uid);
  });

  it("without a kept return URL: the dashboard; the wire RelayState is never followed", async () => {
    const SAMLResponse = await idp.response({ inResponseTo: await idp.request(), nameId: "alice" });
    const r = await consumeCloudCheckrResponse(services(), scope, cfg(), { SAMLResponse, RelayState: "https://evil.example/" }, { acsUrl: ACS });
    expect(r.redirect.startsWith("https://dash.example.test/home#token=")).toBe(true);
  });

  it("only the configured IdP: a Response from another registered IdP is refused; unsolicited too", async () => {
    const fromOther = await other.response({ inResponseTo: await other.request(), nameId: "alice" });
    await expect(consumeCloudCheckrResponse(services(), scope, cfg(), { SAMLResponse: fromOther }, { acsUrl: ACS })).rejects.toMatchObject({ code: "invalid_token" });
    const unsolicited = await idp.response({ inResponseTo: null, nameId: "alice" });
    await expect(consumeCloudCheckrResponse(services(), scope, cfg(), { SAMLResponse: unsolicited }, { acsUrl: ACS })).rejects.toMatchObject({ code: "invalid_token" });
    await expect(consumeCloudCheckrResponse(services(), scope, { ...cfg(), communityId: "nope" }, { SAMLResponse: unsolicited }, { acsUrl: ACS })).rejects.toMatchObject({ code: "not_configured" });
  });
});

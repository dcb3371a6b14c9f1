import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services } from "../../../../test/helpers/tenant";
import type { Scope } from "../../../core/context";
import { consumeSamlResponse } from "../../../core/saml-sp/acs";
import { registerTestIdp, type TestExternalIdp } from "../../../core/saml-sp/test-idp";
import { parseTenantSettings } from "../../../core/tenants/settings";
import { newSamlId } from "../xml";

/**
 * Replayed assertion ID — SAML Profiles §4.1.4.5: "the service provider MUST ensure that bearer
 * assertions are not replayed, by maintaining the set of used ID values for the length of time
 * for which the assertion would be considered valid". The attacker re-posts a captured
 * Response, or re-wraps its (still valid, signed) Assertion in a fresh Response.
 * Closed by: core/saml-sp/acs.ts claims `<issuer>\n<assertion ID>` once in the ReplayGuard
 * Durable Object (one synchronous check-and-insert, so racing posts cannot both win) until the
 * assertion's NotOnOrAfter plus skew. Unsolicited responses are used here because they have no
 * request ID to spend: the assertion ID is the only guard.
 */
let scope: Scope;
let idp: TestExternalIdp;
beforeAll(async () => {
  const t = await createTestTenant();
  scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "203.0.113.8", userAgent: null };
  idp = await registerTestIdp(services(), scope, { origin: "https://sp.example.test" });
});

const ctx = () => ({ acsUrl: idp.acsUrl, allowUnsolicited: true });

describe("replayed assertion ID", () => {
  it("the same Response posted twice signs in once", async () => {
    const SAMLResponse = await idp.response({ inResponseTo: null, nameId: "alice" });
    await consumeSamlResponse(services(), scope, idp.record, { SAMLResponse }, ctx());
    await expect(consumeSamlResponse(services(), scope, idp.record, { SAMLResponse }, ctx())).rejects.toMatchObject({ code: "invalid_token" });
  });

  it("the same Assertion ID in a freshly built Response is refused", async () => {
    const assertionId = newSamlId();
    await consumeSamlResponse(services(), scope, idp.record, { SAMLResponse: await idp.response({ inResponseTo: null, nameId: "alice", assertionId }) }, ctx());
    const rewrapped = await idp.response({ inResponseTo: null, nameId: "alice", assertionId, responseId: newSamlId() });
    await expect(consumeSamlResponse(services(), scope, idp.record, { SAMLResponse: rewrapped }, ctx())).rejects.toMatchObject({ code: "invalid_token" });
  });

  it("ten racing posts of one Response: exactly one succeeds", async () => {
    const SAMLResponse = await idp.response({ inResponseTo: null, nameId: "alice" });
    const all = await Promise.allSettled(Array.from({ length: 10 }, () => consumeSamlResponse(services(), scope, idp.record, { SAMLResponse }, ctx())));
    expect(all.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { forgetTenantCache } from "../../http/tenant";
import { Browser } from "../../../test/helpers/hosted-login";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { DEMO_SAML, seedSamlDemo } from "./seed-saml";

let t: TestTenant;
beforeAll(async () => {
  t = await createTestTenant();
  forgetTenantCache();
});

describe("demo SAML seed", () => {
  it("registers the demo SP once (idempotent) with IdP-initiated sign-in open, reachable through the hosted login", async () => {
    const first = await seedSamlDemo(services(), t.tenant.id, t.community.id);
    const again = await seedSamlDemo(services(), t.tenant.id, t.community.id);
    expect(first.sp).toMatchObject({ entityId: DEMO_SAML.entityId, acsUrl: DEMO_SAML.acsUrl, created: true });
    expect(again.sp).toMatchObject({ spId: first.sp.spId, created: false });
    expect(first.metadataPath).toBe(`/saml/${t.community.id}/metadata`);
    expect(first.wsfed).toMatchObject({ realm: DEMO_SAML.wsfed.realm, reply: DEMO_SAML.wsfed.reply, created: true });
    expect(again.wsfed).toMatchObject({ spId: first.wsfed.spId, created: false });
    const rp = await services().identity.serviceProviders.get(t.tenant.id, t.community.id, first.wsfed.spId);
    expect((rp!.body.saml_config as { wsfed?: { enabled?: boolean } }).wsfed?.enabled).toBe(true);
    const res = await new Browser(t.host).get(first.idpInitPath);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("to continue to Demo SAML app");
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { authnCaller, issueTestLicense } from "../../test/helpers/authn";
import { callJson } from "../../test/helpers/http";
import { createTestTenant, type TestTenant } from "../../test/helpers/tenant";

let t: TestTenant;
const BOOT = "test-bootstrap-system-license-0123456789";

beforeAll(async () => {
  t = await createTestTenant();
});

describe("authn guard", () => {
  it("accepts a system license on the management API and answers an envelope", async () => {
    const caller = await authnCaller(t.host, BOOT);
    const r = await caller.call("POST", "/authn/manage/license/list", { tenantId: t.tenant.id });
    expect(r.status).toBe(200);
    expect(r.body.publicKey).toBe(caller.servicePublicKey);
    expect(typeof r.body.data).toBe("string");
    expect(r.data).toEqual({ licenses: [] });
  });

  it("refuses a service license on a system endpoint with 403", async () => {
    const { licenseKey } = await issueTestLicense(t.tenant.id, "service", [t.community.id]);
    const caller = await authnCaller(t.host, licenseKey);
    const r = await caller.call("POST", "/authn/manage/license/list", { tenantId: t.tenant.id });
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ statusCode: 403, error: "Forbidden" });
  });

  it("answers 401 without headers", async () => {
    const r = await callJson("POST", "/authn/manage/license/list", { data: "x" }, { host: t.host });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ statusCode: 401, error: "Unauthorized" });
  });
});

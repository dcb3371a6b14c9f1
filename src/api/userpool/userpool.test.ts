import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, PASSWORD, type TestTenant } from "../../../test/helpers/tenant";
import { callJson } from "../../../test/helpers/http";

let t: TestTenant;
beforeAll(async () => {
  t = await createTestTenant();
});

describe("userpool login", () => {
  it("returns tokens for a correct password", async () => {
    const r = await callJson("POST", "/v1/login", { username: "alice", password: PASSWORD }, { host: t.host });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ expires_in: 86400 });
    expect(typeof r.body.access_token).toBe("string");
    expect(typeof r.body.refresh_token).toBe("string");
  });
});

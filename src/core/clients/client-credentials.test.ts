import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { eventually, scopeOf } from "../../api/userpool/testing";
import { authenticateClient } from "./client-credentials";

let t: TestTenant;
beforeAll(async () => {
  t = await createTestTenant();
});

describe("client authentication and its failure counter", () => {
  it("counts wrong secrets, and a right one clears them", async () => {
    const svc = services();
    const scope = await scopeOf(t, "198.51.100.20");
    for (let i = 0; i < 3; i++) {
      await expect(authenticateClient(svc, scope, t.client.clientId, "wrong-secret-0123456789", "client_credentials")).rejects.toMatchObject({ code: "invalid_client" });
    }
    expect(await svc.limiter.failures(scope, "client", t.client.clientId)).toBe(3);
    await expect(authenticateClient(svc, scope, t.client.clientId, t.clientSecret, "client_credentials")).resolves.toMatchObject({ clientId: t.client.clientId });
    // Cleared after the answer (deferred); services() awaits nothing, so poll.
    await eventually(async () => ((await svc.limiter.failures(scope, "client", t.client.clientId)) === 0 ? true : null));
  });

  it("a client not allowed the grant is forbidden, after its secret was checked", async () => {
    const svc = services();
    const scope = await scopeOf(t, "198.51.100.21");
    await expect(authenticateClient(svc, scope, t.client.clientId, t.clientSecret, "password")).rejects.toMatchObject({ code: "forbidden" });
  });
});

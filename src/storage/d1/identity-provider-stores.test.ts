import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { registerClient, type RegisteredClient } from "../../../test/helpers/hosted-login";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import type { Env } from "../../env";

/**
 * The OIDC client look-up is kept in the isolate for at most one second (every token request
 * reads its client): writes through the store are seen at once, a write elsewhere (another
 * isolate, here a raw statement) within the bound.
 */
let t: TestTenant;
let client: RegisteredClient;

beforeAll(async () => {
  t = await createTestTenant();
  client = await registerClient(t);
});

const find = () => services().identity.serviceProviders.findByClientId(t.tenant.id, t.community.id, client.clientId);

describe("service providers by client_id", () => {
  it("a replace or a removal through the store is seen at once", async () => {
    const store = services().identity.serviceProviders;
    const before = (await find())!;
    expect(before.secretHash).not.toBeNull();
    expect(await store.replace({ ...before, secretHash: "f".repeat(64), updatedAt: Date.now() }, before.version)).toBe(true);
    expect((await find())!.secretHash).toBe("f".repeat(64));
    // What a caller does to its copy does not reach the cache.
    const copy = (await find())!;
    copy.body.oidc_config = { redirect_uris: ["https://evil.example/"] };
    expect(((await find())!.body.oidc_config as { redirect_uris: string[] }).redirect_uris).toEqual([client.redirectUri]);
    expect(await store.remove(t.tenant.id, t.community.id, before.id)).toBe(true);
    expect(await find()).toBeNull();
    client = await registerClient(t);
  });

  it("a change made elsewhere shows within one second; a missing client is never remembered", async () => {
    const first = (await find())!;
    await (env as unknown as Env).DB.prepare("UPDATE service_providers SET secret_hash = ? WHERE id = ?").bind("e".repeat(64), first.id).run();
    expect((await find())!.secretHash).toBe(first.secretHash);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await find())!.secretHash).toBe("e".repeat(64));

    const later = `later-${crypto.randomUUID()}`;
    expect(await services().identity.serviceProviders.findByClientId(t.tenant.id, t.community.id, later)).toBeNull();
    const again = await registerClient(t);
    expect(await services().identity.serviceProviders.findByClientId(t.tenant.id, t.community.id, again.clientId)).not.toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import { createTestTenant, services } from "../../../test/helpers/tenant";
import type { Scope, Services } from "../context";
import type { IdentityProviderStore } from "../../storage/ports-idp";
import { createIdp, oidcIdpId } from "./idps";
import { communityScopes, forgetCommunityScopes, SCOPES_CACHE_MS } from "./scopes";

const def = (name: string, extra: Record<string, unknown> = {}) => ({ name, display_name: name, consent_required: false, claims: [], ...extra });

async function setup() {
  const t = await createTestTenant();
  const scope = { tenant: t.tenant, community: t.community, ip: "203.0.113.7", userAgent: null } as unknown as Scope;
  return { t, scope };
}

/** Services whose IdP store counts list() calls (each is one D1 read). */
function counting(svc: Services): { svc: Services; reads: () => number } {
  let n = 0;
  // The scopes are read through the replica handle (docs/architecture.md "Which reads may use a D1 replica").
  const inner = svc.replicaReads.idps;
  const idps: Pick<IdentityProviderStore, "list"> = { list: (a, b) => { n++; return inner.list(a, b); } };
  return { svc: { ...svc, replicaReads: { ...svc.replicaReads, idps } }, reads: () => n };
}

describe("communityScopes", () => {
  it("a save made elsewhere (another isolate: no eviction here) shows within SCOPES_CACHE_MS, not before", async () => {
    const { t, scope } = await setup();
    const svc = services();
    await createIdp(svc, scope, { type: "oidc", oidc_config: { name: "n", scopes: [def("a")] } });
    expect((await communityScopes(svc, scope)).map((d) => d.name)).toEqual(["a"]);
    // Straight to the store, as a save in another isolate would land: this isolate's cache is not told.
    const id = await oidcIdpId(t.tenant.id, t.community.id);
    const rec = (await svc.identity.idps.get(t.tenant.id, t.community.id, id))!;
    expect(await svc.identity.idps.replace({ ...rec, body: { ...rec.body, oidc_config: { name: "n", description: "", scopes: [def("b")] } } }, rec.version)).toBe(true);
    expect((await communityScopes(svc, scope)).map((d) => d.name)).toEqual(["a"]);
    await new Promise((r) => setTimeout(r, SCOPES_CACHE_MS + 100));
    expect((await communityScopes(svc, scope)).map((d) => d.name)).toEqual(["b"]);
  });

  it("concurrent cold reads share one D1 read; the entry is per community", async () => {
    const { scope } = await setup();
    const { scope: otherScope } = await setup();
    const { svc, reads } = counting(services());
    forgetCommunityScopes(scope.tenant.id, scope.community.id);
    await Promise.all(Array.from({ length: 10 }, () => communityScopes(svc, scope)));
    expect(reads()).toBe(1);
    await communityScopes(svc, otherScope);
    expect(reads()).toBe(2);
  });

  it("a stored definition that breaks today's rules is left out alone; duplicates keep the first", async () => {
    const { t, scope } = await setup();
    const svc = services();
    const now = Date.now();
    await svc.identity.idps.create({
      id: await oidcIdpId(t.tenant.id, t.community.id),
      tenantId: t.tenant.id,
      communityId: t.community.id,
      type: "oidc",
      body: {
        oidc_config: {
          name: "old",
          scopes: [
            def("openid"),
            def("good", { claims: [{ claim_name: "email", attribute_name: "email", attribute_type: "identity", value_type: "dynamic", value: null }] }),
            def("forged", { claims: [{ claim_name: "sub", attribute_name: null, attribute_type: "identity", value_type: "static", value: "admin" }] }),
            "not an object",
            def("good", { display_name: "second" }),
          ],
        },
      },
      version: 0,
      createdAt: now,
      updatedAt: now,
    });
    forgetCommunityScopes(t.tenant.id, t.community.id);
    const defs = await communityScopes(svc, scope);
    expect(defs.map((d) => [d.name, d.display_name])).toEqual([["good", "good"]]);
  });

  it("a failed read is not remembered", async () => {
    const { scope } = await setup();
    const svc = services();
    let fail = true;
    // The scopes are read through the replica handle (docs/architecture.md "Which reads may use a D1 replica").
    const inner = svc.replicaReads.idps;
    const flaky: Services = { ...svc, replicaReads: { ...svc.replicaReads, idps: { list: (a, b) => (fail ? Promise.reject(new Error("d1 down")) : inner.list(a, b)) } } };
    await expect(communityScopes(flaky, scope)).rejects.toThrow("d1 down");
    fail = false;
    expect(await communityScopes(flaky, scope)).toEqual([]);
  });
});

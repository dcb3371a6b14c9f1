import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { DuplicateKeyError, type ExternalIdpRecord } from "../ports-idp";

let t: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  t = await createTestTenant();
  other = await createTestTenant();
});

const hex24 = () => [...crypto.getRandomValues(new Uint8Array(12))].map((b) => b.toString(16).padStart(2, "0")).join("");

function record(tt: TestTenant, entityId: string): ExternalIdpRecord {
  const now = Date.now();
  return {
    id: hex24(),
    tenantId: tt.tenant.id,
    communityId: tt.community.id,
    idpEntityId: entityId,
    body: { connection: { idpEntityId: entityId, idpName: "Okta" } },
    sealedSecrets: "sealed",
    version: 0,
    createdAt: now,
    updatedAt: now,
  };
}

describe("external IdP store", () => {
  it("creates, finds by id and by entity id, lists, replaces optimistically and removes", async () => {
    const store = services().identity.externalIdps;
    const r = record(t, `https://idp.example/${hex24()}`);
    await store.create(r);
    expect(await store.get(t.tenant.id, t.community.id, r.id)).toEqual(r);
    expect((await store.findByEntityId(t.tenant.id, t.community.id, r.idpEntityId))!.id).toBe(r.id);
    expect((await store.list(t.tenant.id, t.community.id)).map((x) => x.id)).toContain(r.id);

    const next = { ...r, body: { connection: { idpName: "Other" } }, sealedSecrets: null, updatedAt: r.updatedAt + 1 };
    expect(await store.replace(next, 0)).toBe(true);
    // A second writer that read version 0 loses.
    expect(await store.replace({ ...next, body: {} }, 0)).toBe(false);
    const got = (await store.get(t.tenant.id, t.community.id, r.id))!;
    expect(got.version).toBe(1);
    expect(got.sealedSecrets).toBeNull();
    expect(got.body).toEqual({ connection: { idpName: "Other" } });

    expect(await store.remove(t.tenant.id, t.community.id, r.id)).toBe(true);
    expect(await store.remove(t.tenant.id, t.community.id, r.id)).toBe(false);
    expect(await store.get(t.tenant.id, t.community.id, r.id)).toBeNull();
  });

  it("an entity id is unique per community, not across communities", async () => {
    const store = services().identity.externalIdps;
    const entity = `https://idp.example/${hex24()}`;
    await store.create(record(t, entity));
    await expect(store.create(record(t, entity))).rejects.toBeInstanceOf(DuplicateKeyError);
    await store.create(record(other, entity));
    const b = record(t, `https://idp.example/${hex24()}`);
    await store.create(b);
    await expect(store.replace({ ...b, idpEntityId: entity }, 0)).rejects.toBeInstanceOf(DuplicateKeyError);
  });

  it("another tenant's or community's id reads, replaces and removes nothing", async () => {
    const store = services().identity.externalIdps;
    const r = record(t, `https://idp.example/${hex24()}`);
    await store.create(r);
    expect(await store.get(other.tenant.id, other.community.id, r.id)).toBeNull();
    expect(await store.get(t.tenant.id, other.community.id, r.id)).toBeNull();
    expect(await store.findByEntityId(other.tenant.id, other.community.id, r.idpEntityId)).toBeNull();
    expect(await store.replace({ ...r, tenantId: other.tenant.id, communityId: other.community.id }, 0)).toBe(false);
    expect(await store.remove(other.tenant.id, other.community.id, r.id)).toBe(false);
    expect(await store.get(t.tenant.id, t.community.id, r.id)).toEqual(r);
    expect((await store.list(other.tenant.id, other.community.id)).map((x) => x.id)).not.toContain(r.id);
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { IDP_RSA_CERT, SP_EC_CERT, SP_EC_KEY, SP_RSA_CERT, SP_RSA_KEY } from "../../../test/helpers/saml-credentials";
import { externalIdpFor } from "../../core/external-idps";
import type { Scope } from "../../core/context";

/** External Idp (seed 004): fetch, PUT, PATCH (full replacement), DELETE; the SP key is write-only. */
let t: TestTenant;
let caller: AuthnCaller;
let base: string;

interface ExternalIdp {
  _id: string;
  tenantId: string;
  communityId: string;
  connection: Record<string, unknown>;
  routingPolicy?: Record<string, unknown>;
  __v: number;
}

let n = 0;
export const connection = (over: Record<string, unknown> = {}) => ({
  idpName: "Okta",
  idpEntityId: `http://www.okta.com/exk${++n}${Math.random().toString(36).slice(2, 8)}`,
  samlLoginUrl: "https://acme.okta.com/app/sso/saml",
  samlLogoutUrl: "https://acme.okta.com/app/slo/saml",
  ssoBinding: "HTTP-Redirect",
  sloBinding: "HTTP-POST",
  forceAuthn: true,
  spEntityId: "https://sp.example/saml/sp",
  spSigningCertificate: SP_RSA_CERT,
  spPrivateKey: SP_RSA_KEY,
  idpSigningCertificate: IDP_RSA_CERT,
  ...over,
});
const routing = { enabled: true, groups: { value: ["group-a", "group-b"], operator: "overlap" }, usernames: { value: ["user_a", "user_b"], operator: "overlap" }, usersInIdpStore: true };

beforeAll(async () => {
  t = await createTestTenant();
  caller = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
});

function noKey(x: unknown): void {
  const s = JSON.stringify(x);
  expect(s).not.toContain("spPrivateKey");
  expect(s).not.toContain("PRIVATE KEY");
  expect(s).not.toContain(SP_RSA_KEY.split("\n")[1]!);
}

describe("External Idp", () => {
  it("creates (answers the object, no key), fetches, replaces (PATCH, __v bumps) and deletes (204)", async () => {
    const conn = connection();
    const created = await authnCall<ExternalIdp>(caller, "PUT", `${base}/external_idp`, { connection: conn, routingPolicy: routing });
    expect(created.status).toBe(200);
    noKey(created.body);
    noKey(created.data);
    const { spPrivateKey: _k, ...shown } = conn;
    expect(created.data).toEqual({ _id: expect.stringMatching(/^[0-9a-f]{24}$/), tenantId: t.tenant.id, communityId: t.community.id, connection: shown, routingPolicy: routing, __v: 0 });
    const id = created.data._id;

    const list = await authnCall<ExternalIdp[]>(caller, "POST", `${base}/external_idp/fetch`, {});
    expect(list.status).toBe(200);
    expect(list.data.map((x) => x._id)).toContain(id);
    noKey(list.data);
    expect((await authnCall<ExternalIdp[]>(caller, "POST", `${base}/external_idp/fetch`, { ids: [id] })).data).toEqual([created.data]);
    expect((await authnCall<ExternalIdp[]>(caller, "POST", `${base}/external_idp/fetch`, { ids: ["0123456789abcdef01234567", "nope"] })).data).toEqual([]);
    const none = await authnCall<ExternalIdp[]>(caller, "POST", `${base}/external_idp/fetch`, undefined, { headers: { "content-type": "" } });
    expect(none.status).toBe(200);

    // PATCH replaces the whole object: routingPolicy left out is gone; the binding's short name is stored long.
    const replaced = await authnCall<ExternalIdp>(caller, "PATCH", `${base}/external_idp/${id}`, { connection: connection({ idpEntityId: conn.idpEntityId, idpName: "Okta 2", ssoBinding: "post" }) });
    expect(replaced.status).toBe(200);
    noKey(replaced.data);
    expect(replaced.data.routingPolicy).toBeUndefined();
    expect(replaced.data.connection).toMatchObject({ idpName: "Okta 2", ssoBinding: "HTTP-POST" });
    expect(replaced.data.__v).toBe(1);
    const after = (await authnCall<ExternalIdp[]>(caller, "POST", `${base}/external_idp/fetch`, { ids: [id] })).data[0]!;
    expect(after).toEqual(replaced.data);

    expect((await authnCall(caller, "DELETE", `${base}/external_idp/${id}`, { username: "x", ip: "1.2.3.4", userAgent: "ua" })).status).toBe(204);
    expect((await authnCall<ExternalIdp[]>(caller, "POST", `${base}/external_idp/fetch`, { ids: [id] })).data).toEqual([]);
    expect((await authnCall(caller, "DELETE", `${base}/external_idp/${id}`, undefined)).status).toBe(404);
    expect((await authnCall(caller, "PATCH", `${base}/external_idp/${id}`, { connection: connection() })).status).toBe(404);
  });

  it("the SP key is sealed at rest; PATCH without it keeps it when the certificate is the same, and needs it for a new one", async () => {
    const created = await authnCall<ExternalIdp>(caller, "PUT", `${base}/external_idp`, { connection: connection() });
    const id = created.data._id;
    const stored = (await services().identity.externalIdps.get(t.tenant.id, t.community.id, id))!;
    expect(stored.sealedSecrets).toBeTruthy();
    expect(stored.sealedSecrets).not.toContain("PRIVATE");
    expect(JSON.stringify(stored.body)).not.toContain("PRIVATE KEY");

    const { spPrivateKey: _k, ...withoutKey } = connection({ idpEntityId: stored.idpEntityId });
    const kept = await authnCall<ExternalIdp>(caller, "PATCH", `${base}/external_idp/${id}`, { connection: withoutKey });
    expect(kept.status).toBe(200);
    expect((await services().identity.externalIdps.get(t.tenant.id, t.community.id, id))!.sealedSecrets).toBe(stored.sealedSecrets);

    const newCert = await authnCall<{ message: string }>(caller, "PATCH", `${base}/external_idp/${id}`, { connection: { ...withoutKey, spSigningCertificate: SP_EC_CERT } });
    expect(newCert.status).toBe(400);
    expect(newCert.data.message).toMatch(/^connection\.spPrivateKey: /);
    const ec = await authnCall<ExternalIdp>(caller, "PATCH", `${base}/external_idp/${id}`, { connection: { ...withoutKey, spSigningCertificate: SP_EC_CERT, spPrivateKey: SP_EC_KEY } });
    expect(ec.status).toBe(200);
    // Both empty: AuthnRequests are not signed, and no key is kept.
    const unsigned = await authnCall<ExternalIdp>(caller, "PATCH", `${base}/external_idp/${id}`, { connection: { ...withoutKey, spSigningCertificate: "", spPrivateKey: "" } });
    expect(unsigned.status).toBe(200);
    expect((await services().identity.externalIdps.get(t.tenant.id, t.community.id, id))!.sealedSecrets).toBeNull();
  });

  it("an idpEntityId is unique in the community (400), and racing PATCHes never both win", async () => {
    const conn = connection();
    expect((await authnCall(caller, "PUT", `${base}/external_idp`, { connection: conn })).status).toBe(200);
    const dup = await authnCall<{ message: string }>(caller, "PUT", `${base}/external_idp`, { connection: connection({ idpEntityId: conn.idpEntityId }) });
    expect(dup.status).toBe(400);
    expect(dup.data.message).toMatch(/^connection\.idpEntityId: /);

    const id = (await authnCall<ExternalIdp>(caller, "PUT", `${base}/external_idp`, { connection: connection() })).data._id;
    const entity = (await services().identity.externalIdps.get(t.tenant.id, t.community.id, id))!.idpEntityId;
    const rs = await Promise.all(Array.from({ length: 4 }, (_, i) => authnCall(caller, "PATCH", `${base}/external_idp/${id}`, { connection: connection({ idpEntityId: entity, idpName: `n${i}` }) })));
    expect(rs.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    const ok = rs.filter((r) => r.status === 200).length;
    expect(ok).toBeGreaterThanOrEqual(1);
    expect((await services().identity.externalIdps.get(t.tenant.id, t.community.id, id))!.version).toBe(ok);
  });

  it("routing: the first enabled IdP whose every rule holds (overlap / nooverlap, usernames case-insensitive)", async () => {
    const tt = await createTestTenant();
    const c = await authnCaller({ tenantId: tt.tenant.id, level: "service", communities: [tt.community.id] });
    const b = `/tenant/${tt.tenant.id}/community/${tt.community.id}`;
    const put = async (routingPolicy?: unknown) => (await authnCall<ExternalIdp>(c, "PUT", `${b}/external_idp`, { connection: connection(), ...(routingPolicy ? { routingPolicy } : {}) })).data._id;
    await put(); // no policy: never routed to
    await put({ enabled: false }); // disabled
    const groupsIdp = await put({ enabled: true, groups: { value: ["eng"], operator: "overlap" } });
    const notContractors = await put({ enabled: true, usernames: { value: ["Mallory"], operator: "nooverlap" }, groups: { value: ["contractors"], operator: "nooverlap" } });
    const scope = { tenant: tt.tenant, community: tt.community } as Scope;
    const pick = async (who: { username?: string; groups?: string[] }) => (await externalIdpFor(services(), scope, who))?.id ?? null;
    expect(await pick({ username: "alice", groups: ["eng", "ops"] })).toBe(groupsIdp);
    expect(await pick({ username: "alice", groups: ["ops"] })).toBe(notContractors);
    expect(await pick({ username: "MALLORY", groups: ["ops"] })).toBeNull();
    expect(await pick({ username: "bob", groups: ["contractors"] })).toBeNull();
    // Unknown groups: a rule about groups does not hold.
    expect(await pick({ username: "alice" })).toBeNull();
    expect(await pick({})).toBeNull();
  });
});

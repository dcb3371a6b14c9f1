import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { samlIdpId } from "../../core/idps";
import { samlSigningCredential } from "../../core/saml-idp/credential";
import { certificateBase64, importCertificateKey } from "../../crypto/x509";
import { parseXml } from "../../protocols/saml/xml";
import { verifyElement } from "../../protocols/saml/xmldsig";

/**
 * Type `saml` in the Authn IdP operations (issue 9; seed 004 "Identity Providers"): one entry
 * per community naming its SAML IdP, whose entity ID, front-channel URLs and signing
 * certificate are derived from the community's idp_config; and `idp/{id}/metadata` by that id.
 */

interface SamlIdp {
  _id: string;
  type: "saml";
  tenantId: string;
  communityId: string;
  saml_config: { name: string; description: string; entityId: string; ssoUrl: string | null; sloUrl: string | null; metadataUrl: string | null; signingCert: string | null };
  __v: number;
}
type Err = { statusCode: number; error: string; message: string };

const samlBody = (config: Record<string, unknown> = {}) => ({ type: "saml", saml_config: { name: "Workforce SAML", description: "For SPs", ...config } });
const oidcBody = () => ({ type: "oidc", oidc_config: { name: "Workforce", scopes: [{ name: "email", display_name: "Email", consent_required: false, claims: [] }] } });

async function fresh(): Promise<{ tt: TestTenant; caller: AuthnCaller; b: string; call: <T>(m: string, p: string, body: unknown) => ReturnType<typeof authnCall<T>> }> {
  const tt = await createTestTenant();
  const caller = await authnCaller({ tenantId: tt.tenant.id, level: "service", communities: [tt.community.id] });
  const b = `/tenant/${tt.tenant.id}/community/${tt.community.id}`;
  return { tt, caller, b, call: <T,>(m: string, p: string, body: unknown) => authnCall<T>(caller, m, `${b}${p}`, body, { host: tt.host }) };
}

const scopeOf = (tt: TestTenant) => ({ tenant: tt.tenant, community: tt.community }) as Parameters<typeof samlSigningCredential>[1];

let a: Awaited<ReturnType<typeof fresh>>;
let b: Awaited<ReturnType<typeof fresh>>;
let bId: string;

beforeAll(async () => {
  a = await fresh();
  b = await fresh();
  bId = (await b.call<string>("PUT", "/idp", samlBody())).data;
});

describe("IdP type saml", () => {
  it("PUT creates it (answer: its derived id), the credential exists, fetch shows the derived entity ID, URLs and certificate", async () => {
    const { tt, call } = await fresh();
    expect(await services().authnConfig.idpConfigs.get(tt.tenant.id, tt.community.id)).toBeNull();
    const created = await call<string>("PUT", "/idp", samlBody());
    expect(created.status).toBe(200);
    expect(created.data).toBe(await samlIdpId(tt.tenant.id, tt.community.id));
    const cred = await samlSigningCredential(services(), scopeOf(tt));
    const list = await call<SamlIdp[]>("POST", "/idp/fetch", {});
    expect(list.status).toBe(200);
    expect(list.data).toHaveLength(1);
    const front = `http://${tt.host}/saml/${tt.community.id}`;
    expect(list.data[0]).toEqual({
      _id: created.data,
      type: "saml",
      tenantId: tt.tenant.id,
      communityId: tt.community.id,
      saml_config: { name: "Workforce SAML", description: "For SPs", entityId: cred.entityId, ssoUrl: `${front}/sso`, sloUrl: `${front}/slo`, metadataUrl: `${front}/metadata`, signingCert: expect.stringMatching(/^-----BEGIN CERTIFICATE-----/) },
      __v: 0,
    });
    expect(certificateBase64(list.data[0]!.saml_config.signingCert!)).toBe(cred.certB64);
    expect(cred.entityId).toBe(`http://${tt.host}/saml/${tt.community.id}`);
  });

  it("fetch by id and by type; oidc and saml side by side; a description is optional", async () => {
    const { call } = await fresh();
    const samlId = (await call<string>("PUT", "/idp", { type: "saml", saml_config: { name: "Only a name" } })).data;
    const oidcId = (await call<string>("PUT", "/idp", oidcBody())).data;
    expect(samlId).not.toBe(oidcId);
    const all = (await call<{ _id: string; type: string }[]>("POST", "/idp/fetch", {})).data;
    expect(all.map((i) => i.type).sort()).toEqual(["oidc", "saml"]);
    const bySaml = (await call<SamlIdp[]>("POST", "/idp/fetch", { type: "saml" })).data;
    expect(bySaml.map((i) => i._id)).toEqual([samlId]);
    expect(bySaml[0]!.saml_config).toMatchObject({ name: "Only a name", description: "" });
    expect((await call<{ _id: string }[]>("POST", "/idp/fetch", { type: "oidc" })).data.map((i) => i._id)).toEqual([oidcId]);
    expect((await call<{ _id: string }[]>("POST", "/idp/fetch", { id: samlId })).data.map((i) => i._id)).toEqual([samlId]);
    expect((await call<unknown[]>("POST", "/idp/fetch", { id: samlId, type: "oidc" })).data).toEqual([]);
    expect((await call<unknown[]>("POST", "/idp/fetch", { type: "ws-fed" })).data).toEqual([]);
  });

  it("PATCH changes name/description (__v bumps; derived fields unchanged); DELETE is 204 and keeps the key; PUT again gives the same id and certificate", async () => {
    const { tt, call } = await fresh();
    const id = (await call<string>("PUT", "/idp", samlBody())).data;
    const before = (await call<SamlIdp[]>("POST", "/idp/fetch", { id })).data[0]!;
    const up = await call<string>("PATCH", `/idp/${id}`, { saml_config: { description: "Renamed" } });
    expect(up.status).toBe(200);
    expect(up.data).toBe(id);
    const typed = await call<string>("PATCH", `/idp/${id}`, { type: "saml", saml_config: { name: "New name" } });
    expect(typed.status).toBe(200);
    const after = (await call<SamlIdp[]>("POST", "/idp/fetch", { id })).data[0]!;
    expect(after.__v).toBe(2);
    expect(after.saml_config).toEqual({ ...before.saml_config, name: "New name", description: "Renamed" });
    expect((await call("DELETE", `/idp/${id}`, undefined)).status).toBe(204);
    expect((await call<unknown[]>("POST", "/idp/fetch", {})).data).toEqual([]);
    expect(await services().authnConfig.idpConfigs.get(tt.tenant.id, tt.community.id)).not.toBeNull();
    expect((await call("DELETE", `/idp/${id}`, undefined)).status).toBe(404);
    expect((await call("PATCH", `/idp/${id}`, { saml_config: { name: "x" } })).status).toBe(404);
    const again = await call<string>("PUT", "/idp", samlBody());
    expect(again.data).toBe(id);
    expect((await call<SamlIdp[]>("POST", "/idp/fetch", { id })).data[0]!.saml_config.signingCert).toBe(before.saml_config.signingCert);
  });

  it("a replaced idp_config shows at once: the view derives entity ID and certificate on read", async () => {
    const { tt, call } = await fresh();
    const id = (await call<string>("PUT", "/idp", samlBody())).data;
    const stored = (await services().authnConfig.idpConfigs.get(tt.tenant.id, tt.community.id))!;
    const other = await samlSigningCredential(services(), scopeOf(b.tt));
    await services().authnConfig.idpConfigs.update({ ...stored, entityId: "https://idp.example/custom", signingCert: other.certPem, updatedAt: Date.now() });
    const view = (await call<SamlIdp[]>("POST", "/idp/fetch", { id })).data[0]!;
    expect(view.saml_config.entityId).toBe("https://idp.example/custom");
    expect(certificateBase64(view.saml_config.signingCert!)).toBe(other.certB64);
  });

  it("one per community: a second PUT is 400 naming the first; racing PUTs create exactly one", async () => {
    const { call } = await fresh();
    const rs = await Promise.all(Array.from({ length: 6 }, () => call<string | Err>("PUT", "/idp", samlBody())));
    const ok = rs.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(rs.filter((r) => r.status === 400)).toHaveLength(5);
    for (const r of rs.filter((r) => r.status === 400)) expect((r.data as Err).message).toContain(`a SAML IdP (${ok[0]!.data as string})`);
    expect((await call<unknown[]>("POST", "/idp/fetch", { type: "saml" })).data).toHaveLength(1);
  });

  it("hostile and wrong payloads are 400 in the Authn shape naming the field, and nothing is created", async () => {
    const refused = async (payload: unknown, msg: RegExp) => {
      const r = await a.call<Err>("PUT", "/idp", payload);
      expect(r.status, JSON.stringify(payload)).toBe(400);
      expect(r.data, JSON.stringify(payload)).toMatchObject({ statusCode: 400, error: "Bad Request" });
      expect(r.data.message, JSON.stringify(payload)).toMatch(msg);
    };
    await refused({ type: "saml" }, /^saml_config: /);
    await refused({ type: "saml", oidc_config: oidcBody().oidc_config }, /^saml_config: /);
    await refused({ type: "saml", saml_config: [] }, /^saml_config: /);
    await refused({ type: "saml", saml_config: "x" }, /^saml_config: /);
    await refused({ type: "saml", saml_config: null }, /^saml_config: /);
    await refused(samlBody({ name: null }), /^saml_config\.name: must not be null/);
    await refused(samlBody({ name: 7 }), /^saml_config\.name: must be a string/);
    await refused(samlBody({ name: "  " }), /^saml_config\.name: must not be empty/);
    await refused(samlBody({ name: "x".repeat(300) }), /^saml_config\.name: /);
    await refused(samlBody({ description: { $gt: "" } }), /^saml_config\.description: /);
    await refused(samlBody({ entityId: "https://evil.example/idp" }), /^saml_config\.entityId: is read-only/);
    await refused(samlBody({ signingCert: "-----BEGIN CERTIFICATE-----" }), /^saml_config\.signingCert: is read-only/);
    await refused(samlBody({ ssoUrl: "https://evil.example/sso" }), /^saml_config\.ssoUrl: is read-only/);
    await refused({ type: "SAML", saml_config: { name: "x" } }, /^type: must be "oidc" or "saml"/);
    await refused({ type: ["saml"], saml_config: { name: "x" } }, /^type: /);
    await refused({ saml_config: { name: "x" } }, /^type: /);
    const raw = await authnCall(a.caller, "PUT", `${a.b}/idp`, undefined, { host: a.tt.host, rawBody: '{"data":' });
    expect(raw.status).toBeGreaterThanOrEqual(400);
    expect(raw.status).toBeLessThan(500);
    expect((await a.call<unknown[]>("POST", "/idp/fetch", {})).data).toEqual([]);
    expect(await services().authnConfig.idpConfigs.get(a.tt.tenant.id, a.tt.community.id)).toBeNull();
  });

  it("PATCH: a config of the other type, read-only fields, empty and wrong shapes are 400; the stored entry is unchanged", async () => {
    const { call } = await fresh();
    const id = (await call<string>("PUT", "/idp", samlBody())).data;
    const oidcId = (await call<string>("PUT", "/idp", oidcBody())).data;
    const p = (target: string, payload: unknown) => call<Err>("PATCH", `/idp/${target}`, payload);
    expect((await p(id, { oidc_config: { name: "x" } })).data.message).toMatch(/^type: this IdP is of type saml; send saml_config/);
    expect((await p(id, { type: "oidc", oidc_config: { name: "x" } })).status).toBe(400);
    expect((await p(oidcId, { saml_config: { name: "x" } })).data.message).toMatch(/^type: this IdP is of type oidc/);
    expect((await p(id, { saml_config: { name: "x" }, oidc_config: { name: "y" } })).status).toBe(400);
    expect((await p(id, { saml_config: {} })).data.message).toMatch(/^saml_config: names nothing to update/);
    expect((await p(id, { saml_config: { entityId: "https://evil.example" } })).data.message).toMatch(/^saml_config\.entityId: is read-only/);
    expect((await p(id, { saml_config: { name: null } })).data.message).toMatch(/^saml_config\.name: must not be null/);
    expect((await p(id, { type: "saml" })).data.message).toMatch(/^saml_config: is required/);
    expect((await p(id, { type: "x", saml_config: { name: "x" } })).data.message).toMatch(/^type: /);
    const still = (await call<SamlIdp[]>("POST", "/idp/fetch", { id })).data[0]!;
    expect(still).toMatchObject({ __v: 0, saml_config: { name: "Workforce SAML", description: "For SPs" } });
  });

  it("another community's SAML IdP id: fetch is empty, PATCH and DELETE are 404 as for a missing id, theirs is untouched", async () => {
    expect((await a.call<unknown[]>("POST", "/idp/fetch", { id: bId })).data).toEqual([]);
    const missing = "0123456789abcdef01234567";
    for (const target of [bId, missing]) {
      const patch = await a.call<Err>("PATCH", `/idp/${target}`, { saml_config: { name: "hijack" } });
      const del = await a.call<Err>("DELETE", `/idp/${target}`, undefined);
      expect(patch.status).toBe(404);
      expect(del.status).toBe(404);
      expect(patch.data.message).toBe("identity provider not found");
      expect(del.data.message).toBe("identity provider not found");
    }
    // Their id in our community's path with our license, and our license on their path.
    const foreign = await authnCall(a.caller, "POST", `${b.b}/idp/fetch`, {}, { host: b.tt.host });
    expect(foreign.status).toBe(403);
    const theirs = (await b.call<SamlIdp[]>("POST", "/idp/fetch", { id: bId })).data[0]!;
    expect(theirs).toMatchObject({ __v: 0, saml_config: { name: "Workforce SAML" } });
  });

  it("a tenant without a bound hostname cannot have one (404 not configured), and no entry is stored", async () => {
    const svc = services();
    const n = crypto.randomUUID().slice(0, 8);
    const tenant = await svc.tenants.createTenant({ id: `t-nohost-${n}`, name: "No host", settings: {} });
    const community = await svc.tenants.createCommunity({ id: `c-nohost-${n}`, tenantId: tenant.id, name: "c" });
    const caller = await authnCaller({ tenantId: tenant.id, level: "service", communities: [community.id] });
    const path = `/tenant/${tenant.id}/community/${community.id}`;
    const r = await authnCall<Err>(caller, "PUT", `${path}/idp`, samlBody());
    expect(r.status).toBe(404);
    expect(r.data.message).toMatch(/no bound hostname/);
    expect((await authnCall<unknown[]>(caller, "POST", `${path}/idp/fetch`, {})).data).toEqual([]);
  });

  it("levels: app, app_ext and service_ext are 403 for type saml too", async () => {
    for (const level of ["app", "app_ext", "service_ext"] as const) {
      const c = await authnCaller({ tenantId: a.tt.tenant.id, level, communities: [a.tt.community.id] });
      expect((await authnCall(c, "PUT", `${a.b}/idp`, samlBody(), { host: a.tt.host })).status).toBe(403);
      expect((await authnCall(c, "PATCH", `${a.b}/idp/${bId}`, { saml_config: { name: "x" } }, { host: a.tt.host })).status).toBe(403);
    }
  });
});

describe("idp/{idpIdentifier}/metadata by the saml IdP's id", () => {
  const urls = (tt: TestTenant) => ({ ssoUrl: `https://${tt.host}/saml/${tt.community.id}/sso`, sloUrl: `https://${tt.host}/saml/${tt.community.id}/slo` });

  it("answers the same signed metadata as by the idp_config identifier", async () => {
    const { tt, call } = await fresh();
    const id = (await call<string>("PUT", "/idp", samlBody())).data;
    const cred = await samlSigningCredential(services(), scopeOf(tt));
    const r = await call<string>("POST", `/idp/${id}/metadata`, urls(tt));
    expect(r.status).toBe(200);
    const doc = parseXml(r.data);
    expect(doc.documentElement.getAttribute("entityID")).toBe(cred.entityId);
    await verifyElement(doc, doc.documentElement, [await importCertificateKey(cred.certPem)]);
    const config = (await services().authnConfig.idpConfigs.get(tt.tenant.id, tt.community.id))!;
    const byIdentifier = await call<string>("POST", `/idp/${config.identifier}/metadata`, urls(tt));
    expect(byIdentifier.status).toBe(200);
    expect(byIdentifier.data).toContain(cred.certB64);
  });

  it("after DELETE the id is 404; another community's id, an OIDC IdP's id and a made-up id are 404; bad URLs 400", async () => {
    const { tt, call } = await fresh();
    const id = (await call<string>("PUT", "/idp", samlBody())).data;
    const oidcId = (await call<string>("PUT", "/idp", oidcBody())).data;
    expect((await call("POST", `/idp/${id}/metadata`, { ssoUrl: "javascript:alert(1)", sloUrl: urls(tt).sloUrl })).status).toBe(400);
    expect((await call("POST", `/idp/${oidcId}/metadata`, urls(tt))).status).toBe(404);
    expect((await call("POST", `/idp/${bId}/metadata`, urls(tt))).status).toBe(404);
    expect((await call("POST", `/idp/0123456789abcdef01234567/metadata`, urls(tt))).status).toBe(404);
    await call("DELETE", `/idp/${id}`, undefined);
    expect((await call("POST", `/idp/${id}/metadata`, urls(tt))).status).toBe(404);
  });

  it("is routed through idp/* (saml-sso.ts): idp/fetch still lists, other idp/* paths are the Worker's 404, an over-long identifier 400, an encoded one decoded", async () => {
    const { tt, call, b: base } = await fresh();
    const id = (await call<string>("PUT", "/idp", samlBody())).data;
    const list = await call<SamlIdp[]>("POST", "/idp/fetch", {});
    expect(list.status).toBe(200);
    expect(list.data.map((x) => x._id)).toEqual([id]);
    // Not a route, with or without the envelope: 404 before any guard, as for any unknown path.
    for (const path of [`/idp/${id}/metadata/`, `/idp/${id}/other`, `/idp/${id}/metadata/x`, `/idp/a/b/metadata`]) {
      expect((await call("POST", path, urls(tt))).status, path).toBe(404);
      const bare = await SELF.fetch(`https://${tt.host}/authn${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(bare.status, path).toBe(404);
      expect(await bare.json()).toMatchObject({ error: "not_found" });
    }
    const long = await call<Err>("POST", `/idp/${"x".repeat(129)}/metadata`, urls(tt));
    expect(long.status).toBe(400);
    expect(long.data.message).toContain("idpIdentifier");
    // Percent-encoded as a client may send it: the same IdP.
    const encoded = await call<string>("POST", `/idp/${encodeURIComponent(id)}/metadata`, urls(tt));
    expect(encoded.status).toBe(200);
    expect((await call("POST", `/idp/%E0%A4%A/metadata`, urls(tt))).status).toBe(404);
  });

  it("a community that never had a SAML IdP: its would-be id is 404 and asking creates no credential", async () => {
    const { tt, call } = await fresh();
    const wouldBe = await samlIdpId(tt.tenant.id, tt.community.id);
    expect((await call("POST", `/idp/${wouldBe}/metadata`, urls(tt))).status).toBe(404);
    expect(await services().authnConfig.idpConfigs.get(tt.tenant.id, tt.community.id)).toBeNull();
  });
});

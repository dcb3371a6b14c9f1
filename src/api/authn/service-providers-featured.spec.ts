import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { eventually } from "../../../test/helpers/sentinel";
import { CERT, type Sp } from "../../../test/helpers/service-providers";
import { open } from "../../crypto/secret-box";
import { fromBase64Url, toBase64, utf8 } from "../../crypto/encoding";
import { setOutboundFetch } from "../../http/services";
import { VENDOR_SECRETS_PURPOSE } from "../../core/service-providers/featured";

/**
 * Issue 8, featured service providers (seed 004 `PUT .../serviceprovider/{type}`): each type's
 * template, credentials write-only and sealed, and the vendor registration through the job
 * queue against a local stand-in of each vendor's API (svc.fetch replaced in-process).
 */
interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

let rsaPem: string;
let rsaPublic: CryptoKey;

async function rsaKey(): Promise<void> {
  const pair = (await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const der = new Uint8Array((await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer);
  rsaPem = `-----BEGIN PRIVATE KEY-----\n${toBase64(der).replace(/(.{64})/g, "$1\n")}\n-----END PRIVATE KEY-----`;
  rsaPublic = pair.publicKey;
}

/** The vendors' APIs as a stand-in: canned answers by path, every request recorded. */
function vendorAnswer(s: Seen): Response {
  const u = new URL(s.url);
  const json = (v: unknown, status = 200) => new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });
  if (u.pathname === "/oauth/token") return json({ access_token: "auth0-mgmt-token", token_type: "Bearer" });
  if (u.pathname === "/api/v2/connections") return json({ id: "con_123" }, 201);
  if (u.pathname === "/api/v1/idps/credentials/keys") return json({ kid: "okta-kid-1" });
  if (u.pathname === "/api/v1/idps") return json({ id: "0oa123", protocol: { credentials: { trust: { audience: `https://www.okta.com/saml2/service-provider/sp-${u.hostname.split(".")[0]}` } } } });
  if (u.pathname === "/services/Soap/u/59.0") return new Response("<soapenv:Envelope><loginResponse><result><sessionId>SF-SESSION</sessionId></result></loginResponse></soapenv:Envelope>", { headers: { "content-type": "text/xml" } });
  if (u.pathname.endsWith("/tooling/sobjects/SamlSsoConfig")) return json({ id: "0LE000001", success: true }, 201);
  if (u.pathname.endsWith("/json/realms/root/authenticate")) return json({ tokenId: "AM-TOKEN" });
  if (u.pathname.endsWith("/circlesoftrust")) return json({ _id: "cot" }, 201);
  if (u.pathname.endsWith("/saml2/remote")) return json({ importedEntities: ["https://idp.example.test/entity"] });
  if (u.hostname === "oauth2.googleapis.com") return json({ access_token: "ya29.token" });
  if (u.pathname === "/v1/inboundSamlSsoProfiles") return json({ name: "operations/1", done: true, response: { name: "inboundSamlSsoProfiles/abc" } });
  if (u.pathname.endsWith("/idpCredentials:add")) return json({ done: true });
  return json({ error: "not found" }, 404);
}

function standIn(answer: (s: Seen) => Response | Promise<Response> = vendorAnswer): Seen[] {
  const seen: Seen[] = [];
  setOutboundFetch(async (input, init) => {
    const req = new Request(input, init);
    const s = { url: req.url, method: req.method, headers: Object.fromEntries(req.headers), body: await req.text() };
    seen.push(s);
    return answer(s);
  });
  return seen;
}

afterEach(() => setOutboundFetch(null));

let t: TestTenant;
let caller: AuthnCaller;
let base: string;

async function withIdpConfig(tt: TestTenant): Promise<void> {
  const now = Date.now();
  await services().authnConfig.idpConfigs.create({
    tenantId: tt.tenant.id,
    communityId: tt.community.id,
    identifier: crypto.randomUUID(),
    entityId: "https://idp.example.test/entity",
    signingCert: CERT,
    signingKeySealed: "unused",
    encryptionCert: CERT,
    encryptionKeySealed: "unused",
    authnRequestsSigned: false,
    ssoBindings: [],
    sloBindings: [],
    createdAt: now,
    updatedAt: now,
  });
}

beforeAll(async () => {
  await rsaKey();
  t = await createTestTenant();
  await withIdpConfig(t);
  caller = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}/serviceprovider`;
});

const SSO = "https://idp.example.test/sso";
let n = 0;
const host = (v: string) => `${v}-${Date.now()}-${n++}`;

interface Case {
  type: string;
  payload: () => { name: string; domain: string; ssoUrl?: string; config: Record<string, unknown> };
  secrets: string[];
  template: (p: { domain: string; name: string }) => { entityId: string | RegExp; acs: string | RegExp };
}

const CASES: Case[] = [
  {
    type: "auth0",
    payload: () => ({ name: "My Auth0", domain: `https://${host("a0")}.us.auth0.test`, ssoUrl: SSO, config: { clientId: "m2m-client", clientSecret: "auth0-SECRET-value" } }),
    secrets: ["auth0-SECRET-value"],
    template: (p) => ({ entityId: `urn:auth0:${new URL(p.domain).hostname.split(".")[0]}:edge-auth-my-auth0`, acs: `${p.domain}/login/callback?connection=edge-auth-my-auth0` }),
  },
  {
    type: "okta",
    payload: () => ({ name: "Okta", domain: `https://${host("ok")}.okta.test`, ssoUrl: SSO, config: { apiToken: "okta-API-TOKEN" } }),
    secrets: ["okta-API-TOKEN"],
    template: (p) => ({ entityId: /^urn:edge-auth:okta:pending:[0-9a-f]{24}$/, acs: new RegExp(`^${p.domain.replace(/\./g, "\\.")}/sso/saml2/pending-[0-9a-f]{24}$`) }),
  },
  {
    type: "salesforce",
    payload: () => ({ name: "SF", domain: `https://${host("sf")}.my.salesforce.test`, ssoUrl: SSO, config: { username: "admin@sf.test", password: "SF-PASSWORD", securityToken: "SF-TOKEN" } }),
    secrets: ["SF-PASSWORD", "SF-TOKEN"],
    template: (p) => ({ entityId: p.domain, acs: p.domain }),
  },
  {
    type: "forgerock",
    payload: () => ({ name: "AM", domain: `https://${host("am")}.forgerock.test/openam`, ssoUrl: SSO, config: { username: "amadmin", password: "AM-PASSWORD", useExistingCOT: true, COT: "cot1" } }),
    secrets: ["AM-PASSWORD"],
    template: (p) => ({ entityId: p.domain, acs: `${p.domain}/Consumer/metaAlias/sp` }),
  },
  {
    type: "gsuite",
    payload: () => ({ name: "Workspace", domain: `${host("gs")}.example.test`, ssoUrl: SSO, config: { serviceAccountEmail: "sa@proj.iam.test", adminEmail: "admin@example.test", serviceAccountPrivateKey: rsaPem, sloUrl: "https://idp.example.test/slo" } }),
    secrets: ["PRIVATE KEY"],
    template: (p) => ({ entityId: `google.com/a/${p.domain}`, acs: `https://www.google.com/a/${p.domain}/acs` }),
  },
  {
    type: "zendesk",
    payload: () => ({ name: "Support", domain: `https://${host("zd")}.zendesk.test`, config: {} }),
    secrets: [],
    template: (p) => ({ entityId: p.domain, acs: `${p.domain}/access/saml` }),
  },
];

const spOf = async (id: string) => (await authnCall<Sp>(caller, "GET", `${base}/${id}`, undefined)).data;
const registration = (sp: Sp) => (sp.featured as { registration: { status: string; vendor_id?: string; detail?: string } }).registration;
const settled = (id: string) => eventually(async () => { const sp = await spOf(id); return registration(sp).status !== "pending" ? sp : null; });

describe.each(CASES)("featured $type", (c) => {
  it("creates a SAML service provider from the template; credentials are write-only and sealed at rest", async () => {
    standIn();
    const p = c.payload();
    const r = await authnCall<Sp>(caller, "PUT", `${base}/${c.type}`, p);
    expect(r.status).toBe(200);
    expect(r.data).toMatchObject({ type: "saml", name: p.name, communityId: t.community.id, __v: 0 });
    const tpl = c.template(p);
    expect(r.data.saml_config!.entityId).toEqual(typeof tpl.entityId === "string" ? tpl.entityId : expect.stringMatching(tpl.entityId));
    expect(r.data.saml_config!.assertionConsumerServiceURL).toEqual(typeof tpl.acs === "string" ? tpl.acs : expect.stringMatching(tpl.acs));
    expect(r.data.saml_config).toMatchObject({ assertionSignRequired: true, assertionMethod: "post", nameid: { format: "emailAddress", value: "email", attribute_type: "identity" } });
    const featured = r.data.featured as Record<string, unknown>;
    expect(featured).toMatchObject({ type: c.type, domain: p.domain });
    expect(registration(r.data).status).toBe(c.type === "zendesk" ? "manual" : "pending");
    for (const s of c.secrets) expect(JSON.stringify(r.data)).not.toContain(s);
    const row = await services().identity.serviceProviders.get(t.tenant.id, t.community.id, r.data._id);
    expect(row!.featured).toBe(c.type);
    for (const s of c.secrets) expect(JSON.stringify({ ...row, sealedSecrets: null })).not.toContain(s);
    if (c.secrets.length) {
      expect(row!.sealedSecrets).toBeTruthy();
      for (const s of c.secrets) expect(row!.sealedSecrets).not.toContain(s);
      const opened = JSON.parse(await open(services().config.keyEncryptionSecret, VENDOR_SECRETS_PURPOSE, row!.sealedSecrets!)) as Record<string, string>;
      for (const s of c.secrets) expect(JSON.stringify(opened)).toContain(s);
    } else {
      expect(row!.sealedSecrets).toBeNull();
    }
    // Settled (registered, or manual for zendesk); the secrets are in no later answer either.
    const after = c.type === "zendesk" ? r.data : await settled(r.data._id);
    const list = await authnCall<Sp[]>(caller, "POST", `${base}/fetch`, {});
    for (const s of c.secrets) {
      expect(JSON.stringify(after)).not.toContain(s);
      expect(JSON.stringify(list.data)).not.toContain(s);
    }
  });
});

describe("registration at the vendor (queued, after the answer)", () => {
  it("auth0: a Management API token with the sealed client secret, then a samlp connection named as the template's, on the configured domain", async () => {
    const seen = standIn();
    const p = CASES[0]!.payload();
    const r = await authnCall<Sp>(caller, "PUT", `${base}/auth0`, p);
    const sp = await settled(r.data._id);
    expect(registration(sp)).toMatchObject({ status: "registered", vendor_id: "con_123" });
    const mine = seen.filter((s) => s.url.startsWith(p.domain));
    expect(mine.map((s) => `${s.method} ${new URL(s.url).pathname}`)).toEqual(["POST /oauth/token", "POST /api/v2/connections"]);
    expect(JSON.parse(mine[0]!.body)).toMatchObject({ grant_type: "client_credentials", client_id: "m2m-client", client_secret: "auth0-SECRET-value", audience: `${p.domain}/api/v2/` });
    expect(mine[1]!.headers.authorization).toBe("Bearer auth0-mgmt-token");
    const conn = JSON.parse(mine[1]!.body) as { name: string; strategy: string; options: { signInEndpoint: string; signingCert: string } };
    expect(conn).toMatchObject({ name: "edge-auth-my-auth0", strategy: "samlp", options: { signInEndpoint: SSO } });
    expect(atob(conn.options.signingCert)).toContain("BEGIN CERTIFICATE");
    expect(sp.__v).toBe(1);
  });

  it("okta: the key credential, then the IdP; the ACS and audience Okta assigned replace the provisional ones", async () => {
    const seen = standIn();
    const p = CASES[1]!.payload();
    const r = await authnCall<Sp>(caller, "PUT", `${base}/okta`, p);
    const sp = await settled(r.data._id);
    expect(registration(sp)).toMatchObject({ status: "registered", vendor_id: "0oa123" });
    const mine = seen.filter((s) => s.url.startsWith(p.domain));
    expect(mine.every((s) => s.headers.authorization === "SSWS okta-API-TOKEN")).toBe(true);
    expect(JSON.parse(mine[1]!.body)).toMatchObject({ type: "SAML2", protocol: { endpoints: { sso: { url: SSO } }, credentials: { trust: { issuer: "https://idp.example.test/entity", kid: "okta-kid-1" } } } });
    expect(sp.saml_config).toMatchObject({ assertionConsumerServiceURL: `${p.domain}/sso/saml2/0oa123`, entityId: `https://www.okta.com/saml2/service-provider/sp-${new URL(p.domain).hostname.split(".")[0]}` });
    // Found by the new entity id.
    expect((await authnCall<Sp>(caller, "GET", `${base}/${encodeURIComponent(sp.saml_config!.entityId as string)}`, undefined)).data._id).toBe(r.data._id);
  });

  it("salesforce: SOAP login with password + security token (XML-escaped), then a SamlSsoConfig with the session", async () => {
    const seen = standIn();
    const p = { ...CASES[2]!.payload(), config: { username: "a<b>@sf.test", password: "p&w", securityToken: "TOK" } };
    const r = await authnCall<Sp>(caller, "PUT", `${base}/salesforce`, p);
    const sp = await settled(r.data._id);
    expect(registration(sp)).toMatchObject({ status: "registered", vendor_id: "0LE000001" });
    const [login, config] = seen.filter((s) => s.url.startsWith(p.domain));
    expect(login!.body).toContain("<urn:username>a&lt;b&gt;@sf.test</urn:username>");
    expect(login!.body).toContain("<urn:password>p&amp;wTOK</urn:password>");
    expect(config!.headers.authorization).toBe("Bearer SF-SESSION");
    expect(JSON.parse(config!.body)).toMatchObject({ Metadata: { issuer: "https://idp.example.test/entity", loginUrl: SSO, samlEntityId: p.domain } });
  });

  it("forgerock: AM authentication, then our IdP metadata imported into the named COT (or a new COT for the hosted SP)", async () => {
    const seen = standIn();
    const p = CASES[3]!.payload();
    const r = await authnCall<Sp>(caller, "PUT", `${base}/forgerock`, p);
    expect(registration(await settled(r.data._id)).status).toBe("registered");
    const mine = seen.filter((s) => s.url.startsWith(p.domain));
    expect(mine[0]!.headers["x-openam-username"]).toBe("amadmin");
    expect(mine[0]!.headers["x-openam-password"]).toBe("AM-PASSWORD");
    const imp = JSON.parse(mine[1]!.body) as { standardMetadata: string; cot: string };
    expect(imp.cot).toBe("cot1");
    const xml = new TextDecoder().decode(fromBase64Url(imp.standardMetadata));
    expect(xml).toContain('entityID="https://idp.example.test/entity"');
    expect(xml).toContain(`Location="${SSO}"`);
    // A new COT when no existing one is used.
    const seen2 = standIn();
    const p2 = { ...CASES[3]!.payload(), config: { username: "amadmin", password: "pw", useExistingCOT: false, hostedSP: "https://am.example.test/sp" } };
    const r2 = await authnCall<Sp>(caller, "PUT", `${base}/forgerock`, p2);
    expect(r2.data.saml_config!.entityId).toBe("https://am.example.test/sp");
    expect(registration(await settled(r2.data._id)).status).toBe("registered");
    expect(seen2.map((s) => new URL(s.url).pathname.split("/").pop())).toEqual(["authenticate", "circlesoftrust", "remote"]);
  });

  it("gsuite: an RS256 service-account assertion signed with the sealed key, then the inbound SAML profile and our certificate", async () => {
    const seen = standIn();
    const p = CASES[4]!.payload();
    const r = await authnCall<Sp>(caller, "PUT", `${base}/gsuite`, p);
    const sp = await settled(r.data._id);
    expect(registration(sp)).toMatchObject({ status: "registered", vendor_id: "inboundSamlSsoProfiles/abc" });
    const token = seen.find((s) => s.url === "https://oauth2.googleapis.com/token")!;
    const assertion = new URLSearchParams(token.body).get("assertion")!;
    const [h, c, sig] = assertion.split(".");
    expect(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", rsaPublic, fromBase64Url(sig!), utf8(`${h}.${c}`))).toBe(true);
    expect(JSON.parse(new TextDecoder().decode(fromBase64Url(c!)))).toMatchObject({ iss: "sa@proj.iam.test", sub: "admin@example.test", aud: "https://oauth2.googleapis.com/token" });
    const profile = seen.find((s) => s.url.endsWith("/v1/inboundSamlSsoProfiles"))!;
    expect(JSON.parse(profile.body)).toMatchObject({ idpConfig: { entityId: "https://idp.example.test/entity", singleSignOnServiceUri: SSO, logoutRedirectUri: "https://idp.example.test/slo" } });
    expect(seen.some((s) => s.url.endsWith("inboundSamlSsoProfiles/abc/idpCredentials:add"))).toBe(true);
  });

  it("zendesk: no credentials, no call: manual", async () => {
    const seen = standIn();
    const p = CASES[5]!.payload();
    const r = await authnCall<Sp>(caller, "PUT", `${base}/zendesk`, p);
    expect(registration(r.data).status).toBe("manual");
    await new Promise((res) => setTimeout(res, 500));
    expect(seen.filter((s) => s.url.startsWith(p.domain))).toHaveLength(0);
  });

  it("a vendor that refuses the credentials (401): failed with the reason, not retried, secrets not in the reason", async () => {
    const seen = standIn(() => new Response('{"error":"invalid token okta-API-TOKEN"}', { status: 401 }));
    const p = CASES[1]!.payload();
    const r = await authnCall<Sp>(caller, "PUT", `${base}/okta`, p);
    const sp = await settled(r.data._id);
    expect(registration(sp).status).toBe("failed");
    expect(registration(sp).detail).toBe("okta key credential answered 401");
    await new Promise((res) => setTimeout(res, 1500));
    expect(seen.filter((s) => s.url.startsWith(p.domain))).toHaveLength(1);
    // The provisional ACS stays: the SAML issue must not use it until registered.
    expect(sp.saml_config!.assertionConsumerServiceURL).toMatch(/pending-/);
  });

  it("a vendor that is down (503) is retried by the queue until it answers", async () => {
    let calls = 0;
    const p = CASES[0]!.payload();
    const seen = standIn((s) => (s.url.startsWith(p.domain) && ++calls <= 1 ? new Response("busy", { status: 503 }) : vendorAnswer(s)));
    const r = await authnCall<Sp>(caller, "PUT", `${base}/auth0`, p);
    const sp = await eventually(async () => { const x = await spOf(r.data._id); return registration(x).status === "registered" ? x : null; }, 10_000);
    expect(registration(sp).vendor_id).toBe("con_123");
    expect(seen.filter((s) => s.url.startsWith(p.domain))).toHaveLength(3);
  });

  it("okta assigns an audience another SP of the community already has: failed, the entity ids stay unique", async () => {
    const answer = (s: Seen) => (new URL(s.url).pathname === "/api/v1/idps" ? new Response(JSON.stringify({ id: "0oaSAME", protocol: { credentials: { trust: { audience: "https://www.okta.com/saml2/service-provider/same" } } } })) : vendorAnswer(s));
    standIn(answer);
    const a = await authnCall<Sp>(caller, "PUT", `${base}/okta`, CASES[1]!.payload());
    expect(registration(await settled(a.data._id)).status).toBe("registered");
    standIn(answer);
    const b = await authnCall<Sp>(caller, "PUT", `${base}/okta`, CASES[1]!.payload());
    const sb = await settled(b.data._id);
    expect(registration(sb)).toMatchObject({ status: "failed", vendor_id: "0oaSAME", detail: expect.stringContaining("already registered") });
    expect(sb.saml_config!.entityId).toMatch(/^urn:edge-auth:okta:pending:/);
  });

  it("a community without an IdP config: failed, saying what to do; no vendor call", async () => {
    const tt = await createTestTenant();
    const c = await authnCaller({ tenantId: tt.tenant.id, level: "service", communities: [tt.community.id] });
    const b = `/tenant/${tt.tenant.id}/community/${tt.community.id}/serviceprovider`;
    const seen = standIn();
    const p = CASES[1]!.payload();
    const r = await authnCall<Sp>(c, "PUT", `${b}/okta`, p);
    const sp = await eventually(async () => { const x = (await authnCall<Sp>(c, "GET", `${b}/${r.data._id}`, undefined)).data; return registration(x).status !== "pending" ? x : null; });
    expect(registration(sp)).toMatchObject({ status: "failed", detail: expect.stringContaining("idp_config") });
    // (Earlier tests' jobs may still be retrying against the stand-in: only this domain counts.)
    expect(seen.filter((s) => s.url.startsWith(p.domain))).toHaveLength(0);
  });

  it("a service provider deleted before its job ran: the job does nothing", async () => {
    const seen = standIn(async (s) => vendorAnswer(s));
    const p = CASES[1]!.payload();
    const r = await authnCall<Sp>(caller, "PUT", `${base}/okta`, p);
    await authnCall(caller, "DELETE", `${base}/${r.data._id}`, {});
    await new Promise((res) => setTimeout(res, 1500));
    // Either the job ran first (and its write found nothing) or it found no SP: nothing is recreated.
    expect((await authnCall(caller, "GET", `${base}/${r.data._id}`, undefined)).status).toBe(404);
    expect(seen.filter((s) => s.url.startsWith(p.domain)).length).toBeLessThanOrEqual(2);
  });
  it("a vendor that never answers in time is a transient failure; the answer to the PUT did not wait for it", async () => {
    // Hangs until the adapter's deadline aborts it, as a real fetch would.
    setOutboundFetch((_input, init) => new Promise<Response>((_res, reject) => init?.signal?.addEventListener("abort", () => reject(new DOMException("timed out", "TimeoutError")))));
    const started = Date.now();
    const r = await authnCall<Sp>(caller, "PUT", `${base}/auth0`, CASES[0]!.payload());
    expect(r.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(registration(r.data).status).toBe("pending");
  });

});

describe("featured: hostile input is 400, nothing stored", () => {
  const ok = CASES[0]!.payload;
  const cases: [string, string, () => unknown][] = [
    ["an unknown type", "ldap", ok],
    ["the path word fetch as a type", "fetch", ok],
    ["a misspelt credential (would be stored unsealed)", "auth0", () => ({ ...ok(), config: { clientId: "x", client_secret: "s" } })],
    ["a missing credential", "auth0", () => ({ ...ok(), config: { clientId: "x" } })],
    ["a credential with a line break", "okta", () => ({ ...CASES[1]!.payload(), config: { apiToken: "tok\r\nX-Injected: 1" } })],
    ["a credential of the wrong type", "okta", () => ({ ...CASES[1]!.payload(), config: { apiToken: 42 } })],
    ["a domain on http", "auth0", () => ({ ...ok(), domain: "http://tenant.auth0.test" })],
    ["a domain that is no URL", "auth0", () => ({ ...ok(), domain: "tenant.auth0.test" })],
    ["no ssoUrl", "auth0", () => ({ name: "x", domain: "https://a.auth0.test", config: { clientId: "x", clientSecret: "y" } })],
    ["an ssoUrl with userinfo", "auth0", () => ({ ...ok(), ssoUrl: "https://u:p@idp.test/sso" })],
    ["gsuite with a URL as domain", "gsuite", () => ({ ...CASES[4]!.payload(), domain: "https://example.com" })],
    ["gsuite with a key that is none", "gsuite", () => ({ ...CASES[4]!.payload(), config: { ...CASES[4]!.payload().config, serviceAccountPrivateKey: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----" } })],
    ["gsuite with a bad admin email", "gsuite", () => ({ ...CASES[4]!.payload(), config: { ...CASES[4]!.payload().config, adminEmail: "not-an-email" } })],
    ["forgerock useExistingCOT without COT", "forgerock", () => ({ ...CASES[3]!.payload(), config: { username: "u", password: "p", useExistingCOT: true } })],
    ["forgerock a new COT without hostedSP", "forgerock", () => ({ ...CASES[3]!.payload(), config: { username: "u", password: "p", useExistingCOT: false } })],
    ["zendesk with a config field", "zendesk", () => ({ ...CASES[5]!.payload(), config: { token: "x" } })],
    ["config not an object", "zendesk", () => ({ ...CASES[5]!.payload(), config: "x" })],
  ];
  it.each(cases)("%s", async (_name, type, payload) => {
    const seen = standIn();
    const before = (await services().identity.serviceProviders.list(t.tenant.id, t.community.id)).length;
    const r = await authnCall(caller, "PUT", `${base}/${type}`, payload());
    expect(r.status).toBe(400);
    expect((await services().identity.serviceProviders.list(t.tenant.id, t.community.id)).length).toBe(before);
    const domain = (payload() as { domain?: unknown }).domain;
    expect(seen.filter((s) => typeof domain === "string" && s.url.includes(domain))).toHaveLength(0);
  });
});

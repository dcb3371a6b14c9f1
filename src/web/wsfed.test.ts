import { beforeAll, describe, expect, it } from "vitest";
import { Browser, hiddenFields } from "../../test/helpers/hosted-login";
import { scopeOf } from "../../test/helpers/consents";
import { authnCaller, type AuthnCaller } from "../../test/helpers/authn-caller";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../test/helpers/tenant";
import { communitySigningKey, registerRelyingParty, RP_REPLY } from "../../test/helpers/wsfed";
import { forgetTenantCache } from "../http/tenant";
import { readSsoSession, startSsoSession } from "../core/oidc-provider/sso-session";
import { NS, childElements, parseXml, textOf } from "../protocols/saml/xml";
import { verifyElement } from "../protocols/saml/xmldsig";
import { SSO_COOKIE } from "./cookies";

/**
 * The WS-Federation passive endpoint `GET /wsfed/<communityId>` (WS-Federation 1.2 §13):
 * wsignin1.0 answered from the hosted login's SSO session with a form posting wa, wresult and
 * wctx to the registered reply address; wsignout1.0 ends the session.
 */
let t: TestTenant;
let other: TestTenant;
let service: AuthnCaller;
let publicKey: CryptoKey;
const realm = `urn:wsfed:web:${Date.now()}`;
let path: string;

beforeAll(async () => {
  t = await createTestTenant();
  other = await createTestTenant();
  forgetTenantCache();
  service = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  await registerRelyingParty(service, t, realm);
  publicKey = await communitySigningKey(t);
  path = `/wsfed/${t.community.id}`;
});

async function signedInBrowser(tenant = t): Promise<Browser> {
  const b = new Browser(t.host);
  const s = await startSsoSession(services(), scopeOf(tenant), tenant.alice, { authTime: Math.floor(Date.now() / 1000), amr: ["pwd"] });
  b.cookies.set(SSO_COOKIE, s.cookie);
  return b;
}

const unescapeHtml = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
function formOf(html: string): { action: string; fields: Record<string, string> } | null {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) return null;
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields[m[1]!] = unescapeHtml(m[2]!);
  return { action: unescapeHtml(action), fields };
}
const q = (params: Record<string, string>) => `${path}?${new URLSearchParams(params)}`;

describe("GET /wsfed/<communityId> wa=wsignin1.0", () => {
  it("a signed-in user gets a form posting wa, a signed wresult and wctx to the registered reply; the CSP lets forms go there only", async () => {
    const b = await signedInBrowser();
    const res = await b.get(q({ wa: "wsignin1.0", wtrealm: realm, wctx: `rm=0&id=passive&ru="><script>x</script>` }));
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy")!;
    // The auto-post page: form-action is the reply address's origin alone, and the one
    // script that submits the form runs by a per-response nonce.
    expect(csp).toContain("form-action https://rp.example.test");
    expect(csp).not.toContain("form-action 'self'");
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=_-]+'/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).not.toContain("<script>x</script>");
    const form = formOf(html)!;
    expect(form.action).toBe(RP_REPLY);
    expect(form.fields.wa).toBe("wsignin1.0");
    expect(form.fields.wctx).toBe(`rm=0&id=passive&ru="><script>x</script>`);
    const doc = parseXml(form.fields.wresult!);
    const assertion = childElements(childElements(doc.documentElement, NS.wst, "RequestedSecurityToken")[0]!)[0]!;
    await verifyElement(doc, assertion, [publicKey]);
    expect(textOf(doc.getElementsByTagNameNS(NS.saml1, "NameIdentifier")[0]!)).toBe(t.alice.email);
    expect(textOf(doc.getElementsByTagNameNS(NS.saml1, "Audience")[0]!)).toBe(realm);
  });

  it("a registered wreply (same endpoint) is used; an unregistered one is a page, never a redirect or a form to it", async () => {
    const b = await signedInBrowser();
    const ok = await b.get(q({ wa: "wsignin1.0", wtrealm: realm, wreply: `${RP_REPLY}?a=1` }));
    expect(formOf(await ok.text())!.action).toBe(`${RP_REPLY}?a=1`);
    for (const wreply of ["https://evil.example/_trust/", "https://rp.example.test/elsewhere", "javascript:alert(1)"]) {
      const res = await b.get(q({ wa: "wsignin1.0", wtrealm: realm, wreply }));
      expect(res.status, wreply).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      const html = await res.text();
      expect(formOf(html)).toBeNull();
      expect(html).not.toContain("evil.example");
    }
  });

  it("without a session, with another community's session, or with wfresh=0, no token is issued: the hosted login comes first", async () => {
    const anon = new Browser(t.host);
    const foreign = await signedInBrowser(other);
    const signed = await signedInBrowser();
    for (const [b, extra] of [[anon, {}], [foreign, {}], [signed, { wfresh: "0" }]] as const) {
      const res = await b.get(q({ wa: "wsignin1.0", wtrealm: realm, ...extra }));
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).not.toContain("wresult");
      expect(html).toContain(`action="/oidc/${t.community.id}/login"`);
    }
    // A wfresh of ten minutes is satisfied by a session that authenticated just now.
    expect((await signed.get(q({ wa: "wsignin1.0", wtrealm: realm, wfresh: "10" }))).status).toBe(200);
  });

  it("signing in on the hosted login completes the WS-Fed transaction once, posting the token to the registered reply", async () => {
    const b = new Browser(t.host);
    const page = await b.get(q({ wa: "wsignin1.0", wtrealm: realm, wctx: "ctx-1" }));
    const fields = hiddenFields(await page.text());
    const done = await b.post(`/oidc/${t.community.id}/login`, { ...fields, username: "Alice", password: PASSWORD });
    expect(done.status).toBe(200);
    const form = formOf(await done.text())!;
    expect(form.action).toBe(RP_REPLY);
    expect(form.fields.wa).toBe("wsignin1.0");
    expect(form.fields.wctx).toBe("ctx-1");
    const token = parseXml(form.fields.wresult!);
    expect(token.getElementsByTagNameNS(NS.saml1, "Assertion").length).toBe(1);
    // The transaction is spent: the same final POST again issues nothing.
    const again = await b.post(`/oidc/${t.community.id}/login`, { ...fields, username: "Alice", password: PASSWORD });
    expect(await again.text()).not.toContain("wresult");
    // And the browser now has an SSO session: the next sign-in answers at once.
    const next = await b.get(q({ wa: "wsignin1.0", wtrealm: realm }));
    expect(formOf(await next.text())?.action).toBe(RP_REPLY);
  });

  it("an unknown realm, a realm without WS-Fed and another community's realm are the same refusal page", async () => {
    const plain = `urn:plain:web:${Date.now()}`;
    await registerRelyingParty(service, t, plain, null);
    const otherService = await authnCaller({ tenantId: other.tenant.id, level: "service", communities: [other.community.id] });
    const foreign = `urn:foreign:web:${Date.now()}`;
    await registerRelyingParty(otherService, other, foreign);
    const b = await signedInBrowser();
    const pages = new Set<string>();
    for (const wtrealm of [`urn:nope:${Date.now()}`, plain, foreign]) {
      const res = await b.get(q({ wa: "wsignin1.0", wtrealm }));
      expect(res.status).toBe(400);
      pages.add((await res.text()).replace(/nonce-[^']+'/g, "").replace(/nonce="[^"]+"/g, ""));
    }
    expect(pages.size).toBe(1);
  });

  it("hostile requests are 4xx pages, never 5xx: no wa, another wa, repeated or oversize parameters, an unknown community", async () => {
    const b = await signedInBrowser();
    for (const p of [path, q({ wa: "wattr1.0", wtrealm: realm }), `${path}?wa=wsignin1.0&wtrealm=${encodeURIComponent(realm)}&wtrealm=x`, q({ wa: "wsignin1.0", wtrealm: "x".repeat(9000) }), q({ wa: "wsignin1.0" }), q({ wa: "wsignin1.0", wtrealm: realm, wctx: "a\u0001" })]) {
      const res = await b.get(p);
      expect(res.status, p.slice(0, 80)).toBe(400);
    }
    expect((await b.get(`/wsfed/no-such-community?wa=wsignin1.0&wtrealm=x`)).status).toBe(404);
  });
});

describe("GET /wsfed/<communityId> wa=wsignout1.0", () => {
  it("ends the SSO session and clears the cookie; shows signed-out", async () => {
    const b = await signedInBrowser();
    const cookie = b.cookies.get(SSO_COOKIE)!;
    expect(await readSsoSession(services(), scopeOf(t), cookie)).not.toBeNull();
    const res = await b.get(q({ wa: "wsignout1.0" }));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Signed out");
    expect(b.cookies.has(SSO_COOKIE)).toBe(false);
    expect(await readSsoSession(services(), scopeOf(t), cookie)).toBeNull();
  });

  it("redirects to wreply only when it is the registered reply of the realm named", async () => {
    const b = await signedInBrowser();
    const res = await b.get(q({ wa: "wsignout1.0", wtrealm: realm, wreply: RP_REPLY }));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(RP_REPLY);
    const refused: Record<string, string>[] = [{ wa: "wsignout1.0", wtrealm: realm, wreply: "https://evil.example/" }, { wa: "wsignout1.0", wreply: RP_REPLY }, { wa: "wsignoutcleanup1.0", wtrealm: `urn:nope:${Date.now()}`, wreply: RP_REPLY }];
    for (const params of refused) {
      const r = await b.get(q(params));
      expect(r.status).toBe(200);
      expect(r.headers.get("location")).toBeNull();
    }
  });
});

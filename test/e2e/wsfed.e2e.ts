/**
 * WS-Federation passive sign-in (issue 9; WS-Federation 1.2 §13) against relying-party code
 * nobody here wrote: saml20 0.1.14 checks the SAML 1.1 token and @boxyhq/saml20 the SAML 2.0
 * one (signature with the pinned IdP certificate, audience = the realm, time window), and
 * xmlsec1 verifies the same signatures. Two routes make a wresult: the Authn API's
 * `wsfed/sso` (a service vouches for its user) and the hosted passive endpoint
 * `/wsfed/<communityId>` through Chromium, whose auto-posted form lands on a loopback wreply.
 */
import { DOMParser, XMLSerializer } from "@xmldom/xmldom";
import * as boxyModule from "@boxyhq/saml20";
import * as saml20 from "saml20";
import { createHash, randomBytes } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, signInThrough, startLoopbackCallback } from "./browser";
import { startWorker, type StartedWorker } from "./harness";
import { arriveAtAcs, communityIdpCert, communityPath, demoAuthnClient, openRefused, registerSamlSp, type AuthnClient } from "./saml-helpers";
import { startAcs } from "../../scripts/lib/saml-sp.mjs";
import { ID_ATTRS, xmlsecVerify } from "../../scripts/lib/xmlsec.mjs";

type Acs = Awaited<ReturnType<typeof startAcs>>;
type Boxy = { validate(raw: string, options: { publicKey: string; audience: string }): Promise<Record<string, any>> };
// CommonJS with a default export: one level of `default` or two, depending on the loader's interop.
const boxyDefault = (boxyModule as unknown as { default: Boxy & { default?: Boxy } }).default;
const boxy: Boxy = typeof boxyDefault.validate === "function" ? boxyDefault : boxyDefault.default!;

const REALM_11 = "urn:e2e:wsfed-rp-saml11";
const REALM_20 = "urn:e2e:wsfed-rp-saml20";

let w: StartedWorker;
let browser: Browser;
let client: AuthnClient;
let idpCert: string;
let rp11: Acs;
let rp20: Acs;
let passive: string;

/** The token inside a wresult's RequestedSecurityToken, serialized on its own (as an RP hands it on). */
function tokenOf(wresult: string): string {
  const doc = new DOMParser().parseFromString(wresult, "text/xml");
  const rst = doc.getElementsByTagNameNS("*", "RequestedSecurityToken")[0];
  const token = rst && Array.from(rst.childNodes).find((n) => n.nodeType === 1);
  if (!token) throw new Error(`no RequestedSecurityToken child in:\n${wresult.slice(0, 400)}`);
  return new XMLSerializer().serializeToString(token);
}

/**
 * The subject of a SAML 1.1 token, read from the token itself: saml20 0.1.14 looks for it under
 * a misspelt `AttributeStament` and so never reports it; the claims it does report come from
 * the AttributeStatement it verified.
 */
function nameIdentifierOf(token: string): string | undefined {
  const doc = new DOMParser().parseFromString(token, "text/xml");
  return doc.getElementsByTagNameNS("urn:oasis:names:tc:SAML:1.0:assertion", "NameIdentifier")[0]?.textContent ?? undefined;
}

const validate11 = (token: string, audience: string) =>
  new Promise<saml20.Saml20Profile>((resolve, reject) => saml20.validate(token, { publicKey: idpCert, audience }, (err, profile) => (err ? reject(err) : resolve(profile!))));

/** Authn wsfed/sso for Alice. */
function wsfedSso(payload: Record<string, unknown>) {
  return client.call<{ wresult: string; wctx?: string; sp: { assertionConsumerServiceURL: string; assertionMethod: string } }>("POST", `${communityPath(w)}/wsfed/sso`, {
    WSfedPayload: payload,
    userSession: { user: { uid: w.demo.user.uid }, pon_data: {}, authenticator_data: {} },
  });
}

beforeAll(async () => {
  [w, browser, rp11, rp20] = await Promise.all([startWorker(), launchBrowser(), startAcs({ path: "/wsfed-11" }), startAcs({ path: "/wsfed-20" })]);
  client = await demoAuthnClient(w);
  idpCert = (await communityIdpCert(client, w)).certPem;
  passive = `${w.url}/wsfed/${encodeURIComponent(w.demo.communityId)}`;
  const common = {
    assertionMethod: "post",
    assertionSignRequired: true,
    nameid: { format: "emailAddress", value: "email", attribute_type: "identity" },
    attributes: [{ claim_name: "givenName", attribute_name: "given_name", attribute_type: "identity", value_type: "dynamic" }],
  };
  await registerSamlSp(client, w, "WS-Fed RP (SAML 1.1)", { ...common, entityId: REALM_11, assertionConsumerServiceURL: rp11.url, wsfed: { enabled: true, tokenType: "saml11" } });
  await registerSamlSp(client, w, "WS-Fed RP (SAML 2.0)", { ...common, entityId: REALM_20, assertionConsumerServiceURL: rp20.url, wsfed: { enabled: true, tokenType: "saml20" } });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([rp11?.close(), rp20?.close()]);
  await w?.stop();
});

describe("Authn wsfed/sso", () => {
  it("SAML 1.1 token: saml20 validates it for the realm, xmlsec1 verifies its signature; wctx comes back", async () => {
    const r = await wsfedSso({ wtrealm: REALM_11, wa: "wsignin1.0", wctx: "ctx-11" });
    expect(r.status, JSON.stringify(r.data).slice(0, 400)).toBe(200);
    expect(r.data.wctx).toBe("ctx-11");
    expect(r.data.sp.assertionConsumerServiceURL).toBe(rp11.url);
    const token = tokenOf(r.data.wresult);
    expect(token).toContain("urn:oasis:names:tc:SAML:1.0:assertion");
    const profile = await validate11(token, REALM_11);
    expect(JSON.stringify(profile.claims)).toContain('"Alice"');
    expect(nameIdentifierOf(token)).toBe("alice@localhost");
    const v = await xmlsecVerify(r.data.wresult, { certPem: idpCert, idAttr: ID_ATTRS.saml11Assertion });
    expect(v.ok, v.output).toBe(true);
    // Another realm's RP refuses it (audience), and a tampered token fails the signature.
    await expect(validate11(token, REALM_20)).rejects.toThrow(/audience/i);
    await expect(validate11(token.replace("alice@localhost", "admin@localhost"), REALM_11)).rejects.toThrow(/signature/i);
  });

  it("SAML 2.0 token: @boxyhq/saml20 validates the wresult for the realm, xmlsec1 verifies it", async () => {
    const r = await wsfedSso({ wtrealm: REALM_20, wa: "wsignin1.0" });
    expect(r.status, JSON.stringify(r.data).slice(0, 400)).toBe(200);
    expect(r.data.wresult).toContain("urn:oasis:names:tc:SAML:2.0:assertion");
    const profile = await boxy.validate(r.data.wresult, { publicKey: idpCert, audience: REALM_20 });
    expect(JSON.stringify(profile)).toContain("alice@localhost");
    const v = await xmlsecVerify(r.data.wresult, { certPem: idpCert, idAttr: ID_ATTRS.assertion });
    expect(v.ok, v.output).toBe(true);
    await expect(boxy.validate(r.data.wresult, { publicKey: idpCert, audience: REALM_11 })).rejects.toThrow();
  });

  it("refuses a wreply that is not the registered one, wa other than wsignin1.0, and an unknown realm (4xx, no wresult)", async () => {
    for (const payload of [
      { wtrealm: REALM_11, wa: "wsignin1.0", wreply: "https://evil.example/wsfed" },
      { wtrealm: REALM_11, wa: "wsignin1.0", wreply: `${rp11.url}/../evil` },
      { wtrealm: REALM_11, wa: "wsignout1.0" },
      { wtrealm: REALM_11, wa: 7 },
      { wtrealm: "urn:e2e:nobody", wa: "wsignin1.0" },
    ]) {
      const r = await wsfedSso(payload);
      expect(r.status, JSON.stringify(payload)).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(JSON.stringify(r.data)).not.toContain("RequestSecurityTokenResponse");
    }
  });
});

/** Signs Alice in on the hosted login through the demo OIDC client (an SSO session in `page`'s browser). */
async function ssoSessionThroughOidc(page: Page): Promise<void> {
  const cb = await startLoopbackCallback();
  try {
    const issuer = w.demo.oidc.issuer;
    const meta = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { authorization_endpoint: string };
    const client = w.demo.oidc.clients[0]!;
    const url = new URL(meta.authorization_endpoint);
    const challenge = createHash("sha256").update(randomBytes(32).toString("base64url")).digest("base64url");
    for (const [k, v] of Object.entries({ response_type: "code", client_id: client.client_id, redirect_uri: cb.redirectUri, scope: "openid", state: "s", nonce: "n", code_challenge: challenge, code_challenge_method: "S256" })) url.searchParams.set(k, v);
    const { seen } = await signInThrough(page, url, cb.redirectUri, { login: { username: w.demo.user.username, password: w.demo.user.password } });
    expect(seen).toEqual(["login"]);
  } finally {
    await cb.close();
  }
}

describe("the passive endpoint /wsfed/<communityId> through Chromium", () => {
  it("without an SSO session: the hosted login first, then the auto-post to the wreply", async () => {
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      const url = `${passive}?${new URLSearchParams({ wa: "wsignin1.0", wtrealm: REALM_11, wreply: rp11.url, wctx: "rp-state-0" })}`;
      const { seen } = await arriveAtAcs(page, url, rp11.url, { username: w.demo.user.username, password: w.demo.user.password });
      expect(seen).toEqual(["login"]);
      const posted = await rp11.nextPost();
      expect(posted.wctx).toBe("rp-state-0");
      await validate11(tokenOf(posted.wresult!), REALM_11);
    } finally {
      await ctx.close();
    }
  });

  it("a signed-in user's browser is posted wa, wresult and wctx at the registered wreply; the RPs validate them (SAML 1.1 and 2.0)", async () => {
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      await ssoSessionThroughOidc(page);
      const url = `${passive}?${new URLSearchParams({ wa: "wsignin1.0", wtrealm: REALM_11, wreply: rp11.url, wctx: "rp-state-1" })}`;
      // No login page; the post is a form behind a "Continue" button (D's page, no script) or auto-submitted.
      const { seen } = await arriveAtAcs(page, url, rp11.url);
      expect(seen.filter((x) => x !== "continue")).toEqual([]);
      const posted = await rp11.nextPost();
      expect(posted.wa).toBe("wsignin1.0");
      expect(posted.wctx).toBe("rp-state-1");
      const token = tokenOf(posted.wresult!);
      const profile = await validate11(token, REALM_11);
      expect(JSON.stringify(profile.claims)).toContain('"Alice"');
      expect(nameIdentifierOf(token)).toBe("alice@localhost");
      const v = await xmlsecVerify(posted.wresult!, { certPem: idpCert, idAttr: ID_ATTRS.saml11Assertion });
      expect(v.ok, v.output).toBe(true);

      // The SAML 2.0 RP likewise; no wreply: the registered one.
      const again = await arriveAtAcs(page, `${passive}?${new URLSearchParams({ wa: "wsignin1.0", wtrealm: REALM_20 })}`, rp20.url);
      expect(again.seen.filter((x) => x !== "continue")).toEqual([]);
      const p20 = await rp20.nextPost();
      const profile20 = await boxy.validate(p20.wresult!, { publicKey: idpCert, audience: REALM_20 });
      expect(JSON.stringify(profile20)).toContain("alice@localhost");

      // A wreply that is not registered: an error page, nothing posted anywhere.
      const outside: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith(w.url)) outside.push(r.url());
      });
      const refused = await openRefused(page, `${passive}?${new URLSearchParams({ wa: "wsignin1.0", wtrealm: REALM_11, wreply: "https://evil.example/wsfed" })}`);
      expect(refused.status).toBeGreaterThanOrEqual(400);
      expect(refused.status).toBeLessThan(500);
      expect(outside).toEqual([]);
      await expect(rp11.nextPost(300)).rejects.toThrow(/no POST/);
    } finally {
      await ctx.close();
    }
  });
});

/**
 * The service as a SAML 2.0 SP (issue 9) against an IdP nobody here wrote: the Node-side IdP of
 * scripts/lib/saml-fixtures.mjs (XML written by hand, signed with xml-crypto, the signer
 * node-saml uses), its certificate registered as an external IdP through the Authn API.
 * `samlRequest/generate` makes the AuthnRequest; the IdP's signed Response is posted to our ACS
 * (the Authn community's `/saml/<communityId>/sp/acs` and CloudCheckr's `/v1/auth/saml/acs`).
 *
 * The full hostile corpus (XSW1-8, comments, DTDs, the 2025 CVEs) is in workerd tests
 * (src/protocols/saml/hostile/); here a handful of variants prove the deployed route refuses
 * what another implementation signs wrongly: unsigned, another audience, expired, tampered, and
 * a replay of an accepted response.
 */
import { inflateRawSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type StartedWorker } from "./harness";
import { AuthnClient, communityPath, demoAuthnClient, expectStatus, rootAttr, type AuthnAnswer } from "./saml-helpers";
import { makeKeyPair, signedResponse } from "../../scripts/lib/saml-fixtures.mjs";
import { randomSecret } from "../../scripts/lib/worker.mjs";

const BOOT = randomSecret(32);
const IDP_ENTITY_ID = "urn:e2e:node-side-idp";
const SP_ENTITY_ID = "urn:e2e:edge-auth-sp";

let w: StartedWorker;
let client: AuthnClient;
let operator: AuthnClient;
let idpKeys: { keyPem: string; certPem: string };
let idpId: string;
let acsUrl: string;

interface Generated {
  SAMLRequest: string;
  RedirectUrl: string;
  RequestBinding: string;
  ForceAuthn: boolean;
}

/** A fresh AuthnRequest from our SP (samlRequest/generate), decoded: its ID and ACS URL. */
async function generate(): Promise<{ id: string; acs: string; answer: Generated }> {
  const r = expectStatus(await client.call<Generated>("POST", `${communityPath(w)}/samlRequest/generate`, { idpId, dns: "127.0.0.1" }), 200, "samlRequest/generate");
  const xml = inflateRawSync(Buffer.from(r.data.SAMLRequest, "base64")).toString("utf8");
  return { id: rootAttr(xml, "ID")!, acs: rootAttr(xml, "AssertionConsumerServiceURL")!, answer: r.data };
}

/** The Node-side IdP's answer to request `inResponseTo`, for Alice, posted to `recipient`. */
function response(inResponseTo: string | undefined, recipient: string, extra: Partial<Parameters<typeof signedResponse>[0]> = {}) {
  return signedResponse({
    issuer: IDP_ENTITY_ID,
    audience: SP_ENTITY_ID,
    recipient,
    inResponseTo,
    nameId: "alice@localhost",
    nameIdFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    attributes: { email: "alice@localhost", given_name: "Alice" },
    ...idpKeys,
    ...extra,
  });
}

/** Posts a form the way the browser's auto-post does; never follows the redirect. */
async function postForm(url: string, fields: Record<string, string>): Promise<{ status: number; location: string | null; cookies: string[]; text: string }> {
  const res = await fetch(url, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
  return { status: res.status, location: res.headers.get("location"), cookies: res.headers.getSetCookie(), text: await res.text() };
}

const refused = (r: { status: number }) => r.status >= 400 && r.status < 500;

beforeAll(async () => {
  w = await startWorker({ vars: { BOOTSTRAP_SYSTEM_LICENSE: BOOT } });
  idpKeys = makeKeyPair({ cn: "saml-sp e2e node-side idp" });
  [client, operator] = await Promise.all([demoAuthnClient(w), new AuthnClient(w.url, BOOT).init()]);
  const created = await client.call<{ _id: string }>("PUT", `${communityPath(w)}/external_idp`, {
    connection: {
      idpName: "Node-side IdP",
      idpEntityId: IDP_ENTITY_ID,
      samlLoginUrl: "http://127.0.0.1:9/idp/sso",
      samlLogoutUrl: "http://127.0.0.1:9/idp/slo",
      ssoBinding: "HTTP-Redirect",
      sloBinding: "HTTP-Redirect",
      forceAuthn: false,
      spEntityId: SP_ENTITY_ID,
      idpSigningCertificate: idpKeys.certPem,
    },
    routingPolicy: { enabled: true, usersInIdpStore: false },
  });
  idpId = expectStatus(created, 200, "PUT external_idp").data._id;
  acsUrl = `${w.url}/saml/${encodeURIComponent(w.demo.communityId)}/sp/acs`;
}, 180_000);

afterAll(async () => {
  await w?.stop();
});

describe("the Authn community's SP: samlRequest/generate and the ACS", () => {
  it("samlRequest/generate: a Redirect-binding AuthnRequest to the IdP, our ACS on the host asked for", async () => {
    const { id, acs, answer } = await generate();
    expect(answer.RequestBinding).toBe("HTTP-Redirect");
    expect(answer.ForceAuthn).toBe(false);
    expect(id).toMatch(/^_[0-9a-f]{40}$/);
    expect(acs).toBe(acsUrl);
    const url = new URL(answer.RedirectUrl);
    expect(`${url.origin}${url.pathname}`).toBe("http://127.0.0.1:9/idp/sso");
    expect(url.searchParams.get("SAMLRequest")).toBe(answer.SAMLRequest);
    // A host that is not bound to the tenant is refused: the ACS would be anyone's.
    const evil = await client.call("POST", `${communityPath(w)}/samlRequest/generate`, { idpId, dns: "evil.example" });
    expect(evil.status).toBe(400);
  });

  it("the IdP's signed Response to that request signs the user in; the same Response again is refused", async () => {
    const { id } = await generate();
    const r = response(id, acsUrl);
    const ok = await postForm(acsUrl, { SAMLResponse: r.base64, RelayState: "" });
    expect(ok.status, ok.text.slice(0, 300)).toBeLessThan(400);
    expect(ok.cookies.some((c) => c.startsWith("__Host-edge-auth-sso=")), ok.cookies.join("\n")).toBe(true);
    const again = await postForm(acsUrl, { SAMLResponse: r.base64, RelayState: "" });
    expect(refused(again), `replay answered ${again.status}`).toBe(true);
    expect(again.cookies.some((c) => c.startsWith("__Host-edge-auth-sso="))).toBe(false);
  });

  it("the same Response posted 5 times at once signs in exactly once", async () => {
    const { id } = await generate();
    const r = response(id, acsUrl);
    const all = await Promise.all(Array.from({ length: 5 }, () => postForm(acsUrl, { SAMLResponse: r.base64 })));
    expect(all.filter((x) => x.status < 400)).toHaveLength(1);
    expect(all.filter((x) => refused(x))).toHaveLength(4);
  });

  it("refuses, with a 4xx and no session: unsigned, another audience, expired, tampered, signed by another key", async () => {
    const attacker = makeKeyPair({ cn: "saml-sp e2e attacker" });
    const variants: [string, (id: string) => string][] = [
      ["unsigned", (id) => response(id, acsUrl, { signAssertion: false, signResponse: false }).base64],
      ["another audience", (id) => response(id, acsUrl, { audience: "urn:e2e:someone-else" }).base64],
      ["expired", (id) => response(id, acsUrl, { now: new Date(Date.now() - 3_600_000) }).base64],
      ["tampered", (id) => Buffer.from(response(id, acsUrl).xml.replace(">alice@localhost<", ">admin@localhost<")).toString("base64")],
      ["another key", (id) => response(id, acsUrl, { ...attacker }).base64],
    ];
    for (const [why, make] of variants) {
      const { id } = await generate();
      const r = await postForm(acsUrl, { SAMLResponse: make(id) });
      expect(refused(r), `${why}: answered ${r.status} ${r.text.slice(0, 200)}`).toBe(true);
      // Refused by the ACS, not by the router.
      expect(r.status, why).not.toBe(404);
      expect(r.cookies.some((c) => c.startsWith("__Host-edge-auth-sso=")), why).toBe(false);
    }
    // Garbage is a 4xx too, never a 5xx.
    for (const body of [{ SAMLResponse: "not base64 !!" }, { SAMLResponse: Buffer.from("<x/>").toString("base64") }, {}]) {
      expect(refused(await postForm(acsUrl, body as Record<string, string>))).toBe(true);
    }
  });
});

describe("CloudCheckr SAML (seed 001): login redirect, ACS, return_url", () => {
  const dashboard = "https://app.cloudcheckr.example/dashboard";
  let ccAcs: string;

  beforeAll(async () => {
    ccAcs = `${w.url}/v1/auth/saml/acs`;
    const patched: AuthnAnswer = await operator.call("PATCH", `/manage/tenant/${encodeURIComponent(w.demo.tenantId)}/settings`, {
      cloudcheckr: { saml: { communityId: w.demo.communityId, externalIdpId: idpId, allowedReturnUrls: ["https://app.cloudcheckr.example/"], dashboardUrl: dashboard } },
    });
    expectStatus(patched, 200, "PATCH settings cloudcheckr.saml");
  });

  /** GET /v1/auth/saml/login?return_url=...: the redirect to the IdP and the request it carries. */
  async function ccLogin(returnUrl?: string): Promise<{ status: number; location: string | null; requestId?: string }> {
    const q = returnUrl === undefined ? "" : `?return_url=${encodeURIComponent(returnUrl)}`;
    const res = await fetch(`${w.url}/v1/auth/saml/login${q}`, { redirect: "manual" });
    const location = res.headers.get("location");
    let requestId: string | undefined;
    if (location && location.startsWith("http://127.0.0.1:9/idp/sso")) {
      const xml = inflateRawSync(Buffer.from(new URL(location).searchParams.get("SAMLRequest")!, "base64")).toString("utf8");
      requestId = rootAttr(xml, "ID");
      expect(rootAttr(xml, "AssertionConsumerServiceURL")).toBe(ccAcs);
    }
    return { status: res.status, location, ...(requestId ? { requestId } : {}) };
  }

  // CloudCheckr's ACS (/v1/auth/saml/acs, src/api/cloudcheckr/saml-acs.ts).
  it("login redirects to the IdP; the IdP's Response at /v1/auth/saml/acs lands on the return URL with a CloudCheckr token", async () => {
    const start = await ccLogin("https://app.cloudcheckr.example/reports?x=1");
    expect([302, 303]).toContain(start.status);
    expect(start.requestId).toMatch(/^_/);
    const relay = new URL(start.location!).searchParams.get("RelayState") ?? "";
    const r = response(start.requestId, ccAcs);
    const done = await postForm(ccAcs, { SAMLResponse: r.base64, RelayState: relay });
    expect([302, 303], done.text.slice(0, 300)).toContain(done.status);
    expect(done.location!.startsWith("https://app.cloudcheckr.example/")).toBe(true);
    // The same Response again is refused.
    const again = await postForm(ccAcs, { SAMLResponse: r.base64, RelayState: relay });
    expect(refused(again), `replay answered ${again.status}`).toBe(true);
  });

  it("return_url outside the allowed prefixes is refused, never redirected to", async () => {
    for (const evil of ["https://evil.example/", "//evil.example/x", "https://app.cloudcheckr.example@evil.example/", "https:\\\\evil.example", "javascript:alert(1)", "https://app.cloudcheckr.example.evil.example/", "https://app.cloudcheckr.example/%2e%2e/%2f%2fevil.example"]) {
      const r = await ccLogin(evil);
      expect(r.location?.includes("evil.example") ?? false, `${evil} -> ${r.status} ${r.location}`).toBe(false);
      expect(r.location?.startsWith("javascript:") ?? false).toBe(false);
      expect(r.status).toBeLessThan(500);
    }
  });

  it("metadata: our SP's EntityDescriptor with the ACS", async () => {
    const res = await fetch(`${w.url}/v1/auth/saml/metadata`);
    expect(res.status).toBe(200);
    const xml = await res.text();
    expect(rootAttr(xml, "entityID")).toBe(SP_ENTITY_ID);
    expect(xml).toContain("SPSSODescriptor");
    expect(xml).toContain(`Location="${ccAcs}"`);
  });
});

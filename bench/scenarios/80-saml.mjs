import { randomBytes } from "node:crypto";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { makeKeyPair, signedResponse } from "../../scripts/lib/saml-fixtures.mjs";
import { authnSetup, decrypt, encrypt, envelopeHeaders, newCaller } from "../lib/authn-envelope.mjs";

/**
 * The SAML work of issue 9 as ratios to the bare route (docs/benchmarks.md "SAML"):
 *
 * - `saml-sso`: the Authn API's `POST .../saml/sso` (seed 004), the IdP's whole answer to an
 *   AuthnRequest: the request inflated and parsed, the SP found by its Issuer, the request ID
 *   claimed single use in the ReplayGuard, the user read, NameID and attributes resolved, and
 *   the Response and Assertion built and signed (RSA-SHA256, exclusive c14n, in workerd).
 *   Every request carries a fresh AuthnRequest (its ID is single use) in a fresh envelope.
 * - `saml-acs`: `POST /saml/<communityId>/sp/acs`, the service as SP: a Response signed by the
 *   Node-side IdP (scripts/lib/saml-fixtures.mjs, xml-crypto) verified against the pinned
 *   certificate, its InResponseTo and assertion ID claimed single use, the user signed in (an
 *   SSO session started). Each Response answers its own AuthnRequest from
 *   `samlRequest/generate`, made and signed before each run (not measured).
 */

/** Responses per run for the ACS: a 1 s warm-up or 5 s run here uses about 60 (10 req/s); three times that is margin. */
const ACS_POOL = 200;
const SP_ENTITY = "urn:bench:saml-sp";
const IDP_ENTITY = "urn:bench:node-side-idp";
const OUR_SP_ENTITY = "urn:bench:edge-auth-sp";

const samlId = () => `_${randomBytes(20).toString("hex")}`;
const instant = (d = new Date()) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

/** One enveloped Authn call from a fresh caller; answers { status, data } (data decrypted when it is). */
async function authnCall(ctx, s, method, path, payload) {
  const caller = newCaller(s.curve, s.servicePublicKey);
  const headers = envelopeHeaders(caller, s.licenseKey);
  const body = payload === undefined ? undefined : JSON.stringify({ data: encrypt(JSON.stringify(payload), caller.sharedKey) });
  const r = await ctx.fetchJson(method, `/authn${path}`, body, headers);
  const data = r.status < 300 && typeof r.body?.data === "string" ? JSON.parse(decrypt(r.body.data, caller.sharedKey)) : r.body;
  return { status: r.status, data };
}

/**
 * A Redirect-binding SAMLRequest value (raw DEFLATE + base64, SAML Bindings §3.4.4.1) with a
 * fresh ID. No Destination: it is optional on an unsigned request, and the API route has no
 * front-channel URL of its own to compare it with.
 */
function authnRequest(acsUrl) {
  const xml =
    `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${samlId()}" Version="2.0" IssueInstant="${instant()}"` +
    ` AssertionConsumerServiceURL="${acsUrl}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">` +
    `<saml:Issuer>${SP_ENTITY}</saml:Issuer></samlp:AuthnRequest>`;
  return deflateRawSync(Buffer.from(xml, "utf8")).toString("base64");
}

export default [
  {
    name: "saml-sso",
    label: "SAML saml/sso (build + sign a Response)",
    async prepare(ctx) {
      const s = await authnSetup(ctx);
      const acsUrl = "http://127.0.0.1:9/bench/acs";
      const created = await authnCall(ctx, s, "PUT", `${s.base.replace(/^\/authn/, "")}/serviceprovider`, {
        name: "bench SAML SP",
        type: "saml",
        saml_config: {
          entityId: SP_ENTITY,
          assertionConsumerServiceURL: acsUrl,
          assertionMethod: "post",
          assertionSignRequired: true,
          nameid: { format: "emailAddress", value: "email", attribute_type: "identity" },
          attributes: [{ claim_name: "givenName", attribute_name: "given_name", attribute_type: "identity", value_type: "dynamic" }],
        },
      });
      if (created.status !== 200 && created.status !== 400) throw new Error(`PUT serviceprovider answered ${created.status}: ${JSON.stringify(created.data)}`);
      const uid = ctx.demo.user.uid;
      const payload = () => JSON.stringify({ SAMLPayload: { SAMLRequest: authnRequest(acsUrl), RelayState: "bench" }, userSession: { user: { uid }, pon_data: {}, authenticator_data: {} } });
      const path = `${s.base}/saml/sso`;
      const probe = newCaller(s.curve, s.servicePublicKey);
      const r = await ctx.fetchJson("POST", path, JSON.stringify({ data: encrypt(payload(), probe.sharedKey) }), envelopeHeaders(probe, s.licenseKey));
      if (r.status !== 200) throw new Error(`saml/sso answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
      const answer = JSON.parse(decrypt(r.body.data, probe.sharedKey));
      if (typeof answer.SAMLResponse !== "string") throw new Error(`saml/sso answered no SAMLResponse: ${JSON.stringify(answer).slice(0, 300)}`);
      return {
        perConnection() {
          const caller = newCaller(s.curve, s.servicePublicKey);
          return { method: "POST", path, setupRequest: (req) => ({ ...req, headers: envelopeHeaders(caller, s.licenseKey), body: JSON.stringify({ data: encrypt(payload(), caller.sharedKey) }) }) };
        },
      };
    },
  },
  {
    name: "saml-acs",
    label: "SAML ACS (verify a Response, sign in)",
    async prepare(ctx) {
      const s = await authnSetup(ctx);
      const community = s.base.replace(/^\/authn/, "");
      const idp = makeKeyPair({ cn: "bench node-side idp" });
      const created = await authnCall(ctx, s, "PUT", `${community}/external_idp`, {
        connection: {
          idpName: "bench IdP",
          idpEntityId: IDP_ENTITY,
          samlLoginUrl: "http://127.0.0.1:9/idp/sso",
          samlLogoutUrl: "http://127.0.0.1:9/idp/slo",
          ssoBinding: "HTTP-Redirect",
          sloBinding: "HTTP-Redirect",
          forceAuthn: false,
          spEntityId: OUR_SP_ENTITY,
          idpSigningCertificate: idp.certPem,
        },
        routingPolicy: { enabled: true, usersInIdpStore: false },
      });
      if (created.status !== 200) throw new Error(`PUT external_idp answered ${created.status}: ${JSON.stringify(created.data)}`);
      const idpId = created.data._id;
      const path = `/saml/${encodeURIComponent(ctx.demo.communityId)}/sp/acs`;
      const users = ctx.benchUsers.map((u) => `${u.username}@localhost`);
      /** One fresh AuthnRequest (samlRequest/generate) answered by the Node-side IdP, as a form body. */
      const one = async (i) => {
        const g = await authnCall(ctx, s, "POST", `${community}/samlRequest/generate`, { idpId, dns: "127.0.0.1" });
        if (g.status !== 200) throw new Error(`samlRequest/generate answered ${g.status}: ${JSON.stringify(g.data)}`);
        const xml = inflateRawSync(Buffer.from(g.data.SAMLRequest, "base64")).toString("utf8");
        const id = /\sID="([^"]+)"/.exec(xml)[1];
        const acs = /AssertionConsumerServiceURL="([^"]+)"/.exec(xml)[1];
        const email = users[i % users.length];
        const r = signedResponse({ issuer: IDP_ENTITY, audience: OUR_SP_ENTITY, recipient: acs, inResponseTo: id, nameId: email, nameIdFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress", attributes: { email }, ...idp });
        return new URLSearchParams({ SAMLResponse: r.base64 }).toString();
      };
      let pool = [];
      let next = 0;
      const refill = async () => {
        pool = [];
        next = 0;
        for (let i = 0; i < ACS_POOL; i += 10) pool.push(...(await Promise.all(Array.from({ length: 10 }, (_, k) => one(i + k)))));
      };
      const probeBody = await one(0);
      const probe = await fetch(`${ctx.url}${path}`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: probeBody });
      if (probe.status >= 400) throw new Error(`ACS answered ${probe.status}: ${(await probe.text()).slice(0, 300)}`);
      return {
        beforeRun: refill,
        request: { method: "POST", path, headers: { "content-type": "application/x-www-form-urlencoded" }, setupRequest: (req) => ({ ...req, body: pool[next++ % pool.length] }) },
      };
    },
  },
];

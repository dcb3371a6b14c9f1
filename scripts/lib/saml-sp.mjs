// A Node-side SAML 2.0 SP for the e2e tests of the service as IdP: @node-saml/node-saml 5 (the
// library under passport-saml), not our code. It builds the AuthnRequest the service receives
// and validates the SAMLResponse the service posts back, with the IdP certificate pinned.
//
// Mind node-saml's defaults, which differ from SAML's: `wantAuthnResponseSigned` is TRUE in
// node-saml 5 (the Response itself must be signed); here it defaults to false and
// `wantAssertionsSigned` to true, matching an SP with assertionSignRequired. node-saml (through
// xml-crypto 6) verifies RSA signatures only: for an ECDSA-signing IdP key use xmlsec1.
//
//   const acs = await startAcs();                         // loopback ACS that catches the POST
//   const sp = createSp({ entryPoint: ssoUrl, issuer: spEntityId, callbackUrl: acs.url, idpCert });
//   const { url, requestId } = await sp.authnRequestUrl("relay-1");
//   ...browser goes to url, signs in on the hosted login, is posted to acs.url...
//   const { SAMLResponse, RelayState } = await acs.nextPost();
//   const { profile } = await sp.validatePostResponse({ SAMLResponse, RelayState });
import { createServer } from "node:http";
import { inflateRawSync } from "node:zlib";
import { SAML } from "@node-saml/node-saml";

/**
 * The SAML SP. `idpCert` is the IdP's certificate (PEM or bare base64), pinned. Any other
 * node-saml option passes through (`privateKey` + `signatureAlgorithm: "sha256"` to sign the
 * AuthnRequest, `logoutUrl`, `identifierFormat`, `forceAuthn`, `acceptedClockSkewMs`...).
 * `validateInResponseTo` defaults to "ifPresent": an SP-initiated response must answer a request
 * this SP made (node-saml's in-memory cache), an IdP-initiated one carries no InResponseTo.
 * @param {import("@node-saml/node-saml").SamlConfig} config
 */
export function createSp(config) {
  const saml = new SAML({
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    validateInResponseTo: "ifPresent",
    audience: config.issuer,
    // The hosted login does not know our AuthnContext wishes; asking for none keeps the
    // AuthnRequest to what every IdP accepts.
    disableRequestedAuthnContext: true,
    // The HTTP-POST binding carries the XML base64-encoded, not deflated (SAML bindings §3.5.4);
    // node-saml deflates unless told.
    skipRequestCompression: config.authnRequestBinding === "HTTP-POST",
    ...config,
  });
  return {
    /** The node-saml instance, for anything not wrapped here. */
    saml,

    /**
     * HTTP-Redirect binding: the IdP URL with SAMLRequest (deflated, base64) and RelayState (and
     * SigAlg + Signature when `privateKey` is set). Also returns the request's ID and its XML.
     * @param {string} [relayState]
     */
    async authnRequestUrl(relayState = "") {
      const url = await saml.getAuthorizeUrlAsync(relayState, undefined, {});
      const samlRequest = new URL(url).searchParams.get("SAMLRequest") ?? "";
      const xml = inflateRawSync(Buffer.from(samlRequest, "base64")).toString("utf8");
      return { url, requestId: idOf(xml), xml };
    },

    /**
     * HTTP-POST binding: the message (SAMLRequest base64, RelayState) and an auto-submitting
     * HTML form posting it to `entryPoint`, with the request's ID and XML. Build such an SP with
     * `authnRequestBinding: "HTTP-POST"` (an enveloped signature when `privateKey` is set; the
     * XML is then not deflated, SAML bindings §3.5.4). One request per call: node-saml's own
     * getAuthorizeFormAsync would make a second one with another ID.
     * @param {string} [relayState]
     */
    async authnRequestForm(relayState = "") {
      const message = await saml.getAuthorizeMessageAsync(relayState, undefined, {});
      const raw = Buffer.from(String(message.SAMLRequest), "base64");
      const xml = saml.options.skipRequestCompression ? raw.toString("utf8") : inflateRawSync(raw).toString("utf8");
      const inputs = Object.entries(message)
        .map(([name, value]) => `<input type="hidden" name="${attr(name)}" value="${attr(String(value))}">`)
        .join("");
      const html =
        `<!doctype html><html><body onload="document.forms[0].submit()">` +
        `<form method="post" action="${attr(String(saml.options.entryPoint))}">${inputs}<noscript><button>Continue</button></noscript></form></body></html>`;
      return { html, message: /** @type {Record<string, string>} */ (message), requestId: idOf(xml), xml };
    },

    /**
     * Validates a posted SAMLResponse (signature against the pinned certificate, Destination,
     * Audience, Recipient, time window, InResponseTo). Resolves { profile, loggedOut }; rejects
     * with node-saml's error when anything fails.
     * @param {{ SAMLResponse: string, RelayState?: string }} body
     */
    validatePostResponse(body) {
      return saml.validatePostResponseAsync(/** @type {Record<string, string>} */ ({ ...body }));
    },

    /** This SP's metadata (node-saml's generator), optionally with its signing certificate. */
    metadata(signingCertPem = null) {
      return saml.generateServiceProviderMetadata(null, signingCertPem);
    },
  };
}

/** An HTML attribute value. */
function attr(value) {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The ID attribute of a SAML message's root element. */
function idOf(xml) {
  return /^[\s\S]*?<(?:\w+:)?\w+\s[^>]*?\bID="([^"]+)"/.exec(xml)?.[1];
}

/**
 * A loopback HTTP endpoint standing for the SP's ACS: every form POST it receives (the browser's
 * auto-submitted SAMLResponse, or a WS-Fed wresult) is queued for `nextPost()`. It answers 200
 * with a small HTML page so the browser's navigation completes.
 * @param {{ path?: string }} [opts]
 * @returns {Promise<{ url: string, nextPost(timeoutMs?: number): Promise<Record<string, string>>, close(): Promise<void> }>}
 */
export async function startAcs(opts = {}) {
  const path = opts.path ?? "/acs";
  /** @type {Record<string, string>[]} */
  const received = [];
  /** @type {((body: Record<string, string>) => void)[]} */
  const waiting = [];
  const server = createServer((req, res) => {
    if (req.method !== "POST" || new URL(req.url ?? "/", "http://x").pathname !== path) {
      res.writeHead(404).end();
      return;
    }
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
      const waiter = waiting.shift();
      if (waiter) waiter(body);
      else received.push(body);
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!doctype html><title>ACS</title><h1>Received</h1>");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    nextPost(timeoutMs = 30_000) {
      const queued = received.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiting.indexOf(done);
          if (i >= 0) waiting.splice(i, 1);
          reject(new Error(`no POST to the ACS within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = (body) => {
          clearTimeout(timer);
          resolve(body);
        };
        waiting.push(done);
      });
    },
    close() {
      return new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
    },
  };
}

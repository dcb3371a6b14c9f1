#!/usr/bin/env node
// `npm run demo:signin [-- --confidential]`: signs you in to the local provider with a demo
// application, the way any relying party would (openid-client, unmodified). Needs `npm run dev`
// running (it reads .demo-credentials.json). It listens on a free loopback port (the demo clients'
// redirect URI is http://127.0.0.1/callback at any port, RFC 8252 §7.3), prints the URL to open
// in your browser, and after you sign in prints the ID token's claims and the userinfo answer.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import * as oidc from "openid-client";
import { ROOT } from "./lib/worker.mjs";

const creds = JSON.parse(readFileSync(join(ROOT, ".demo-credentials.json"), "utf8"));
if (!creds.oidc) throw new Error(".demo-credentials.json has no oidc part: run `npm run dev` once with this version");
const confidential = process.argv.includes("--confidential");
const app = creds.oidc.clients.find((c) => Boolean(c.client_secret) === confidential);

// Plain http is for development only (openid-client's documented allowInsecureRequests).
const config = await oidc.discovery(
  new URL(creds.oidc.issuer),
  app.client_id,
  app.client_secret ? { client_secret: app.client_secret } : {},
  app.client_secret ? oidc.ClientSecretBasic(app.client_secret) : oidc.None(),
  { execute: [oidc.allowInsecureRequests] },
);

const verifier = oidc.randomPKCECodeVerifier();
const state = oidc.randomState();
const nonce = oidc.randomNonce();
const server = createServer(async (req, res) => {
  const current = new URL(req.url, redirectUri);
  if (current.pathname !== "/callback") return res.writeHead(404).end();
  try {
    const tokens = await oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    const claims = tokens.claims();
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!doctype html><title>Signed in</title><h1>Signed in</h1><p>Back in the terminal.</p>");
    console.log("\nID token claims:", claims, "\nuserinfo:", userinfo);
  } catch (e) {
    res.writeHead(400, { "content-type": "text/plain" }).end(String(e));
    console.error("\n!", e);
  } finally {
    // One sign-in, then done: the browser's keep-alive connection must not hold the process.
    server.close();
    server.closeAllConnections();
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const redirectUri = `http://127.0.0.1:${server.address().port}/callback`;
const url = oidc.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: "openid profile email",
  code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
  code_challenge_method: "S256",
  state,
  nonce,
});
console.log(`Open this in your browser and sign in as ${creds.user.username} / ${creds.user.password}:\n\n  ${url.href}\n`);

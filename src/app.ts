import { Hono } from "hono";
import { dev } from "./api/dev";
import { docs } from "./api/docs";
import { sentinel, sentinelOpenApi } from "./api/sentinel";
import { authn, authnOpenApi } from "./api/authn";
import { cloudcheckr, cloudcheckrOpenApi } from "./api/cloudcheckr";
import { croit, croitOpenApi } from "./api/croit";
import { userpool, userpoolOpenApi } from "./api/userpool";
import { wellknown } from "./api/wellknown";
import { oidcProvider } from "./api/oidc";
import { hostedLogin } from "./web";
import { samlFront } from "./web/saml";
import { wsfedEndpoint } from "./web/wsfed";
import { samlSp } from "./web/saml-sp";
import { ConfigError } from "./env";
import { cors } from "./http/cors";
import { provideServices } from "./http/services";
import { securityHeaders } from "./http/security-headers";
import type { AppEnv } from "./http/types";

/**
 * Composition root: bindings -> stores -> core services (http/services.ts), then each API
 * surface mounted at its documented base path.
 */
export const app = new Hono<AppEnv>();

// Security headers first, so that every answer carries them: errors, 404s, a failed setup.
app.use("*", securityHeaders, provideServices);

/** A bare JSON route: the benchmark's baseline. */
app.get("/ping", (c) => c.json({ ok: true }));

app.route("/.well-known", wellknown);
// CORS per tenant on the surfaces browsers call (http/cors.ts); before the surfaces, so it
// sees their answers, errors included. Not on /authn (servers only) nor /dev. /v1/* covers
// CloudCheckr's /v1/auth/*.
app.use("/v1/*", cors);
app.use("/api/auth/*", cors);
app.use("/v1.0/auth/*", cors);
// CloudCheckr before the userpool: the userpool's use("*") (body limit, tenant) would
// otherwise also run for /v1/auth/* and answer in the userpool's error shape.
app.get("/openapi/cloudcheckr.json", cloudcheckrOpenApi);
app.route("/v1/auth", cloudcheckr);
app.get("/openapi/userpool.json", userpoolOpenApi);
app.route("/v1", userpool);
app.get("/openapi/croit.json", croitOpenApi);
app.route("/api/auth", croit);
app.get("/openapi/authn.json", authnOpenApi);
app.route("/authn", authn);
app.get("/openapi/sentinel.json", sentinelOpenApi);
app.route("/v1.0/auth", sentinel);
app.route("/dev", dev);
// Every community is an OpenID Provider at /oidc/<communityId> (docs/api/oidc.md): the back
// channel (api/oidc) and the browser's front channel (web/, the hosted login).
app.route("/oidc", oidcProvider);
app.route("/oidc", hostedLogin);
// The community's SAML IdP front channel (web/saml/): sso, idp-init, slo, metadata.
app.route("/saml", samlFront);
// WS-Federation passive requestor endpoint of each community (docs/api/saml.md "WS-Federation").
app.route("/wsfed", wsfedEndpoint);
// The community's SAML SP (its ACS: web/saml-sp.tsx, docs/api/saml.md).
app.route("/saml", samlSp);
// GET / and /docs: the surfaces and their rendered OpenAPI documents (api/docs).
app.route("/", docs);

app.notFound((c) => c.json({ error: "not_found", message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` }, 404));
app.onError((err, c) => {
  if (err instanceof ConfigError) {
    console.error("configuration error:", err.message);
    return c.json({ error: "server_error", message: "service is not configured" }, 500);
  }
  console.error("unhandled error", err instanceof Error ? `${err.name}: ${err.message}` : err);
  return c.json({ error: "server_error", message: "internal error" }, 500);
});

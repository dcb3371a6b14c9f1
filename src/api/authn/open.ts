import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { AuthError } from "../../core/errors";
import { peekTokenAddress, recordedIp, verifyIssuedToken } from "../../core/sessions/verify-issued";
import { decryptEnvelope, deriveSharedKey, EnvelopeError, encryptEnvelope } from "../../crypto/envelope";
import { firstForwardedFor } from "../../http/authn-guard";
import { clientIp } from "../../http/client-ip";
import { scopeFor, tenantIdForHost } from "../../http/tenant";
import { requestAddress } from "../../http/request-address";
import { publicOrigin } from "../../core/tenants/public-origin";
import type { AppEnv } from "../../http/types";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { errorResponse, openErrors } from "./schemas";

/**
 * The open Authn endpoints (seed 004: Healthz, Public Key, Environment, Service Directory,
 * ECDSA Helper, JWT): no license is required for any of them.
 */
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });

const Healthz = z.object({ status: z.string(), publicKey: z.string(), code: z.string(), version: z.string() });
const PublicKey = z.object({ publicKey: z.string() });
const Environment = z.object({ EC_CURVE_NAME: z.string(), ENVIRONMENT: z.string(), PREVIEW: z.boolean(), VERSION: z.string() }).catchall(z.unknown());
const ServiceDirectory = z.record(z.string(), z.string());
const EcdsaBody = z.object({
  dataStr: z.string().max(48 * 1024).openapi({ description: "Message to encrypt, or ciphertext to decrypt" }),
  publicKey: z.string().max(256).openapi({ description: "Peer public key: base64 64-byte point without 0x04" }),
  privateKey: z.string().max(256).openapi({ description: "Own private key: base64 32-byte scalar" }),
});
const EcdsaMethod = z.object({ method: z.enum(["encrypt", "decrypt"]).openapi({ param: { name: "method", in: "path" }, description: "Default encrypt" }) });
const TokenBody = z.object({ token: z.string().min(1).max(8192) });
const Decoded = z.record(z.string(), z.unknown()).openapi({ description: "The decoded (verified) token claims" });

export const healthzRoute = createRoute({ operationId: "getHealthz", method: "get", path: "/healthz", summary: "Health, service public key and build version", responses: { 200: json(Healthz, "Healthz object; version = <git-tag>.<commit>.<dob> or <commit>.<dob>") } });
export const publicKeysRoute = createRoute({ operationId: "getSystemPublicKey", method: "get", path: "/publickeys", summary: "The service's public key (no authorization)", responses: { 200: json(PublicKey, "Public key object") } });
export const environmentRoute = createRoute({ operationId: "getEnvironment", method: "get", path: "/environment", summary: "Details of this environment (EC_CURVE_NAME, ...)", responses: { 200: json(Environment, "Environment object") } });
export const sdRoute = createRoute({ operationId: "getServiceDirectories", method: "get", path: "/sd", summary: "Service directory: this deployment's surfaces and configured peers", responses: { 200: json(ServiceDirectory, "name -> URL") } });
const ecdsaRequest = { body: { required: true, content: { "application/json": { schema: EcdsaBody } } } };
const ecdsaResponses = { 200: json(z.object({ data: z.string() }), "The encrypted or decrypted string"), ...openErrors };
export const ecdsaDefaultRoute = createRoute({ operationId: "encryptDataString", method: "post", path: "/ecdsa_helper", summary: "Encrypt dataStr (the default method)", request: ecdsaRequest, responses: ecdsaResponses });
export const ecdsaRoute = createRoute({
  operationId: "encryptAndDecryptDataString",
  method: "post",
  path: "/ecdsa_helper/{method}",
  summary: "Encrypt or decrypt dataStr with the ECDH key of privateKey and publicKey",
  request: { params: EcdsaMethod, ...ecdsaRequest },
  responses: ecdsaResponses,
});
const verifyResponses = { 200: json(Decoded, "Decoded token"), ...openErrors, 401: errorResponse("Invalid, expired or revoked token (v2: or another IP)") };
const xff = z.object({
  "x-forwarded-for": z.string().optional().openapi({
    description: "client ip address that can be forwarded through n service layers: the first entry is the end user's address (v2 compares it with the token's; else the connecting address)",
  }),
});
export const verifyTokenRoute = createRoute({
  operationId: "verifyToken",
  method: "post",
  path: "/jwt/verifyToken",
  summary: "Verify a JWT issued by this service; revoked tokens fail",
  request: { headers: xff, body: { required: true, content: { "application/json": { schema: TokenBody } } } },
  responses: verifyResponses,
});
export const verifyTokenV2Route = createRoute({
  operationId: "verifyTokenV2",
  method: "post",
  path: "/v2/jwt/verifyToken",
  summary: "Verify a JWT and that the caller's IP is the one recorded in it",
  description:
    "No license (seed 004: the caller is the relying service, naming the end user's address). The address compared with the token's `ip` is the first X-Forwarded-For entry, else the connecting address. The header can only make a verification fail (docs/security.md).",
  request: { headers: xff, body: { required: true, content: { "application/json": { schema: TokenBody } } } },
  responses: verifyResponses,
});

/** The surfaces this Worker serves and where (seeds/README.md). */
const SURFACES: Record<string, string> = {
  authn: "/authn",
  userpool: "/v1",
  sentinel: "/v1.0/auth",
  cloudcheckr: "/v1/auth",
  croit: "/api/auth",
  wellknown: "/.well-known",
};

function peers(raw: string | undefined): Record<string, string> {
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    if (!v || typeof v !== "object" || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string"));
  } catch {
    return {};
  }
}

/**
 * The end user's address on the verify endpoints: the first X-Forwarded-For entry, else the
 * connecting address. Believed from anyone because it is only ever compared with the address
 * a valid token records: it can make a verification fail, never pass (docs/security.md
 * "Authn verification and x-forwarded-for"). It is never the rate-limit or audit address.
 */
function endUserAddress(c: Context<AppEnv>): string {
  return firstForwardedFor(c) ?? clientIp(c).toLowerCase();
}

async function verifyFor(c: Context<AppEnv>, token: string) {
  const addr = peekTokenAddress(token);
  if (!addr) throw new AuthError("invalid_token", "malformed token");
  try {
    const scope = await scopeFor(c, addr.tenantId, addr.communityId);
    return await verifyIssuedToken(c.get("services"), scope, token, addr.typ);
  } catch (e) {
    // Unknown tenant or anything else: the caller only learns that the token is not valid.
    if (e instanceof AuthError && e.code !== "token_revoked" && e.code !== "invalid_token") throw new AuthError("invalid_token", "invalid token");
    throw e;
  }
}

export function registerOpenRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(healthzRoute, async (c) => {
    const { publicKey } = await c.get("services").authn.keyring.serviceKey();
    return c.json({ status: "all services operational", publicKey, code: "200", version: c.get("services").config.buildVersion }, 200);
  });

  app.openapi(publicKeysRoute, async (c) => {
    const { publicKey } = await c.get("services").authn.keyring.serviceKey();
    return c.json({ publicKey }, 200);
  });

  app.openapi(environmentRoute, (c) => {
    const config = c.get("services").config;
    return c.json({ EC_CURVE_NAME: config.ecCurve, ENVIRONMENT: config.production ? "production" : "development", PREVIEW: config.authnPreview, VERSION: config.buildVersion }, 200);
  });

  app.openapi(sdRoute, async (c) => {
    // The tenant's bound hostname (the Host's if bound, else its primary), never the Host itself.
    const tenantId = await tenantIdForHost(c);
    const origin = tenantId ? await publicOrigin(c.get("services"), tenantId, requestAddress(c)) : null;
    if (!origin) throw new AuthError("tenant_not_found", "no tenant with a bound hostname serves this host");
    const dir: Record<string, string> = {};
    for (const [name, path] of Object.entries(SURFACES)) dir[name] = origin + path;
    return c.json({ ...dir, ...peers(c.env.SERVICE_DIRECTORY) }, 200);
  });

  const ecdsa = async (c: Context<AppEnv>, method: "encrypt" | "decrypt", body: z.infer<typeof EcdsaBody>) => {
    const curve = c.get("services").config.ecCurve;
    try {
      const key = deriveSharedKey(body.privateKey, body.publicKey, curve);
      const data = method === "encrypt" ? await encryptEnvelope(body.dataStr, key) : await decryptEnvelope(body.dataStr, key);
      return c.json({ data }, 200);
    } catch (e) {
      if (e instanceof EnvelopeError) throw new AuthError("invalid_request", e.message);
      throw e;
    }
  };
  app.openapi(ecdsaDefaultRoute, (c) => ecdsa(c, "encrypt", c.req.valid("json")));
  app.openapi(ecdsaRoute, (c) => ecdsa(c, c.req.valid("param").method, c.req.valid("json")));

  app.openapi(verifyTokenRoute, async (c) => c.json(await verifyFor(c, c.req.valid("json").token), 200));

  app.openapi(verifyTokenV2Route, async (c) => {
    const claims = await verifyFor(c, c.req.valid("json").token);
    const endUser = endUserAddress(c);
    const recorded = recordedIp(claims);
    if (!recorded || recorded.toLowerCase() !== endUser) throw new AuthError("invalid_token", "token was not issued to this IP address");
    return c.json(claims, 200);
  });
}

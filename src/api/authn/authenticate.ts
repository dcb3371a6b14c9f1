import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { authenticateWithFactors } from "../../core/authn/authenticate";
import { mintKtoken, redeemKtoken } from "../../core/authn/ktokens";
import { requestProof } from "../../core/authn/proof-request";
import { accumulateAmr, issueProof, verifyProof } from "../../core/authn/proofs";
import { authnUserObject, pickAttributes } from "../../core/authn/user-view";
import { AuthError } from "../../core/errors";
import { authnContext, authnPayload, authnRespond } from "../../http/authn-guard";
import type { AppEnv } from "../../http/types";
import { authnRoute, SERVICE_LEVELS, TenantCommunityParams } from "./endpoint-kit";

/**
 * Authn login endpoints (seed 004 "Authenticate"): authenticate (username + password, PIN or
 * TOTP, optional step-up from an earlier proof), request/proof_of_authentication,
 * authenticate_with_ktoken, and the ktoken minting extension. Thin: validate the decrypted
 * payload, call core/authn, shape the document's answer.
 */
const Jwt = z.string().min(1).max(8192);

const Credentials = z.object({
  username: z.string().max(256).optional(),
  password: z.string().max(1024).optional(),
  dn: z.string().max(1024).optional(),
  otp: z.string().max(16).optional(),
  isPasswordDeferred: z.boolean().optional(),
  isSharedPasswordDeferred: z.boolean().optional(),
  pin: z.string().max(64).optional(),
  isOtpFromUwl: z.boolean().optional(),
});

export const AuthenticatePayload = z
  .object({
    schemeId: z.string().max(64).optional(),
    moduleId: z.string().max(128).optional(),
    SAMLResponse: z.string().max(262_144).optional(),
    credentials: Credentials,
    jwt: Jwt.optional().openapi({ description: "An earlier proof_of_authentication_jwt of the same user to step up from: methods accumulate in amr" }),
  })
  .openapi("AuthenticatePayload");

const AuthnAddress = z
  .object({ house: z.string(), streetname: z.string(), city: z.string(), country: z.string(), zip: z.string() })
  .openapi("AuthnAddress", { description: "Empty strings for what is not known; never null" });

const UserObject = z
  .object({
    type: z.string().openapi({ example: "basic" }),
    email_verified: z.boolean(),
    disabled: z.boolean(),
    username: z.string(),
    status: z.string().openapi({ example: "active" }),
    firstname: z.string(),
    middlename: z.string().openapi({ description: "Always empty: the identity model holds no middle name" }),
    lastname: z.string(),
    email: z.string(),
    phone: z.string(),
    phone_verified: z.boolean(),
    address: AuthnAddress,
    address_verified: z.boolean(),
    uid: z.string(),
    dguid: z.string(),
    tenantId: z.string(),
    communityId: z.string(),
    roleValue: z.string().openapi({ example: "none" }),
  })
  .openapi("AuthnUser");

const AuthenticatedAnswer = z
  .object({ user: UserObject, proof_of_authentication_jwt: z.string().openapi({ description: "proof+jwt naming amr, aal/acr and ip" }) })
  .openapi("AuthenticatedAnswer");

export const ProofPayload = z
  .object({
    user: z
      .object({
        username: z.string().max(256).optional(),
        uid: z.string().max(128).optional(),
        moduleId: z.string().max(128).optional(),
        urn: z.string().max(1024).optional(),
        password: z.string().max(1024).optional(),
        pin: z.string().max(64).optional(),
        otp: z.string().max(16).optional(),
      })
      .optional(),
    password: z.string().max(1024).optional(),
    pin: z.string().max(64).optional(),
    otp: z.string().max(16).optional(),
    ktoken: z.string().max(512).optional(),
    methods: z.array(z.string().min(1).max(32)).min(1).max(8).openapi({ description: "Methods the proof must attest: password, pin, otp, ktoken" }),
    ttl: z.number().int().openapi({ description: "Proof lifetime in seconds (1..3600; default 300)", example: 30 }).optional(),
  })
  .openapi("ProofOfAuthenticationPayload");

export const KtokenAuthPayload = z
  .object({
    ktoken: z.string().min(1).max(512),
    attributes: z.array(z.string().min(1).max(64)).max(50).optional().openapi({ description: "User attributes to answer; all of the user object when omitted" }),
    jwt: Jwt.optional(),
  })
  .openapi("AuthenticateWithKtokenPayload");

export const KtokenMintPayload = z
  .object({
    jwt: Jwt.openapi({ description: "The user's proof_of_authentication_jwt" }),
    ttl: z.number().int().optional().openapi({ description: "Seconds, 10..600; default 120" }),
  })
  .openapi("KtokenMintPayload");

export const authenticateRoute = authnRoute({
  operationId: "authenticateUsers",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/authenticate",
  summary: "Authenticate users",
  description: "Validation: 1. username is required 2. at least one of password, pin or otp. Every factor given must be right.",
  tag: "Authenticate",
  levels: "any",
  community: true,
  forwardedFor: true,
  params: TenantCommunityParams,
  payload: AuthenticatePayload,
  answer: AuthenticatedAnswer,
  signed: true,
});

export const proofRoute = authnRoute({
  operationId: "getProofOfAuthentication",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/request/proof_of_authentication",
  summary: "Gets jwt proof of authentication",
  description:
    "Validation: 1. with ktoken, username, password, pin and otp are not allowed 2. without ktoken, username is required 3. without ktoken, at least one of password, otp or pin. The proof records the client IP (X-Forwarded-For from these service levels).",
  tag: "Authenticate",
  levels: SERVICE_LEVELS,
  community: true,
  forwardedFor: true,
  params: TenantCommunityParams,
  payload: ProofPayload,
  answer: z.object({ proof_of_authentication: z.string() }),
  signed: true,
});

export const ktokenAuthRoute = authnRoute({
  operationId: "authenticateUsersWithKtoken",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/authenticate_with_ktoken",
  summary: "Authenticate users with ktoken",
  description: "Validation: 1. ktoken is required. A ktoken is single use; the answer carries only the requested attributes.",
  tag: "Authenticate",
  levels: "any",
  community: true,
  params: TenantCommunityParams,
  payload: KtokenAuthPayload,
  answer: z.object({ user: z.record(z.string(), z.unknown()), proof_of_authentication_jwt: z.string() }),
  signed: true,
});

export const ktokenMintRoute = authnRoute({
  operationId: "createKtoken",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/ktoken",
  summary: "Mint a ktoken for an authenticated user (extension)",
  description: "Extension: a single-use ktoken (default 120 s) for the user of a valid proof_of_authentication_jwt of this community.",
  tag: "Authenticate (extensions)",
  levels: "any",
  community: true,
  params: TenantCommunityParams,
  payload: KtokenMintPayload,
  answer: z.object({ ktoken: z.string(), expires_in: z.number().int() }),
});

export function registerAuthenticateRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(authenticateRoute, async (c) => {
    const p = authnPayload(c, AuthenticatePayload);
    if (p.SAMLResponse !== undefined) throw new AuthError("invalid_request", "SAMLResponse authentication is not supported by this service");
    const svc = c.get("services");
    const scope = c.get("scope");
    const { username, password, pin, otp } = p.credentials;
    const a = await authenticateWithFactors(
      svc,
      scope,
      { username: username ?? "", ...(password ? { password } : {}), ...(pin ? { pin } : {}), ...(otp ? { otp } : {}) },
      {
        ...(p.jwt ? { priorProof: p.jwt } : {}),
        ...(p.schemeId || p.moduleId ? { schemes: c.get("services").authnConfig.schemes, schemeId: p.schemeId, moduleId: p.moduleId } : {}),
      },
    );
    const proof = await issueProof(svc, scope, a.user, {
      amr: a.amr,
      ip: authnContext(c).clientIp,
      authenticatedAt: a.authenticatedAt,
      ...(a.schemeId ? { schemeId: a.schemeId } : {}),
      ...(a.moduleId ? { moduleId: a.moduleId } : {}),
    });
    return authnRespond(c, { user: authnUserObject(a.user), proof_of_authentication_jwt: proof }, { signed: true }) as never;
  });

  app.openapi(proofRoute, async (c) => {
    const p = authnPayload(c, ProofPayload);
    const u = p.user ?? {};
    const proof = await requestProof(
      c.get("services"),
      c.get("scope"),
      c.get("services").authnConfig.schemes,
      {
        methods: p.methods,
        ...defined({ username: u.username, uid: u.uid, moduleId: u.moduleId, ktoken: p.ktoken, ttl: p.ttl }),
        ...defined({ password: p.password ?? u.password, pin: p.pin ?? u.pin, otp: p.otp ?? u.otp }),
      },
      authnContext(c).clientIp,
    );
    return authnRespond(c, { proof_of_authentication: proof }, { signed: true }) as never;
  });

  app.openapi(ktokenAuthRoute, async (c) => {
    const p = authnPayload(c, KtokenAuthPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    // The step-up proof is checked before the ktoken is spent, so a bad one does not burn it.
    const prior = p.jwt ? await verifyProof(svc, scope, p.jwt) : null;
    const { user, amr } = await redeemKtoken(svc, scope, p.ktoken, prior ? { forUid: prior.sub } : {});
    const proof = await issueProof(svc, scope, user, { amr: accumulateAmr(prior?.amr ?? [], amr), ip: authnContext(c).clientIp });
    const shown = p.attributes ? pickAttributes(user, p.attributes) : authnUserObject(user);
    return authnRespond(c, { user: shown, proof_of_authentication_jwt: proof }, { signed: true }) as never;
  });

  app.openapi(ktokenMintRoute, async (c) => {
    const p = authnPayload(c, KtokenMintPayload);
    const r = await mintKtoken(c.get("services"), c.get("scope"), p.jwt, p.ttl);
    return authnRespond(c, r) as never;
  });
}

/** Drops undefined values (exactOptionalPropertyTypes-friendly spreading). */
function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}

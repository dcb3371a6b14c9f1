import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { authenticateWithFactors } from "../../core/authn/authenticate";
import { authnLoginDecision, verifyStepUp, type AuthnLoginDecision } from "../../core/authn/pending-login";
import type { Facts } from "../../core/journeys/model";
import { mintKtoken, redeemKtoken } from "../../core/authn/ktokens";
import { requestProof } from "../../core/authn/proof-request";
import { accumulateAmr, issueProof } from "../../core/authn/proofs";
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
 *
 * Every login asks the authentication policy once the credentials are right (issue 10;
 * core/authn/pending-login.ts): grant_access answers as before, deny_access is a 403, and
 * need_mfa answers the document's `{user_token, next: {step: "need_mfa", allowed_factors}}`
 * (seed 004, authenticate_with_liveid "If PIN needed"), stepped up by sending `user_token` as
 * `jwt` with the next factor.
 */
const Jwt = z.string().min(1).max(8192);

const DeviceId = z.string().min(1).max(256);
/**
 * Extension: facts about the client's device for the authentication policy, as the document's
 * auth_policy/evaluate names them. Device facts only: IP, username, groups and the application
 * are taken from the request and the user, never from here (docs/security.md).
 */
export const DeviceFacts = z
  .object({
    deviceId: z.union([DeviceId, z.array(DeviceId).min(1).max(50)]).optional(),
    machine_name: z.string().min(1).max(256).optional(),
    machine_id: z.string().min(1).max(256).optional(),
    machine_user: z.string().min(1).max(256).optional(),
    machine_domain: z.string().min(1).max(256).optional(),
    mobileLocation: z.number().finite().optional(),
  })
  .strict()
  .openapi("LoginDeviceFacts", { description: "Extension: device facts for the authentication policy (journeys). Unknown names, and IP or user facts, are a 400." });

/** The policy's Facts fields of the device facts a client sent. */
export function deviceFacts(f: z.infer<typeof DeviceFacts> | undefined): Partial<Facts> | undefined {
  if (!f) return undefined;
  const out: Partial<Facts> = {};
  if (f.deviceId !== undefined) out.deviceIds = Array.isArray(f.deviceId) ? f.deviceId : [f.deviceId];
  if (f.machine_name !== undefined) out.machineNames = [f.machine_name];
  if (f.machine_id !== undefined) out.machineIds = [f.machine_id];
  if (f.machine_user !== undefined) out.machineUsers = [f.machine_user];
  if (f.machine_domain !== undefined) out.domain = [f.machine_domain];
  if (f.mobileLocation !== undefined) out.mobileLocation = f.mobileLocation;
  return out;
}

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
    jwt: Jwt.optional().openapi({
      description: "An earlier proof_of_authentication_jwt, or the user_token of a need_mfa answer, of the same user to step up from: methods accumulate in amr",
    }),
    facts: DeviceFacts.optional(),
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

export const AuthenticatedAnswer = z
  .object({ user: UserObject, proof_of_authentication_jwt: z.string().openapi({ description: "proof+jwt naming amr, aal/acr and ip" }) })
  .openapi("AuthenticatedAnswer");

/** The document's answer when another factor is needed (seed 004, authenticate_with_liveid "If PIN needed"). */
export const NeedMfaAnswer = z
  .object({
    user_token: z.string().openapi({ description: "A pending login (pending+jwt, 300 s): send it as `jwt` with the next factor. It is not a proof and is refused wherever one is expected." }),
    next: z.object({
      step: z.literal("need_mfa"),
      allowed_factors: z.array(z.string()).openapi({ example: ["otp"] }),
      idps: z.array(z.string()).openapi({ description: "External IdPs whose routing policy matches, when idp_redirect is allowed" }),
    }),
  })
  .openapi("NeedMfaAnswer", { description: "The authentication policy wants another factor: no user and no proof yet" });

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
    jwt: Jwt.optional().openapi({ description: "A proof_of_authentication_jwt or a need_mfa user_token of the ktoken's user to step up from" }),
    facts: DeviceFacts.optional(),
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
  description:
    "Validation: 1. username is required 2. at least one of password, pin or otp. Every factor given must be right. Then the authentication policy decides: grant (user and proof), deny (403), or need_mfa (user_token and next; send user_token as jwt with the next factor).",
  tag: "Authenticate",
  levels: "any",
  community: true,
  forwardedFor: true,
  params: TenantCommunityParams,
  payload: AuthenticatePayload,
  answer: z.union([AuthenticatedAnswer, NeedMfaAnswer]),
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
  description:
    "Validation: 1. ktoken is required. A ktoken is single use; the answer carries only the requested attributes. The authentication policy decides as for authenticate.",
  tag: "Authenticate",
  levels: "any",
  community: true,
  params: TenantCommunityParams,
  payload: KtokenAuthPayload,
  answer: z.union([z.object({ user: z.record(z.string(), z.unknown()), proof_of_authentication_jwt: z.string() }), NeedMfaAnswer]),
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
    const ctx = authnContext(c);
    const device = deviceFacts(p.facts);
    const decision = await authnLoginDecision(svc, scope, {
      user: a.user,
      amr: a.amr,
      application: ctx.appid,
      ip: ctx.clientIp,
      authenticatedAt: a.authenticatedAt,
      prior: a.prior,
      ...(device ? { device } : {}),
    });
    if (decision.kind === "need_mfa") return authnRespond(c, needMfaAnswer(decision), { signed: true }) as never;
    const proof = await issueProof(svc, scope, a.user, {
      amr: a.amr,
      ip: ctx.clientIp,
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
      { application: authnContext(c).appid },
    );
    return authnRespond(c, { proof_of_authentication: proof }, { signed: true }) as never;
  });

  app.openapi(ktokenAuthRoute, async (c) => {
    const p = authnPayload(c, KtokenAuthPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    // The step-up token is checked before the ktoken is spent, so a bad one does not burn it.
    const prior = p.jwt ? await verifyStepUp(svc, scope, p.jwt) : null;
    const { user, amr: minted } = await redeemKtoken(svc, scope, p.ktoken, prior ? { forUid: prior.sub } : {});
    const ctx = authnContext(c);
    const amr = accumulateAmr(prior?.amr ?? [], minted);
    const device = deviceFacts(p.facts);
    // The policy hears that a ktoken was presented (factor `ktoken`); the proof's amr stays
    // what it was before journeys (the ktoken's methods), so a granted answer is unchanged.
    const decision = await authnLoginDecision(svc, scope, { user, amr: accumulateAmr(amr, ["ktoken"]), application: ctx.appid, ip: ctx.clientIp, prior, ...(device ? { device } : {}) });
    if (decision.kind === "need_mfa") return authnRespond(c, needMfaAnswer(decision), { signed: true }) as never;
    const proof = await issueProof(svc, scope, user, { amr, ip: ctx.clientIp });
    const shown = p.attributes ? pickAttributes(user, p.attributes) : authnUserObject(user);
    return authnRespond(c, { user: shown, proof_of_authentication_jwt: proof }, { signed: true }) as never;
  });

  app.openapi(ktokenMintRoute, async (c) => {
    const p = authnPayload(c, KtokenMintPayload);
    const r = await mintKtoken(c.get("services"), c.get("scope"), p.jwt, p.ttl);
    return authnRespond(c, r) as never;
  });
}

/** The document's need_mfa answer (seed 004, authenticate_with_liveid "If PIN needed"), with evaluate's `idps`. */
export function needMfaAnswer(d: Extract<AuthnLoginDecision, { kind: "need_mfa" }>) {
  return { user_token: d.userToken, next: { step: "need_mfa" as const, allowed_factors: d.allowedFactors, idps: d.idps } };
}

/** Drops undefined values (exactOptionalPropertyTypes-friendly spreading). */
function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}

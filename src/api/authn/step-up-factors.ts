import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { authnLoginDecision, issuePendingLogin, type StepUpClaims } from "../../core/authn/pending-login";
import { issueProof } from "../../core/authn/proofs";
import { authnUserObject } from "../../core/authn/user-view";
import { AuthError } from "../../core/errors";
import { authenticateWithLiveid, MAX_SELFIE_CHARS } from "../../core/liveid/liveid";
import { enrolTypingProfile, authenticateWithTyping } from "../../core/typing/typing";
import { authenticateWithUwl, authenticatorView, issueUwlNonce, listUwlAuthenticators, registerUwlAuthenticator, removeUwlAuthenticator } from "../../core/uwl/uwl";
import type { User } from "../../storage/ports";
import { authnContext, authnPayload, authnRespond } from "../../http/authn-guard";
import type { AppEnv } from "../../http/types";
import { AuthenticatedAnswer, DeviceFacts, deviceFacts, NeedMfaAnswer, needMfaAnswer } from "./authenticate";
import { authnRoute, TenantCommunityParams } from "./endpoint-kit";

/**
 * UWL, typing pattern and LiveID (seed 004 authenticate_with_uwl, authenticate_with_behavior_auth,
 * authenticate_with_liveid; issue 11) and their extension routes (registration, nonces,
 * enrolment: the document has none). Thin: validate, call core (core/uwl, core/typing,
 * core/liveid), then end like authenticate does: methods accumulate from `jwt`, the policy
 * decides (grant, need_mfa with user_token, or 403), and the answer is the document's.
 */
const Jwt = z.string().min(1).max(8192);
const ProofJwt = Jwt.openapi({ description: "The user's proof_of_authentication_jwt" });
const Key = z.string().min(1).max(512);
const Curve = z.enum(["secp256k1", "P-256"]).optional().openapi({ description: "The key's curve; found from the key when omitted (secp256k1 tried first)" });

export const UwlPayload = z
  .object({
    username: z.string().min(1).max(256),
    authenticator_did: z.string().min(1).max(512),
    authenticator_publickey: Key,
    nonce: z.string().min(16).max(128).optional(),
    ktoken: z.string().min(16).max(128).optional().openapi({ description: "The nonce under the name the document's validation uses ('ktoken is required'); the same value as nonce when both are sent" }),
    nonce_signature: z.string().min(1).max(512).openapi({ description: "ECDSA/SHA-256 over the nonce's UTF-8 bytes: compact r||s (64 bytes) or DER, base64/base64url/hex" }),
    jwt: Jwt.optional(),
    facts: DeviceFacts.optional(),
  })
  .openapi("AuthenticateWithUwlPayload");

export const BehaviorPayload = z
  .object({
    username: z.string().min(1).max(256),
    authModule: z.string().max(128).optional().openapi({ description: "Accepted and recorded; this service has one typing module" }),
    pattern: z.string().min(1).max(1024).openapi({ description: "Comma-separated timing features in ms (docs/api/authn.md 'Typing pattern')", example: "93.1,187.5,94.4,71.2,..." }),
    jwt: Jwt.optional().openapi({ description: "Required here: a proof or need_mfa user_token of the same user; a typing pattern only steps up" }),
    facts: DeviceFacts.optional(),
  })
  .openapi("AuthenticateWithBehaviorPayload");

const Selfie = z.string().min(1).max(MAX_SELFIE_CHARS + 64);
export const LiveidPayload = z
  .union([
    Selfie.openapi({ description: "The document's body: the selfie (base64 JPEG/PNG); the face service identifies the user" }),
    z.object({ selfie: Selfie, username: z.string().min(1).max(256).optional(), jwt: Jwt.optional(), facts: DeviceFacts.optional() }).strict(),
  ])
  .openapi("AuthenticateWithLiveidPayload");

const LiveidAnswer = z
  .object({
    publicKey: z.string(),
    did: z.string(),
    username: z.string(),
    uid: z.string(),
    dguid: z.string(),
    status: z.string(),
    roleValue: z.string(),
    type: z.string(),
    moduleId: z.string(),
    onboarding_status: z.string(),
    email: z.string(),
    firstname: z.string(),
    lastname: z.string(),
    phone: z.string(),
    urn: z.string(),
    proof_of_authentication_jwt: z.string(),
    pon_data: z.record(z.string(), z.unknown()),
  })
  .openapi("LiveidAnswer", { description: "The document's 'If PIN not needed' object; publicKey, did, moduleId, onboarding_status and urn are empty (no wallet is involved)" });

const common = { levels: "any", community: true, params: TenantCommunityParams } as const;
const ext = { ...common, tag: "Factors (extensions)" } as const;

export const uwlRoute = authnRoute({
  ...common,
  operationId: "authenticateUsersWithUwl",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/authenticate_with_uwl",
  summary: "Authenticate users with UWL",
  tag: "Authenticate",
  forwardedFor: true,
  description:
    "Validation: 1. username, authenticator_did, authenticator_publickey, nonce (or ktoken) and nonce_signature are required. The nonce comes from uwl/nonce for this username and key; the key must be registered to the user; single use. Then the authentication policy decides as for authenticate.",
  payload: UwlPayload,
  answer: z.union([AuthenticatedAnswer, NeedMfaAnswer]),
  signed: true,
});

export const behaviorRoute = authnRoute({
  ...common,
  operationId: "authenticateUsersWithBehavior",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/authenticate_with_behavior_auth",
  summary: "Authenticate users with behavior (typing pattern)",
  tag: "Authenticate",
  forwardedFor: true,
  description: "Validation: 1. Username is required 2. TypingPattern is required 3. jwt is required (this service: a typing pattern never stands alone). Exact repeats are refused as replays.",
  payload: BehaviorPayload,
  answer: z.union([AuthenticatedAnswer, NeedMfaAnswer]),
  signed: true,
});

export const liveidRoute = authnRoute({
  ...common,
  operationId: "authenticateUsersWithLiveid",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/authenticate_with_liveid",
  summary: "Authenticate users with LiveId [V2 CP]",
  tag: "Authenticate",
  forwardedFor: true,
  description:
    "The selfie goes to the tenant's face-verification service; only its signed verdict is believed. If the user has a PIN: need_mfa with allowed_factors [pin] and user_token (send the PIN to authenticate with jwt = user_token).",
  payload: LiveidPayload,
  answer: z.union([LiveidAnswer, NeedMfaAnswer]),
  signed: true,
});

const RegisterPayload = z
  .object({ jwt: ProofJwt, publicKey: Key.openapi({ description: "base64 (or hex) of the 64-byte point without 0x04, or a SEC1 point (65 or 33 bytes)" }), curve: Curve, name: z.string().max(64).optional() })
  .openapi("UwlAuthenticatorRegisterPayload");
const Authenticator = z.object({ id: z.string(), name: z.string(), curve: z.string(), publicKey: z.string(), created_at: z.number(), last_used_at: z.number().nullable() }).openapi("UwlAuthenticator");

export const uwlRegisterRoute = authnRoute({
  ...ext,
  operationId: "registerUwlAuthenticator",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/uwl/authenticators",
  summary: "Register a UWL authenticator's public key (extension)",
  description: "With the user's proof; a user who has one already needs a proof that used uwl or reached AAL2.",
  payload: RegisterPayload,
  answer: Authenticator,
});
export const uwlListRoute = authnRoute({
  ...ext,
  operationId: "listUwlAuthenticators",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/uwl/authenticators/list",
  summary: "List the user's UWL authenticators (extension)",
  payload: z.object({ jwt: ProofJwt }),
  answer: z.object({ authenticators: z.array(Authenticator) }),
});
export const uwlDeleteRoute = authnRoute({
  ...ext,
  operationId: "deleteUwlAuthenticator",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/uwl/authenticators/delete",
  summary: "Remove a UWL authenticator (extension)",
  description: "Needs a proof that used uwl or reached AAL2.",
  payload: z.object({ jwt: ProofJwt, id: z.string().min(1).max(64) }),
  answer: z.object({ deleted: z.boolean() }),
});
export const uwlNonceRoute = authnRoute({
  ...ext,
  operationId: "createUwlNonce",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/uwl/nonce",
  summary: "Issue a UWL nonce for a user's authenticator (extension)",
  description: "Everyone gets a nonce (no enumeration); it works only for the user the key is registered to. 120 s, single use.",
  payload: z.object({ username: z.string().min(1).max(256), authenticator_publickey: Key, curve: Curve }).openapi("UwlNoncePayload"),
  answer: z.object({ nonce: z.string(), expires_in: z.number().int() }),
});
export const typingEnrolRoute = authnRoute({
  ...ext,
  operationId: "enrollTypingPattern",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/behavior_auth/enroll",
  summary: "Enrol the user's typing pattern (extension)",
  description: "20 to 100 typings of the phrase, each a pattern string of one length. Replacing a profile needs a proof that used behavior_auth or reached AAL2.",
  payload: z.object({ jwt: ProofJwt, patterns: z.array(z.string().min(1).max(1024)).min(1).max(100) }).openapi("TypingEnrolPayload"),
  answer: z.object({ enrolled: z.boolean(), samples: z.number().int(), features: z.number().int() }),
});

/** The policy, then the document's answer: `granted` shapes a grant (its proof issued here). */
async function decideAndAnswer(
  c: Context<AppEnv>,
  a: { user: User; amr: string[]; authenticatedAt: number; prior: StepUpClaims | null },
  facts: z.infer<typeof DeviceFacts> | undefined,
  granted: (proof: string) => unknown = (proof) => ({ user: authnUserObject(a.user), proof_of_authentication_jwt: proof }),
  pinNeeded = false,
) {
  const svc = c.get("services");
  const scope = c.get("scope");
  const ctx = authnContext(c);
  const device = deviceFacts(facts);
  const decision = await authnLoginDecision(svc, scope, { user: a.user, amr: a.amr, application: ctx.appid, ip: ctx.clientIp, authenticatedAt: a.authenticatedAt, prior: a.prior, ...(device ? { device } : {}) });
  if (decision.kind === "need_mfa") return authnRespond(c, needMfaAnswer(decision), { signed: true });
  if (pinNeeded) {
    // The document's LiveID answer "If PIN needed": a pending login to step up with the PIN.
    const userToken = await issuePendingLogin(svc, scope, a.user, { amr: a.amr, ip: ctx.clientIp, authenticatedAt: a.authenticatedAt });
    return authnRespond(c, needMfaAnswer({ kind: "need_mfa", userToken, allowedFactors: ["pin"], idps: [] }), { signed: true });
  }
  const proof = await issueProof(svc, scope, a.user, { amr: a.amr, ip: ctx.clientIp, authenticatedAt: a.authenticatedAt });
  return authnRespond(c, granted(proof), { signed: true });
}

export function registerStepUpFactorRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(uwlRoute, async (c) => {
    const p = authnPayload(c, UwlPayload);
    const nonce = p.nonce ?? p.ktoken;
    if (nonce === undefined) throw new AuthError("invalid_request", "nonce (or ktoken) is required");
    if (p.nonce !== undefined && p.ktoken !== undefined && p.nonce !== p.ktoken) throw new AuthError("invalid_request", "nonce and ktoken differ");
    const a = await authenticateWithUwl(c.get("services"), c.get("scope"), {
      username: p.username,
      authenticatorDid: p.authenticator_did,
      authenticatorPublicKey: p.authenticator_publickey,
      nonce,
      nonceSignature: p.nonce_signature,
      ...(p.jwt ? { jwt: p.jwt } : {}),
    });
    return (await decideAndAnswer(c, a, p.facts)) as never;
  });

  app.openapi(behaviorRoute, async (c) => {
    const p = authnPayload(c, BehaviorPayload);
    const a = await authenticateWithTyping(c.get("services"), c.get("scope"), { username: p.username, pattern: p.pattern, ...(p.jwt ? { jwt: p.jwt } : {}) });
    return (await decideAndAnswer(c, a, p.facts)) as never;
  });

  app.openapi(liveidRoute, async (c) => {
    const p = authnPayload(c, LiveidPayload);
    const q = typeof p === "string" ? { selfie: p } : p;
    const a = await authenticateWithLiveid(c.get("services"), c.get("scope"), {
      selfie: q.selfie,
      ...(typeof p !== "string" && p.username ? { username: p.username } : {}),
      ...(typeof p !== "string" && p.jwt ? { jwt: p.jwt } : {}),
    });
    const u = authnUserObject(a.user);
    const granted = (proof: string) => ({
      publicKey: "",
      did: "",
      username: u.username,
      uid: u.uid,
      dguid: u.dguid,
      status: u.status,
      roleValue: u.roleValue,
      type: u.type,
      moduleId: "",
      onboarding_status: "",
      email: u.email,
      firstname: u.firstname,
      lastname: u.lastname,
      phone: u.phone,
      urn: "",
      proof_of_authentication_jwt: proof,
      pon_data: {},
    });
    return (await decideAndAnswer(c, a, typeof p === "string" ? undefined : p.facts, granted, a.pinNeeded)) as never;
  });

  app.openapi(uwlRegisterRoute, async (c) => {
    const p = authnPayload(c, RegisterPayload);
    const a = await registerUwlAuthenticator(c.get("services"), c.get("scope"), p.jwt, { publicKey: p.publicKey, ...(p.curve ? { curve: p.curve } : {}), ...(p.name ? { name: p.name } : {}) });
    return authnRespond(c, authenticatorView(a)) as never;
  });

  app.openapi(uwlListRoute, async (c) => {
    const p = authnPayload(c, z.object({ jwt: ProofJwt }));
    const list = await listUwlAuthenticators(c.get("services"), c.get("scope"), p.jwt);
    return authnRespond(c, { authenticators: list.map(authenticatorView) }) as never;
  });

  app.openapi(uwlDeleteRoute, async (c) => {
    const p = authnPayload(c, z.object({ jwt: ProofJwt, id: z.string().min(1).max(64) }));
    await removeUwlAuthenticator(c.get("services"), c.get("scope"), p.jwt, p.id);
    return authnRespond(c, { deleted: true }) as never;
  });

  app.openapi(uwlNonceRoute, async (c) => {
    const p = authnPayload(c, z.object({ username: z.string().min(1).max(256), authenticator_publickey: Key, curve: Curve }));
    return authnRespond(c, await issueUwlNonce(c.get("services"), c.get("scope"), { username: p.username, publicKey: p.authenticator_publickey, ...(p.curve ? { curve: p.curve } : {}) })) as never;
  });

  app.openapi(typingEnrolRoute, async (c) => {
    const p = authnPayload(c, z.object({ jwt: ProofJwt, patterns: z.array(z.string().min(1).max(1024)).min(1).max(100) }));
    const r = await enrolTypingProfile(c.get("services"), c.get("scope"), p.jwt, p.patterns);
    return authnRespond(c, { enrolled: true, ...r }) as never;
  });
}

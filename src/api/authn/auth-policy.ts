import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { issueProof, verifyProof } from "../../core/authn/proofs";
import { AuthError } from "../../core/errors";
import { FieldError } from "../../core/field-error";
import { authSchemes, evaluatePolicy, factorsFromAmr, factsFromDocument } from "../../core/journeys";
import type { Facts, JourneyVersion, PolicyOutcome } from "../../core/journeys/model";
import { authnContext, authnPayload, authnRespond } from "../../http/authn-guard";
import type { AppEnv } from "../../http/types";
import type { User } from "../../storage/ports";
import { authnRoute, TenantCommunityParams } from "./endpoint-kit";
import { fieldNamed } from "./journeys";

/**
 * Auth Policy (v1 `auth_policy/evaluate`) and Auth Policy V2 (`auth_policy/evaluate`,
 * `auth_policy/auth_schemes`), seed 004, issue 10: "License must be a valid license authorized
 * for the community"; plain JSON bodies and answers, as the document shows (the envelope is
 * accepted too and answered enveloped). The policy itself (matching, precedence, fallback,
 * default, need_mfa's factors, idps) is core/journeys; here: the document's names in and out,
 * and the v2 `jwt`.
 *
 * Why only a verified `jwt` brings a proof: a `proof_of_authentication_jwt` names an
 * authenticated user and the methods they used. Facts are only the caller's word (any
 * licensed caller may send any username and any `authenticationMethods`), so an answer built
 * from facts alone must not mint one; with a jwt of this community, the user and the methods
 * are the proof's, not the caller's.
 */

const FactsPayload = z.record(z.string(), z.unknown()).openapi("AuthPolicyFacts", {
  description:
    "What is known about the login, by the document's names: groups, applicationId (or application), IP (or ip), machine_domain (or domain), username, deviceId (or deviceIds), machine_name, machine_id, machine_user, mobileLocation, requestingAppId, relyingAppId, appConfigId (each a string or an array of strings; mobileLocation a number), and authenticationMethods (the factors already done: password, pin, otp, email_otp, sms_otp, fido, ktoken, uwl, liveid, behavior_auth, idp_redirect). A fact left out is unknown. Other names are ignored.",
  example: { groups: ["groupA", "groupB"], applicationId: "application1", IP: "10.0.0.7", username: "userA", authenticationMethods: ["password"] },
});
const Enforce = z.boolean().optional().openapi({ description: "When no journey matches, evaluate the community's fallback journeys (category adaptive_auth_fallback_policy_v2). Default false" });

export const EvaluateV1Payload = z.object({ facts: FactsPayload.optional(), enforceFallbackPolicy: Enforce }).openapi("AuthPolicyEvaluatePayload");
export const EvaluateV2Payload = z
  .object({
    facts: FactsPayload.optional(),
    enforceFallbackPolicy: Enforce,
    jwt: z
      .string()
      .max(8192)
      .nullable()
      .optional()
      .openapi({ description: "A proof_of_authentication_jwt of this community: its user and methods (amr) replace the caller's username and authenticationMethods facts; a granted answer then carries a fresh proof. Empty or null: none" }),
    type: z.string().max(64).optional().openapi({ description: 'Set to "fallback" to evaluate only the fallback journeys; any other value is refused' }),
  })
  .openapi("AuthPolicyEvaluateV2Payload");
export const AuthSchemesPayload = z.object({ facts: FactsPayload.optional(), enforceFallbackPolicy: Enforce }).openapi("AuthPolicyAuthSchemesPayload");

const Next = z.object({
  step: z.enum(["grant_access", "need_mfa", "deny_access"]).openapi({ description: 'The document\'s example spelling; its text says "mfa_needed" (docs/api/authn.md)' }),
  allowed_factors: z.array(z.string()).openapi({ description: "need_mfa: the factors that would complete one of the deciding journey's alternatives; [] otherwise" }),
  idps: z.array(z.string()).openapi({ description: "When idp_redirect is allowed: ids of the external IdPs whose routingPolicy matches the facts; [] otherwise" }),
});
const EvaluateAnswer = z
  .object({
    next: Next,
    proof_of_authentication_jwt: z.string().optional().openapi({ description: "v2 only, with a valid jwt, when the step is grant_access: a fresh proof for the jwt's user with the same amr" }),
    signature_token: z.string().openapi({ description: "ECDSA (SHA-256) signature by the service key, base64 r||s, over the answer's JSON without this member (docs/api/authn.md)" }),
  })
  .openapi("AuthPolicyDecision");
const SchemesAnswer = z
  .object({
    schemes: z.array(
      z.object({
        factors: z.array(z.string()),
        authenticationJourneyV2Id: z.string().openapi({ description: '"default" when the community default decided' }),
        result: z.enum(["mfa_required", "grant_access", "deny_access"]),
      }),
    ),
  })
  .openapi("AuthPolicySchemes");

const common = { levels: "any", community: true, form: "plain", params: TenantCommunityParams } as const;
const RETURNS = 'Returns the decision: next.step is "grant_access", "need_mfa" or "deny_access" (the document\'s text says "mfa_needed", its example "need_mfa": the example is what clients read).';

export const evaluateV1Route = authnRoute({
  ...common,
  tag: "Auth Policy",
  operationId: "evaluateAuthPolicy",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/auth_policy/evaluate",
  summary: "Evaluate adaptive authentication policy",
  description: `Fetch decision after evaluating facts against adaptive authentication policy (the community's v1 journeys; fallback: the v2 fallback journeys, as v1 journeys have no category). ${RETURNS} v1 never answers a proof: it has no jwt, and facts are only the caller's word.`,
  forwardedFor: true,
  payload: EvaluateV1Payload,
  payloadOptional: true,
  answer: EvaluateAnswer,
  signed: true,
});
export const evaluateV2Route = authnRoute({
  ...common,
  tag: "Auth Policy V2",
  operationId: "evaluateAuthPolicyV2",
  method: "post",
  path: "/v2/tenant/{tenantId}/community/{communityId}/auth_policy/evaluate",
  summary: "Evaluate adaptive authentication policy",
  description: `Fetch decision after evaluating facts against the community's v2 journeys. ${RETURNS} An invalid, revoked or other community's jwt is 401.`,
  forwardedFor: true,
  payload: EvaluateV2Payload,
  payloadOptional: true,
  answer: EvaluateAnswer,
  signed: true,
});
export const authSchemesRoute = authnRoute({
  ...common,
  tag: "Auth Policy V2",
  operationId: "authSchemesAuthPolicyV2",
  method: "post",
  path: "/v2/tenant/{tenantId}/community/{communityId}/auth_policy/auth_schemes",
  summary: "Evaluate adaptive authentication policy and returning schemes",
  description:
    'Fetch auth schemes after evaluating facts against adaptive authentication policies: one per matching v2 journey in precedence order; none: the fallback journeys when enforced; none: the community default `{factors: ["password"], authenticationJourneyV2Id: "default", result: "grant_access"}`.',
  payload: AuthSchemesPayload,
  payloadOptional: true,
  answer: SchemesAnswer,
});

/** The document's facts as core reads them; a FieldError names its fact (`facts.IP: ...`). */
function readFacts(raw: unknown): { facts: Facts; done: string[] } {
  try {
    return factsFromDocument(raw ?? {});
  } catch (e) {
    throw fieldNamed(e);
  }
}

/** `{next, proof_of_authentication_jwt?}`, the document's answer (signature_token added by authnRespond). */
function answerOf(o: PolicyOutcome, proof: string | null): Record<string, unknown> {
  return { next: { step: o.step, allowed_factors: o.allowedFactors, idps: o.idps }, ...(proof ? { proof_of_authentication_jwt: proof } : {}) };
}

interface ProofSubject {
  user: User;
  amr: string[];
}

/**
 * A v2 `jwt`: verified as any proof (signature, issuer, audience, expiry, this community,
 * not revoked: 401 otherwise), then its user read (gone or disabled since: 401). The facts it
 * settles: `done` from its amr, never the caller's `authenticationMethods`; username and groups
 * from its user unless the caller gave them (a different username is a 400: the caller would
 * be asking about someone else with this user's proof).
 */
async function subjectOfJwt(c: Context<AppEnv>, jwt: string, facts: Facts): Promise<ProofSubject & { facts: Facts; done: string[] }> {
  const svc = c.get("services");
  const scope = c.get("scope");
  const claims = await verifyProof(svc, scope, jwt);
  const user = await svc.users.byUid(scope.tenant.id, claims.sub);
  if (!user || user.communityId !== scope.community.id || user.disabled) throw new AuthError("invalid_token", "the jwt's user is not an active user of this community");
  const given = facts.usernames;
  if (given && given.length > 0 && !given.every((u) => u.toLowerCase() === user.username.toLowerCase())) {
    throw new FieldError("invalid_request", "facts.username", "facts.username: does not name the jwt's user");
  }
  const settled: Facts = { ...facts, usernames: [user.username], ...(facts.groups ? {} : { groups: [...user.groups] }) };
  return { user, amr: [...claims.amr], facts: settled, done: factorsFromAmr(claims.amr) };
}

async function evaluate(c: Context<AppEnv>, versions: JourneyVersion[], p: { facts?: Record<string, unknown> | undefined; enforceFallbackPolicy?: boolean | undefined; jwt?: string | null | undefined; type?: string | undefined }) {
  if (p.type !== undefined && p.type !== "fallback") throw new AuthError("invalid_request", 'type: must be "fallback" when given');
  const read = readFacts(p.facts);
  let { facts, done } = read;
  let subject: ProofSubject | null = null;
  if (p.jwt) {
    const s = await subjectOfJwt(c, p.jwt, facts);
    ({ facts, done } = s);
    subject = s;
  }
  const svc = c.get("services");
  const scope = c.get("scope");
  const outcome = await evaluatePolicy(svc, scope, { facts, done, versions, enforceFallback: p.enforceFallbackPolicy === true, ...(p.type === "fallback" ? { fallbackOnly: true } : {}) });
  const proof = subject && outcome.step === "grant_access" ? await issueProof(svc, scope, subject.user, { amr: subject.amr, ip: authnContext(c).clientIp }) : null;
  return authnRespond(c, answerOf(outcome, proof), { signed: true });
}

export function registerAuthPolicyRoutes(app: OpenAPIHono<AppEnv>): void {
  // v1 evaluates the v1 journeys; its fallback is the v2 fallback category (v1 journeys have none: core/journeys).
  app.openapi(evaluateV1Route, async (c) => (await evaluate(c, [1], authnPayload(c, EvaluateV1Payload))) as never);
  app.openapi(evaluateV2Route, async (c) => (await evaluate(c, [2], authnPayload(c, EvaluateV2Payload))) as never);
  app.openapi(authSchemesRoute, async (c) => {
    const p = authnPayload(c, AuthSchemesPayload);
    const { facts } = readFacts(p.facts);
    const schemes = await authSchemes(c.get("services"), c.get("scope"), { facts, enforceFallback: p.enforceFallbackPolicy === true });
    return authnRespond(c, { schemes }) as never;
  });
}

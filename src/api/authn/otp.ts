import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { enrolmentUser } from "../../core/authn/factors";
import { loginWithDeliveredOtp, loginWithRecoveryCode, proofUser } from "../../core/authn/otp-login";
import { CODE_PATTERN, REQUEST_ID_PATTERN, requestDeliveredOtp } from "../../core/mfa/delivered-otp";
import { RECOVERY_CODE_COUNT, regenerateRecoveryCodes, remainingRecoveryCodes } from "../../core/mfa/recovery-codes";
import { authnPayload, authnRespond } from "../../http/authn-guard";
import type { AppEnv } from "../../http/types";
import { AuthenticatedAnswer, DeviceFacts, finishAuthnLogin, NeedMfaAnswer } from "./authenticate";
import { authnRoute, TenantCommunityParams } from "./endpoint-kit";

/**
 * OTP delivery and TOTP recovery codes (issue 11; extensions: seed 004 has no route for them).
 * Thin: validate the decrypted payload, call core (core/mfa/delivered-otp.ts,
 * core/mfa/recovery-codes.ts, core/authn/otp-login.ts), and end every login like authenticate
 * does (`finishAuthnLogin`: policy, then the document's success shape, need_mfa or 403).
 */
const Jwt = z.string().min(1).max(8192);
const StepUpJwt = Jwt.optional().openapi({ description: "An earlier proof_of_authentication_jwt, or the user_token of a need_mfa answer, of the same user to step up from: methods accumulate in amr" });
const Username = z.string().min(1).max(256);

const OtpSendPayload = z
  .object({ username: Username, channel: z.enum(["email", "sms"]).openapi({ description: "email: the user's verified email; sms: the user's verified phone, through the tenant's SMS provider" }) })
  .strict()
  .openapi("OtpSendPayload");
const OtpSendAnswer = z
  .object({
    request_id: z.string().openapi({ description: "Names this code: send it with the code to otp/verify" }),
    expires_in: z.number().int().openapi({ description: "Seconds the code lives from now", example: 300 }),
  })
  .openapi("OtpSendAnswer", { description: "The same answer whether or not the user exists or has the channel" });

const OtpVerifyPayload = z
  .object({
    request_id: z.string().regex(REQUEST_ID_PATTERN, "request_id is not one this service issued"),
    code: z.string().regex(CODE_PATTERN, "code must be 6 digits"),
    username: Username.optional().openapi({ description: "When given, must name the user the code was sent to" }),
    jwt: StepUpJwt,
    facts: DeviceFacts.optional(),
  })
  .strict()
  .openapi("OtpVerifyPayload");

const RecoveryLoginPayload = z
  .object({ username: Username, code: z.string().min(1).max(64).openapi({ example: "abcde-fghjk" }), jwt: StepUpJwt, facts: DeviceFacts.optional() })
  .strict()
  .openapi("RecoveryCodeLoginPayload");

const ProofPayload = z.object({ jwt: Jwt.openapi({ description: "The user's proof_of_authentication_jwt" }) }).strict().openapi("RecoveryCodesPayload");

const LoginAnswer = z.union([AuthenticatedAnswer, NeedMfaAnswer]);
const common = { levels: "any", community: true, params: TenantCommunityParams } as const;

export const otpSendRoute = authnRoute({
  operationId: "sendOtp",
  ...common,
  tag: "Authenticate (extensions)",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/otp/send",
  summary: "Send a one-time code by email or SMS (extension)",
  description:
    "Queues a 6-digit code for the user's verified email or phone and answers its request_id at once, the same for every username (the look-up and the delivery happen in the job queue). Rate limited per username and per IP (429).",
  payload: OtpSendPayload,
  answer: OtpSendAnswer,
});

export const otpVerifyRoute = authnRoute({
  operationId: "authenticateWithOtp",
  ...common,
  tag: "Authenticate (extensions)",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/otp/verify",
  summary: "Authenticate with a code sent by otp/send (extension)",
  description:
    "The code of a request_id, single use, attempt-limited per request_id. amr email_otp (email) or sms (SMS). Then the authentication policy decides as for authenticate: user and proof, need_mfa (user_token, next), or 403.",
  payload: OtpVerifyPayload,
  answer: LoginAnswer,
  signed: true,
});

export const recoveryLoginRoute = authnRoute({
  operationId: "authenticateWithRecoveryCode",
  ...common,
  tag: "Authenticate (extensions)",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/authenticate_with_recovery_code",
  summary: "Authenticate with a TOTP recovery code (extension)",
  description:
    "A recovery code stands in for TOTP: amr otp and recovery. Each code works once. Then the authentication policy decides as for authenticate.",
  payload: RecoveryLoginPayload,
  answer: LoginAnswer,
  signed: true,
});

export const recoveryGenerateRoute = authnRoute({
  operationId: "generateRecoveryCodes",
  ...common,
  tag: "Factors (extensions)",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/recovery_codes",
  summary: "Generate TOTP recovery codes (extension)",
  description: `Answers ${RECOVERY_CODE_COUNT} new codes, once (only their digests are kept), replacing any earlier set. For users with TOTP; the proof must have used TOTP or reached AAL2, as totp/enroll asks.`,
  payload: ProofPayload,
  answer: z.object({ recovery_codes: z.array(z.string()), remaining: z.number().int() }),
});

export const recoveryCountRoute = authnRoute({
  operationId: "countRecoveryCodes",
  ...common,
  tag: "Factors (extensions)",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/recovery_codes/count",
  summary: "How many recovery codes are left (extension)",
  payload: ProofPayload,
  answer: z.object({ remaining: z.number().int() }),
});

export function registerOtpRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(otpSendRoute, async (c) => {
    const p = authnPayload(c, OtpSendPayload);
    const r = await requestDeliveredOtp(c.get("services"), c.get("scope"), p.username, p.channel);
    return authnRespond(c, { request_id: r.requestId, expires_in: r.expiresIn }) as never;
  });

  app.openapi(otpVerifyRoute, async (c) => {
    const p = authnPayload(c, OtpVerifyPayload);
    const a = await loginWithDeliveredOtp(c.get("services"), c.get("scope"), {
      requestId: p.request_id,
      code: p.code,
      ...(p.username !== undefined ? { username: p.username } : {}),
      ...(p.jwt ? { priorProof: p.jwt } : {}),
    });
    return (await finishAuthnLogin(c, a, p.facts)) as never;
  });

  app.openapi(recoveryLoginRoute, async (c) => {
    const p = authnPayload(c, RecoveryLoginPayload);
    const a = await loginWithRecoveryCode(c.get("services"), c.get("scope"), { username: p.username, code: p.code, ...(p.jwt ? { priorProof: p.jwt } : {}) });
    return (await finishAuthnLogin(c, a, p.facts)) as never;
  });

  app.openapi(recoveryGenerateRoute, async (c) => {
    const p = authnPayload(c, ProofPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const user = await enrolmentUser(svc, scope, p.jwt, "otp");
    const codes = await regenerateRecoveryCodes(svc, scope, user);
    return authnRespond(c, { recovery_codes: codes, remaining: codes.length }) as never;
  });

  app.openapi(recoveryCountRoute, async (c) => {
    const p = authnPayload(c, ProofPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const user = await proofUser(svc, scope, p.jwt);
    return authnRespond(c, { remaining: await remainingRecoveryCodes(svc, scope, user) }) as never;
  });
}

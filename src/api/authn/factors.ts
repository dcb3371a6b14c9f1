import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { enrolmentUser } from "../../core/authn/factors";
import { setUserPin } from "../../core/mfa/pin";
import { beginTotpEnrolment, confirmTotpEnrolment } from "../../core/mfa/totp";
import { authnPayload, authnRespond } from "../../http/authn-guard";
import type { AppEnv } from "../../http/types";
import { authnRoute, TenantCommunityParams } from "./endpoint-kit";

/**
 * Factor enrolment (extensions: seed 004 has no route for them). The user proves who they are
 * with a proof_of_authentication_jwt of this community; replacing an existing factor needs a
 * proof that used it or reached AAL2 (core/authn/factors.ts).
 */
const Jwt = z.string().min(1).max(8192).openapi({ description: "The user's proof_of_authentication_jwt" });
const EnrolPayload = z.object({ jwt: Jwt }).openapi("TotpEnrolPayload");
const ConfirmPayload = z.object({ jwt: Jwt, otp: z.string().min(1).max(16) }).openapi("TotpConfirmPayload");
const PinPayload = z.object({ jwt: Jwt, pin: z.string().min(1).max(64).openapi({ description: "4 to 12 digits" }) }).openapi("PinSetPayload");

const common = { tag: "Factors (extensions)", levels: "any", community: true, params: TenantCommunityParams } as const;

export const totpEnrolRoute = authnRoute({
  operationId: "enrollTotp",
  ...common,
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/totp/enroll",
  summary: "Start TOTP enrolment (extension)",
  description: "Answers a new RFC 6238 secret (base32) and otpauth URI; it becomes active after totp/confirm within 10 minutes.",
  payload: EnrolPayload,
  answer: z.object({ secret: z.string(), otpauth_uri: z.string(), algorithm: z.string(), digits: z.number(), period: z.number(), expires_in: z.number() }),
});
export const totpConfirmRoute = authnRoute({
  operationId: "confirmTotp",
  ...common,
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/totp/confirm",
  summary: "Confirm TOTP enrolment with a code (extension)",
  payload: ConfirmPayload,
  answer: z.object({ enrolled: z.boolean() }),
});
export const pinSetRoute = authnRoute({
  operationId: "setPin",
  ...common,
  method: "put",
  path: "/tenant/{tenantId}/community/{communityId}/pin",
  summary: "Set the user's PIN (extension)",
  payload: PinPayload,
  answer: z.object({ pin_set: z.boolean() }),
});

export function registerFactorRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(totpEnrolRoute, async (c) => {
    const p = authnPayload(c, EnrolPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const user = await enrolmentUser(svc, scope, p.jwt, "otp");
    return authnRespond(c, await beginTotpEnrolment(svc, scope, user)) as never;
  });

  app.openapi(totpConfirmRoute, async (c) => {
    const p = authnPayload(c, ConfirmPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const user = await enrolmentUser(svc, scope, p.jwt, "otp");
    await confirmTotpEnrolment(svc, scope, user, p.otp);
    return authnRespond(c, { enrolled: true }) as never;
  });

  app.openapi(pinSetRoute, async (c) => {
    const p = authnPayload(c, PinPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const user = await enrolmentUser(svc, scope, p.jwt, "pin");
    await setUserPin(svc, scope, user, p.pin);
    return authnRespond(c, { pin_set: true }) as never;
  });
}

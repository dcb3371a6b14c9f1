import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { enrolmentUser } from "../../core/authn/factors";
import { authnLoginDecision, verifyStepUp } from "../../core/authn/pending-login";
import { issueProof } from "../../core/authn/proofs";
import { authnUserObject } from "../../core/authn/user-view";
import { authenticationOptions, verifyAssertion } from "../../core/webauthn/authentication";
import { deleteCredential, listCredentials, registerCredential, registrationOptions, renameCredential } from "../../core/webauthn/registration";
import { relyingParty } from "../../core/webauthn/relying-party";
import { authnContext, authnPayload, authnRespond } from "../../http/authn-guard";
import { requestAddress } from "../../http/request-address";
import type { AppEnv } from "../../http/types";
import { DeviceFacts, deviceFacts, NeedMfaAnswer, needMfaAnswer } from "./authenticate";
import { authnRoute, TenantCommunityParams } from "./endpoint-kit";

/**
 * FIDO2 / WebAuthn on the Authn API: `authenticate_with_fido` (seed 004) and the extension
 * routes a client needs around it (the document has none): registration options and verify,
 * authentication options, and credential management. The browser side is the standard
 * `navigator.credentials.create()/get()` with the JSON forms of WebAuthn L3 §5.1.8/§5.1.9
 * (PublicKeyCredential.toJSON()), i.e. what @simplewebauthn/browser produces.
 */
const B64U = z.string().max(16_384).regex(/^[A-Za-z0-9_-]*={0,2}$/, "base64url");
const Jwt = z.string().min(1).max(8192);
const Extensions = z.record(z.string(), z.unknown()).default({});
const Attachment = z.enum(["platform", "cross-platform"]).optional();
const Transports = z.array(z.enum(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"])).max(8);

const RegistrationCredential = z
  .object({
    id: B64U.min(1).max(1366),
    rawId: B64U.min(1).max(1366),
    type: z.literal("public-key"),
    response: z.object({
      clientDataJSON: B64U,
      attestationObject: B64U,
      transports: Transports.optional(),
      authenticatorData: B64U.optional(),
      publicKey: B64U.optional(),
      publicKeyAlgorithm: z.number().int().optional(),
    }),
    authenticatorAttachment: Attachment,
    clientExtensionResults: Extensions,
  })
  .openapi("WebAuthnRegistrationResponse", { description: "PublicKeyCredential.toJSON() of navigator.credentials.create() (WebAuthn L3 §5.1.8 RegistrationResponseJSON)" });

const AssertionResults = z
  .object({
    id: B64U.min(1).max(1366),
    rawId: B64U.min(1).max(1366),
    type: z.literal("public-key"),
    response: z.object({
      clientDataJSON: B64U,
      authenticatorData: B64U,
      signature: B64U,
      userHandle: B64U.max(128).optional(),
    }),
    authenticatorAttachment: Attachment,
    clientExtensionResults: Extensions,
  })
  .openapi("WebAuthnAssertionResults", { description: "PublicKeyCredential.toJSON() of navigator.credentials.get() (WebAuthn L3 §5.1.9 AuthenticationResponseJSON)" });

export const FidoPayload = z
  .object({
    username: z.string().min(1).max(256).optional().openapi({ description: "Optional: without it the credential is discoverable (its user handle names the user)" }),
    authModule: z.string().max(128).optional().openapi({ description: "Accepted and echoed as authselection (not checked against the schemes, not written into the proof)" }),
    assertionResults: AssertionResults,
    jwt: Jwt.optional().openapi({ description: "A proof_of_authentication_jwt or need_mfa user_token of the same user to step up from (FIDO as a second factor: user verification preferred, not required)" }),
    facts: DeviceFacts.optional(),
  })
  .openapi("AuthenticateWithFidoPayload");

const FidoAnswer = z
  .object({
    status: z.literal("Ok"),
    errorMessage: z.string(),
    sub: z.string().openapi({ description: "The user's uid" }),
    user: z.string().openapi({ description: "The user object (as authenticate answers it) as a JSON string, as the document shows" }),
    authenticatorId: z.string().openapi({ description: "The credential's id (what the webauthn/credentials routes name)" }),
    authselection: z.string().openapi({ description: "authModule when given, else \"fido\"" }),
    proof_of_authentication_jwt: z.string(),
  })
  .openapi("AuthenticateWithFidoAnswer");

const JwtPayload = z.object({ jwt: Jwt.openapi({ description: "The user's proof_of_authentication_jwt" }) });
const RegistrationVerifyPayload = JwtPayload.extend({ credential: RegistrationCredential, name: z.string().max(64).optional().openapi({ description: "A label; \"Passkey\" when omitted" }) }).openapi("WebAuthnRegistrationVerifyPayload");
const AuthOptionsPayload = z
  .object({
    username: z.string().min(1).max(256).optional().openapi({ description: "Lists the user's credentials in allowCredentials; omit for discoverable credentials" }),
    jwt: Jwt.optional().openapi({ description: "The proof or user_token the sign-in will step up from: userVerification is then \"preferred\" instead of \"required\"" }),
  })
  .openapi("WebAuthnAuthenticationOptionsPayload");
const RenamePayload = JwtPayload.extend({ name: z.string().min(1).max(64) }).openapi("WebAuthnRenamePayload");
const IdParams = TenantCommunityParams.extend({ id: z.string().max(64).openapi({ param: { name: "id", in: "path" }, description: "The credential's id" }) });

const CredentialView = z
  .object({
    id: z.string(),
    name: z.string(),
    credentialId: z.string().openapi({ description: "The WebAuthn credential ID, base64url" }),
    transports: z.array(z.string()),
    deviceType: z.string().openapi({ example: "multiDevice" }),
    backedUp: z.boolean(),
    aaguid: z.string().nullable(),
    createdAt: z.number(),
    lastUsedAt: z.number().nullable(),
  })
  .openapi("WebAuthnCredential");
const Options = z.record(z.string(), z.unknown());

const common = { tag: "Factors (extensions)", levels: "any", community: true, params: TenantCommunityParams } as const;
const base = "/tenant/{tenantId}/community/{communityId}";

export const fidoRoute = authnRoute({
  operationId: "authenticateUsersWithFido",
  method: "post",
  path: `${base}/authenticate_with_fido`,
  summary: "Authenticate users with FIDO",
  description:
    "Validation: 1. assertionResults {} is required. The assertion answers a challenge from webauthn/authentication/options (single use, 5 minutes). Without jwt (passwordless) the authenticator must have verified the user. Then the authentication policy decides as for authenticate.",
  tag: "Authenticate",
  levels: "any",
  community: true,
  forwardedFor: true,
  params: TenantCommunityParams,
  payload: FidoPayload,
  answer: z.union([FidoAnswer, NeedMfaAnswer]),
  signed: true,
});

export const registrationOptionsRoute = authnRoute({
  ...common,
  operationId: "webauthnRegistrationOptions",
  method: "post",
  path: `${base}/webauthn/registration/options`,
  summary: "WebAuthn registration options (extension)",
  description: "PublicKeyCredentialCreationOptionsJSON for navigator.credentials.create(): rp.id is the tenant's public hostname, attestation none, a single-use challenge (5 minutes). Adding a credential when the user has one needs a proof that used fido or reached AAL2 (403).",
  payload: JwtPayload.openapi("WebAuthnRegistrationOptionsPayload"),
  answer: Options,
});
export const registrationVerifyRoute = authnRoute({
  ...common,
  operationId: "webauthnRegistrationVerify",
  method: "post",
  path: `${base}/webauthn/registration/verify`,
  summary: "Verify a WebAuthn registration and store the credential (extension)",
  payload: RegistrationVerifyPayload,
  answer: CredentialView,
});
export const authenticationOptionsRoute = authnRoute({
  ...common,
  operationId: "webauthnAuthenticationOptions",
  method: "post",
  path: `${base}/webauthn/authentication/options`,
  summary: "WebAuthn authentication options for authenticate_with_fido (extension)",
  description: "PublicKeyCredentialRequestOptionsJSON for navigator.credentials.get(): a single-use challenge (5 minutes); allowCredentials for a username, empty for discoverable credentials.",
  payload: AuthOptionsPayload,
  payloadOptional: true,
  answer: Options,
});
export const credentialsFetchRoute = authnRoute({
  ...common,
  operationId: "webauthnCredentialsFetch",
  method: "post",
  path: `${base}/webauthn/credentials/fetch`,
  summary: "List the user's WebAuthn credentials (extension)",
  payload: JwtPayload.openapi("WebAuthnCredentialsFetchPayload"),
  answer: z.object({ credentials: z.array(CredentialView) }),
});
export const credentialRenameRoute = authnRoute({
  ...common,
  operationId: "webauthnCredentialRename",
  method: "patch",
  path: `${base}/webauthn/credentials/{id}`,
  summary: "Rename a WebAuthn credential (extension)",
  params: IdParams,
  payload: RenamePayload,
  answer: z.object({ id: z.string(), name: z.string() }),
});
export const credentialDeleteRoute = authnRoute({
  ...common,
  operationId: "webauthnCredentialDelete",
  method: "delete",
  path: `${base}/webauthn/credentials/{id}`,
  summary: "Delete a WebAuthn credential (extension)",
  description: "Needs a proof that used fido or reached AAL2 (403 otherwise).",
  params: IdParams,
  payload: JwtPayload.openapi("WebAuthnCredentialDeletePayload"),
  answer: z.object({ deleted: z.boolean() }),
});

export function registerWebAuthnRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(fidoRoute, async (c) => {
    const p = authnPayload(c, FidoPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const rp = await relyingParty(svc, scope, requestAddress(c));
    // The step-up token is checked first: a bad one neither spends the challenge nor counts.
    const prior = p.jwt ? await verifyStepUp(svc, scope, p.jwt) : null;
    const a = await verifyAssertion(svc, scope, rp, { ...(p.username !== undefined ? { username: p.username } : {}), assertion: p.assertionResults as AuthenticationResponseJSON, prior });
    const ctx = authnContext(c);
    const device = deviceFacts(p.facts);
    const decision = await authnLoginDecision(svc, scope, { user: a.user, amr: a.amr, application: ctx.appid, ip: ctx.clientIp, authenticatedAt: a.authenticatedAt, prior, ...(device ? { device } : {}) });
    if (decision.kind === "need_mfa") return authnRespond(c, needMfaAnswer(decision), { signed: true }) as never;
    // authModule is echoed as authselection but not written into the proof: unlike
    // authenticate's moduleId it is not checked against the community's schemes.
    const proof = await issueProof(svc, scope, a.user, { amr: a.amr, ip: ctx.clientIp, authenticatedAt: a.authenticatedAt });
    return authnRespond(
      c,
      {
        status: "Ok",
        errorMessage: "",
        sub: a.user.uid,
        user: JSON.stringify(authnUserObject(a.user)),
        authenticatorId: a.credential.id,
        authselection: p.authModule || "fido",
        proof_of_authentication_jwt: proof,
      },
      { signed: true },
    ) as never;
  });

  app.openapi(registrationOptionsRoute, async (c) => {
    const p = authnPayload(c, JwtPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const user = await enrolmentUser(svc, scope, p.jwt, "fido");
    return authnRespond(c, await registrationOptions(svc, scope, await relyingParty(svc, scope, requestAddress(c)), user)) as never;
  });

  app.openapi(registrationVerifyRoute, async (c) => {
    const p = authnPayload(c, RegistrationVerifyPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const user = await enrolmentUser(svc, scope, p.jwt, "fido");
    const rp = await relyingParty(svc, scope, requestAddress(c));
    return authnRespond(c, await registerCredential(svc, scope, rp, user, p.credential as RegistrationResponseJSON, p.name)) as never;
  });

  app.openapi(authenticationOptionsRoute, async (c) => {
    const p = authnPayload(c, AuthOptionsPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const rp = await relyingParty(svc, scope, requestAddress(c));
    // Each call stores a challenge: bounded per connecting IP before anything else is done.
    await svc.limiter.limit(`${scope.tenant.id}:webauthn-options:${scope.ip}`, 120, 60, scope);
    if (p.jwt) await verifyStepUp(svc, scope, p.jwt);
    return authnRespond(c, await authenticationOptions(svc, scope, rp, { ...(p.username !== undefined ? { username: p.username } : {}), stepUp: p.jwt !== undefined })) as never;
  });

  app.openapi(credentialsFetchRoute, async (c) => {
    const p = authnPayload(c, JwtPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const user = await enrolmentUser(svc, scope, p.jwt, null);
    return authnRespond(c, { credentials: await listCredentials(svc, scope, user) }) as never;
  });

  app.openapi(credentialRenameRoute, async (c) => {
    const p = authnPayload(c, RenamePayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const user = await enrolmentUser(svc, scope, p.jwt, null);
    const id = c.req.param("id") ?? "";
    await renameCredential(svc, scope, user, id, p.name);
    return authnRespond(c, { id, name: p.name.trim() }) as never;
  });

  app.openapi(credentialDeleteRoute, async (c) => {
    const p = authnPayload(c, JwtPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const user = await enrolmentUser(svc, scope, p.jwt, "fido");
    await deleteCredential(svc, scope, user, c.req.param("id") ?? "");
    return authnRespond(c, { deleted: true }) as never;
  });
}

import { z } from "zod";

/**
 * Per-tenant settings, stored as JSON on the tenant row. Every field has a default, so a
 * tenant created with `{}` behaves like the documents say (userpool: access 24 h, refresh 90 d).
 * Later features add optional fields here rather than columns.
 */
const lockoutSchema = z.object({
  /** Failures per username within the window before it locks (Keycloak's default is 30). */
  userThreshold: z.number().int().min(1).max(100).default(30),
  /** Failures per client IP within the window before it locks (across usernames). */
  ipThreshold: z.number().int().min(1).max(100_000).default(200),
  windowSeconds: z.number().int().min(60).default(12 * 3600),
  baseDelaySeconds: z.number().int().min(1).default(60),
  /** The longest wait a lock imposes. */
  maxDelaySeconds: z.number().int().min(1).default(15 * 60),
});

const passwordRulesSchema = z.object({
  minLength: z.number().int().min(8).max(128).default(8),
  maxLength: z.number().int().min(8).max(128).default(128),
  /** Extra blocked passwords, on top of the built-in list of common ones. */
  blocklist: z.array(z.string()).default([]),
});

const oktaSchema = z.object({
  baseUrl: z.string(),
  clientId: z.string(),
  issuer: z.string(),
  audience: z.string(),
  /** Okta group -> our roles. */
  mapRoles: z.record(z.string(), z.array(z.string())).default({}),
  /** Where the issuer's keys are; defaults to `<issuer>/v1/keys` (Okta's layout). */
  jwksUri: z.string().optional(),
  /** Community that users created by an Okta login join; default: the request's. */
  communityId: z.string().optional(),
});

export const tenantSettingsSchema = z
  .object({
    /** `iss` of this tenant's tokens; defaults to `urn:edge-auth:tenant:<id>`. */
    issuer: z.string().optional(),
    accessTokenTtlSeconds: z.number().int().min(60).default(24 * 3600),
    idTokenTtlSeconds: z.number().int().min(60).default(24 * 3600),
    refreshTokenTtlSeconds: z.number().int().min(60).default(90 * 24 * 3600),
    /** A session family's absolute lifetime: rotation never extends a session past it. */
    sessionMaxAgeSeconds: z.number().int().min(60).default(90 * 24 * 3600),
    /** A retry of a just-rotated refresh token within this window gets the same successor. */
    refreshGraceSeconds: z.number().int().min(0).max(120).default(10),
    /** Lifetime of a NEW_PASSWORD_REQUIRED session. */
    challengeTtlSeconds: z.number().int().min(30).max(3600).default(300),
    resetCodeTtlSeconds: z.number().int().min(60).max(86_400).default(3600),
    /** Wrong confirmation codes for one user before the code is locked (a new one is needed). */
    resetCodeMaxAttempts: z.number().int().min(1).max(100).default(5),
    /** Password-reset / reminder mails per address per hour. */
    mailPerHour: z.number().int().min(1).max(1000).default(5),
    password: passwordRulesSchema.default(passwordRulesSchema.parse({})),
    lockout: lockoutSchema.default(lockoutSchema.parse({})),
    okta: oktaSchema.optional(),
    /** Terms and conditions: when set, users must accept this version (tokens say so until then). */
    termsAndConditions: z.object({ version: z.string().min(1).max(64) }).optional(),
    /**
     * Password-reset links (Sentinel POST /passwordReset): the app page the link opens, with
     * `{token}` where the token goes (else `#token=<token>` is appended), and the token's life.
     */
    resetLink: z.object({ url: z.string().url().max(2048).optional(), ttlSeconds: z.number().int().min(60).max(86_400).optional() }).optional(),
    /** Okta token inline hook (Sentinel POST /enrichToken): header and SHA-256 (hex) of the shared secret. */
    oktaTokenHook: z.object({ header: z.string().min(1).max(64).optional(), secretSha256: z.string().regex(/^[0-9a-f]{64}$/) }).optional(),
    /** Absolute lifetime of an impersonation (loginAs) session; default one hour. */
    impersonationMaxAgeSeconds: z.number().int().min(60).max(86_400).optional(),
  })
  .passthrough();

export type TenantSettings = z.infer<typeof tenantSettingsSchema>;
export type OktaSettings = z.infer<typeof oktaSchema>;

/** Parses stored settings; invalid stored fields fall back to defaults rather than failing logins. */
export function parseTenantSettings(raw: Record<string, unknown>): TenantSettings {
  const r = tenantSettingsSchema.safeParse(raw);
  return r.success ? r.data : tenantSettingsSchema.parse({});
}

export function tenantIssuer(tenantId: string, s: TenantSettings): string {
  return s.issuer ?? `urn:edge-auth:tenant:${tenantId}`;
}

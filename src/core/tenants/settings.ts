import { z } from "zod";
import { hostedLoginSchema } from "./hosted-login-settings";
import { cloudcheckrSamlSchema } from "../external-idps/cloudcheckr-settings";

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
  /** Where the issuer's keys are; default: the `jwks_uri` of the issuer's discovery document (core/federation/okta.ts). */
  jwksUri: z.string().optional(),
  /** Community that users created by an Okta login join; default: the request's. */
  communityId: z.string().optional(),
});

/**
 * An origin as a browser serializes it in the Origin header (RFC 6454 §6.1): http or https,
 * lower-case host, no default port, no path, no trailing slash. Matching is by exact string, so
 * anything else could never match and is refused when stored.
 */
function isSerializedOrigin(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === "https:" || u.protocol === "http:") && u.origin === value;
  } catch {
    return false;
  }
}

const corsSchema = z.object({
  /** Exact origins, e.g. https://app.example.com; never a wildcard. */
  allowedOrigins: z
    .array(z.string().max(2048).refine(isSerializedOrigin, "must be an exact origin such as https://app.example.com (scheme, host, optional port; no path)"))
    .max(50)
    .default([]),
  /** Access-Control-Allow-Credentials: true (cookies, HTTP auth) for the allowed origins. */
  allowCredentials: z.boolean().default(false),
  /** How long a browser may cache a preflight answer (browsers cap it: Chromium at 2 h). */
  maxAgeSeconds: z.number().int().min(0).max(86_400).default(600),
});

/**
 * Which surfaces rotate refresh tokens (DESIGN.md "Tokens": whether a refresh token rotates is
 * what each API documents). The userpool document's refresh answers no new refresh token, as
 * Cognito's default, so rotation there is an opt-in; no other surface issues refresh tokens
 * today, and a surface that does later adds its key here with its document's default.
 */
const refreshRotationSchema = z.object({
  userpool: z.boolean().default(false),
});

/**
 * Email and SMS one-time codes (core/mfa/delivered-otp.ts) and the SMS provider they go
 * through (core/mfa/sms.ts). The provider is any HTTP API: the body template's `{to}`,
 * `{text}` and `{code}` are replaced (JSON-escaped when contentType is JSON, form-encoded
 * otherwise). `authSecret` is the header's value as the provider issued it: it is stored in the
 * tenant's settings as they are, and shown as "(present)" by the settings routes (its name matches
 * manage-settings.ts SECRET_KEY; docs/security.md "One-time codes by email and SMS").
 */
const otpDeliverySchema = z.object({
  /** Life of a code, from the request. */
  ttlSeconds: z.number().int().min(2).max(900).default(300),
  /** Wrong codes for one request id before it is locked for the rest of its life. */
  maxAttempts: z.number().int().min(1).max(20).default(5),
  sms: z
    .object({
      url: z.string().url().max(2048).refine((u) => /^https?:/i.test(u), "must be an http(s) URL"),
      authHeader: z.string().min(1).max(64).regex(/^[A-Za-z0-9-]+$/).default("authorization"),
      authSecret: z.string().min(1).max(4096).optional(),
      contentType: z.enum(["application/json", "application/x-www-form-urlencoded"]).default("application/json"),
      bodyTemplate: z.string().min(1).max(4096).default('{"to":"{to}","text":"{text}"}'),
    })
    .optional(),
});

/**
 * LiveID (seed 004 authenticate_with_liveid; core/liveid): the tenant's face-verification
 * service. Selfies are POSTed to `url`; only a verdict signed with `publicKeyJwk` (ES256,
 * P-256) is believed. `pin`: ask for the PIN after the face when the user has one
 * ("if_enrolled", the default) or never.
 */
export const liveidSettingsSchema = z.object({
  url: z.string().url().max(2048),
  publicKeyJwk: z.object({ kty: z.literal("EC"), crv: z.literal("P-256"), x: z.string().min(43).max(43), y: z.string().min(43).max(43) }),
  timeoutMs: z.number().int().min(500).max(30_000).default(10_000),
  pin: z.enum(["if_enrolled", "never"]).default("if_enrolled"),
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
    /** Per surface: whether a refresh answers a new refresh token and retires the one presented. */
    refreshRotation: refreshRotationSchema.default(refreshRotationSchema.parse({})),
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
    /** Browser apps on other origins allowed to call the token surfaces (src/http/cors.ts). */
    cors: corsSchema.optional(),
    /** Consent receipts (core/consents): the Kantara `jurisdiction`, and `policyUrl` when the client names no policy_uri. */
    consentReceipts: z.object({ jurisdiction: z.string().max(64).optional(), policyUrl: z.string().url().max(2048).optional() }).optional(),
    /** The hosted login's branding and SSO session (core/tenants/hosted-login-settings.ts). */
    hostedLogin: hostedLoginSchema.optional(),
    /** CloudCheckr's SAML routes: which external IdP, allowed return URLs, dashboard (core/external-idps/cloudcheckr-settings.ts). */
    cloudcheckr: z.object({ saml: cloudcheckrSamlSchema.optional() }).optional(),
    /** Email and SMS one-time codes (issue 11). */
    otpDelivery: otpDeliverySchema.default(otpDeliverySchema.parse({})),
    /** LiveID's face-verification service (core/liveid). */
    liveid: liveidSettingsSchema.optional(),
  })
  .passthrough();

export type TenantSettings = z.infer<typeof tenantSettingsSchema>;
export type OktaSettings = z.infer<typeof oktaSchema>;
export type CorsSettings = z.infer<typeof corsSchema>;
export type OtpDeliverySettings = z.infer<typeof otpDeliverySchema>;
export type RefreshRotationSettings = z.infer<typeof refreshRotationSchema>;

/** Whether refresh tokens of `surface` rotate for this tenant (see refreshRotationSchema). */
export function refreshRotates(s: TenantSettings, surface: keyof RefreshRotationSettings): boolean {
  return s.refreshRotation[surface];
}

/** Parsed settings and the dotted paths of the stored fields that were invalid and replaced. */
export interface SettingsReadout {
  settings: TenantSettings;
  /** e.g. ["okta.mapRoles", "lockout.userThreshold"]; empty when the stored JSON was valid. */
  replaced: string[];
  /** The stored JSON without the replaced fields (what a change should start from). */
  kept: Record<string, unknown>;
}

type Key = string | number;
const MAX_REPAIRS = 64;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The object schema inside optional/default wrappers, or null when `s` is not an object. */
function objectShape(s: z.ZodType): Record<string, z.ZodType> | null {
  let cur: z.ZodType = s;
  for (let i = 0; i < 8; i++) {
    if (cur instanceof z.ZodObject) return cur.shape as Record<string, z.ZodType>;
    if (cur instanceof z.ZodDefault || cur instanceof z.ZodOptional || cur instanceof z.ZodNullable) cur = cur.unwrap() as z.ZodType;
    else return null;
  }
  return null;
}

/**
 * The declared field an issue belongs to: the longest prefix of its path that names object
 * fields of the schema. An issue inside an array or a record (a bad blocklist entry, a bad
 * mapRoles value) is charged to the whole field, so a list is reset rather than silently
 * shortened.
 */
function declaredField(path: readonly PropertyKey[]): { path: Key[]; schema: z.ZodType } {
  let schema: z.ZodType = tenantSettingsSchema;
  const out: Key[] = [];
  for (const key of path) {
    const shape = objectShape(schema);
    if (!shape || typeof key !== "string" || !Object.hasOwn(shape, key)) break;
    out.push(key);
    schema = shape[key]!;
  }
  return { path: out, schema };
}

function schemaAt(path: Key[]): z.ZodType {
  return declaredField(path).schema;
}

function deleteAt(root: Record<string, unknown>, path: Key[]): void {
  let cur: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(cur)) return;
    cur = cur[key];
  }
  if (isPlainObject(cur)) delete cur[path[path.length - 1]!];
}

/**
 * Reads stored settings without losing the valid ones: each invalid field is removed, so its
 * default applies (or, for an optional block such as okta, the block is dropped), and the rest
 * is kept. A field that may not be absent (okta.baseUrl) takes its enclosing block with it.
 * Stored JSON that is not an object reads as all defaults.
 */
export function readTenantSettings(raw: unknown): SettingsReadout {
  const first = tenantSettingsSchema.safeParse(raw);
  if (first.success) return { settings: first.data, replaced: [], kept: raw as Record<string, unknown> };
  const allDefaults = (): SettingsReadout => ({ settings: tenantSettingsSchema.parse({}), replaced: ["(all)"], kept: {} });
  if (!isPlainObject(raw)) return allDefaults();
  const data = structuredClone(raw);
  const replaced: string[] = [];
  let result: ReturnType<typeof tenantSettingsSchema.safeParse> = first;
  for (let round = 0; round < MAX_REPAIRS && !result.success; round++) {
    for (const issue of result.error.issues) {
      let { path } = declaredField(issue.path);
      // Climb while absence is not acceptable: removing a required field would fail the block.
      while (path.length > 0 && !schemaAt(path).safeParse(undefined).success) path = path.slice(0, -1);
      if (path.length === 0) return allDefaults();
      deleteAt(data, path);
      const name = path.join(".");
      if (!replaced.includes(name)) replaced.push(name);
    }
    result = tenantSettingsSchema.safeParse(data);
  }
  if (!result.success) return allDefaults();
  return { settings: result.data, replaced, kept: data };
}

const warned = new Set<string>();
/**
 * Parsed settings per stored object: the tenant cache (src/http/tenant.ts) keeps one Tenant
 * object per tenant for 10 s, so requests share one parse instead of one each. Callers never
 * modify settings.
 */
const parsed = new WeakMap<object, TenantSettings>();

/**
 * Parses stored settings; invalid stored fields fall back to their defaults one by one rather
 * than failing logins or dropping the valid ones (readTenantSettings). The replaced paths (never
 * values, which may be secrets) are logged once per tenant and set of paths per isolate.
 */
export function parseTenantSettings(raw: Record<string, unknown>, tenantId?: string): TenantSettings {
  const hit = isPlainObject(raw) ? parsed.get(raw) : undefined;
  if (hit) return hit;
  const { settings, replaced } = readTenantSettings(raw);
  if (isPlainObject(raw)) parsed.set(raw, settings);
  if (replaced.length > 0) {
    const key = `${tenantId ?? "?"}|${replaced.join(",")}`;
    if (!warned.has(key)) {
      if (warned.size >= 1000) warned.clear();
      warned.add(key);
      console.warn(`tenant ${tenantId ?? "(unknown)"}: invalid stored settings replaced by their defaults: ${replaced.join(", ")}`);
    }
  }
  return settings;
}

export function tenantIssuer(tenantId: string, s: TenantSettings): string {
  return s.issuer ?? `urn:edge-auth:tenant:${tenantId}`;
}

import type { TokenAuthority } from "./durable/token-authority";
import type { RateLimiter } from "./durable/rate-limiter";
import type { ReplayGuard } from "./durable/replay-guard";
import type { Job } from "./core/jobs/types";

/** The Worker's bindings, as declared in wrangler.toml, plus its secrets. */
export interface Env {
  DB: D1Database;
  TOKENS: KVNamespace;
  TOKEN_AUTHORITY: DurableObjectNamespace<TokenAuthority>;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  REPLAY_GUARD: DurableObjectNamespace<ReplayGuard>;
  /** Background jobs (mail and the look-ups behind it): producer of the queue this Worker consumes. */
  JOBS: Queue<Job>;
  SEND_EMAIL?: SendEmail;
  ENVIRONMENT?: string;
  DEFAULT_TENANT?: string;
  MAIL_TRANSPORT?: string;
  MAIL_FROM?: string;
  MAIL_API_URL?: string;
  EC_CURVE_NAME?: string;
  /** First retry delay of a failed job, in seconds (doubles per attempt, capped at 300). */
  JOB_RETRY_BASE_SECONDS?: string;
  /** Authn GET /sd: configured peers, a JSON object of name -> URL (merged with our surfaces). */
  SERVICE_DIRECTORY?: string;
  /** Build stamp (`<tag>.<commit>.<dob>`), injected by the build; see scripts/version.mjs. */
  BUILD_VERSION?: string;
  /** Cloudflare for SaaS: the zone whose custom hostnames carry tenants' domains (empty: off). */
  CF_SAAS_ZONE_ID?: string;
  /** Cloudflare for SaaS: the CNAME target tenants point their hostnames at (reported to them). */
  CF_SAAS_CNAME_TARGET?: string;
  // Secrets (`wrangler secret put`; `.dev.vars` locally).
  KEY_ENCRYPTION_SECRET?: string;
  PASSWORD_PEPPER?: string;
  MAIL_API_KEY?: string;
  BOOTSTRAP_SYSTEM_LICENSE?: string;
  /** Cloudflare API token with Custom Hostnames edit on CF_SAAS_ZONE_ID (a secret). */
  CF_API_TOKEN?: string;
  AUTHN_PREVIEW?: string;
}

export type MailTransport = "d1" | "send_email" | "http";

/** Runtime configuration, validated once per isolate from the bindings. */
export interface Config {
  production: boolean;
  defaultTenant: string | null;
  keyEncryptionSecret: string;
  passwordPepper: string;
  mail: { transport: MailTransport; from: string; apiUrl: string | null; apiKey: string | null };
  ecCurve: "secp256k1" | "P-256";
  authnPreview: boolean;
  buildVersion: string;
  /** First retry delay of a failed background job (seconds). */
  jobRetryBaseSeconds: number;
  /**
   * Cloudflare for SaaS custom hostnames (core/tenants/custom-hostnames.ts): on when the zone
   * id is set; `apiToken` null means the secret is missing and hostname binding refuses to run
   * (rather than fall back to mapping domains by hand behind the operator's back).
   */
  saas: SaasConfig | null;
}

export interface SaasConfig {
  zoneId: string;
  apiToken: string | null;
  /** What tenants CNAME their hostname to; null: not reported (README "Custom domains"). */
  cnameTarget: string | null;
}

export class ConfigError extends Error {}

const MIN_SECRET_LENGTH = 32;

const configCache = new WeakMap<object, Config>();

/**
 * Reads and validates the configuration. Secrets are required in production; in development
 * (`npm run dev` writes .dev.vars) missing secrets are an error too, because silently running
 * with a default key would make every local token forgeable from the source code.
 */
export function loadConfig(env: Env): Config {
  const cached = configCache.get(env);
  if (cached) return cached;
  const production = (env.ENVIRONMENT ?? "production") !== "development";
  const keyEncryptionSecret = requireSecret(env.KEY_ENCRYPTION_SECRET, "KEY_ENCRYPTION_SECRET");
  const passwordPepper = requireSecret(env.PASSWORD_PEPPER, "PASSWORD_PEPPER");
  const transport = (env.MAIL_TRANSPORT ?? "d1") as MailTransport;
  if (!["d1", "send_email", "http"].includes(transport)) {
    throw new ConfigError(`MAIL_TRANSPORT must be d1, send_email or http, not ${transport}`);
  }
  const curve = env.EC_CURVE_NAME ?? "secp256k1";
  if (curve !== "secp256k1" && curve !== "P-256") {
    throw new ConfigError(`EC_CURVE_NAME must be secp256k1 or P-256, not ${curve}`);
  }
  const config: Config = {
    production,
    defaultTenant: env.DEFAULT_TENANT ? env.DEFAULT_TENANT : null,
    keyEncryptionSecret,
    passwordPepper,
    mail: {
      transport,
      from: env.MAIL_FROM ?? "no-reply@example.com",
      apiUrl: env.MAIL_API_URL ? env.MAIL_API_URL : null,
      apiKey: env.MAIL_API_KEY ? env.MAIL_API_KEY : null,
    },
    ecCurve: curve,
    // Plaintext Authn requests are for development only and never on in production.
    authnPreview: !production && env.AUTHN_PREVIEW !== "false",
    buildVersion: env.BUILD_VERSION ?? "dev",
    jobRetryBaseSeconds: retryBase(env.JOB_RETRY_BASE_SECONDS),
    saas: env.CF_SAAS_ZONE_ID?.trim()
      ? { zoneId: env.CF_SAAS_ZONE_ID.trim(), apiToken: env.CF_API_TOKEN?.trim() || null, cnameTarget: env.CF_SAAS_CNAME_TARGET?.trim().toLowerCase() || null }
      : null,
  };
  configCache.set(env, config);
  return config;
}

function retryBase(raw: string | undefined): number {
  if (raw === undefined || raw === "") return 10;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 300) throw new ConfigError(`JOB_RETRY_BASE_SECONDS must be an integer from 0 to 300, not ${raw}`);
  return n;
}

function requireSecret(value: string | undefined, name: string): string {
  if (!value || value.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`secret ${name} is missing or shorter than ${MIN_SECRET_LENGTH} characters`);
  }
  return value;
}

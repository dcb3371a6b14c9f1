import type { MiddlewareHandler } from "hono";
import { loadConfig, type Env } from "../env";
import { Keyring } from "../crypto/keys";
import type { Services } from "../core/context";
import { Limiter } from "../core/limits/limiter";
import { OnceGuard } from "../core/limits/once";
import { HttpMailer, SendEmailMailer, StoreMailer, type Mailer } from "../core/mail/mailer";
import { QueueJobs } from "../core/jobs/queue";
import { SessionAuthority } from "../core/sessions/authority";
import { D1AppStateStore } from "../storage/d1/app-state-store";
import { D1AuditLog } from "../storage/d1/audit-log";
import { D1ClientStore } from "../storage/d1/client-store";
import { D1MailStore } from "../storage/d1/mail-store";
import { D1SigningKeyStore } from "../storage/d1/signing-key-store";
import { D1SsoConnectionStore } from "../storage/d1/sso-connection-store";
import { D1TermsLogStore } from "../storage/d1/terms-log-store";
import { D1TenantStore } from "../storage/d1/tenant-store";
import { D1UserStore } from "../storage/d1/user-store";
import { withRecentUserEviction } from "../core/users/recent-users";
import { KvSecretStore } from "../storage/kv/secret-store";
import { D1AuthSchemeStore } from "../storage/d1/auth-scheme-store";
import { D1IdpConfigStore } from "../storage/d1/idp-config-store";
import { D1SpCatalogStore } from "../storage/d1/sp-catalog-store";
import { D1ConsentStore, D1IdentityProviderStore, D1ServiceProviderStore } from "../storage/d1/identity-provider-stores";
import { D1LicenseStore } from "../storage/d1/license-store";
import { D1ExternalIdpStore } from "../storage/d1/external-idp-store";
import { D1JourneyStore } from "../storage/d1/journey-store";
import { D1CustomHostnameStore } from "../storage/d1/custom-hostname-store";
import { D1WebAuthnCredentialStore } from "../storage/d1/webauthn-credential-store";
import { D1RecoveryCodeStore } from "../storage/d1/recovery-code-store";
import { D1TypingProfileStore, D1UwlAuthenticatorStore } from "../storage/d1/uwl-typing-stores";
import { EnvelopeKeyring } from "../crypto/envelope-keys";
import { LicenseResolver } from "../core/licenses/licenses";
import { replication } from "../storage/d1/replica";
import { d1Session } from "./d1-bookmark";
import type { AppEnv } from "./types";

/**
 * Composition of bindings -> stores -> core services. Everything that can be built once per
 * isolate (config, keyring with its imported keys, stores) is cached per Env object; only
 * `defer` is per request.
 */
type Shared = Omit<Services, "defer">;
const shared = new WeakMap<Env, Shared>();

let outboundFetch: typeof fetch = (input, init) => fetch(input, init);
/** Reads `outboundFetch` at call time, so a replacement applies to services already built. */
const callOutbound: typeof fetch = (input, init) => outboundFetch(input, init);

/** Replaces outbound fetch (in-workerd tests stand up their own IdPs in-process). */
export function setOutboundFetch(f: typeof fetch | null): void {
  outboundFetch = f ?? ((input, init) => fetch(input, init));
}

let mailerOverride: Mailer | null = null;

/**
 * Replaces mail delivery for every service built in this isolate, the queue consumer's
 * included (in-workerd tests make delivery fail to see retries and the dead-letter queue).
 */
export function setMailerOverride(m: Mailer | null): void {
  mailerOverride = m;
}

export function buildShared(env: Env): Shared {
  let s = shared.get(env);
  if (s) return s;
  const config = loadConfig(env);
  // D1 read replication (docs/architecture.md "Which reads may use a D1 replica"): the stores
  // whose reads a replica serves write through `primary`, which records the bookmark of each
  // write so this isolate's replica reads start from it; every other store keeps env.DB.
  const d1 = replication(env.DB);
  const mailStore = D1MailStore(env.DB);
  const licenses = D1LicenseStore(env.DB);
  let mailer: Mailer;
  if (config.mail.transport === "send_email" && env.SEND_EMAIL) mailer = SendEmailMailer(env.SEND_EMAIL, config.mail.from);
  else if (config.mail.transport === "http") mailer = HttpMailer(config.mail, callOutbound);
  else mailer = StoreMailer(mailStore);
  const configured = mailer;
  mailer = { send: (m) => (mailerOverride ?? configured).send(m) };
  s = {
    config,
    tenants: D1TenantStore(d1.primary),
    replicaReads: { tenants: D1TenantStore(d1.replica), ssoConnections: D1SsoConnectionStore(d1.replica), idps: D1IdentityProviderStore(d1.replica) },
    customHostnames: D1CustomHostnameStore(env.DB),
    users: withRecentUserEviction(D1UserStore(env.DB)),
    clients: D1ClientStore(env.DB),
    audit: D1AuditLog(env.DB),
    mailStore,
    mailer,
    jobs: QueueJobs(env.JOBS),
    secrets: KvSecretStore(env.TOKENS),
    keyring: new Keyring(D1SigningKeyStore(env.DB), config.keyEncryptionSecret),
    authority: new SessionAuthority(env.TOKEN_AUTHORITY),
    limiter: new Limiter(env.RATE_LIMITER),
    once: new OnceGuard(env.REPLAY_GUARD),
    ssoConnections: D1SsoConnectionStore(d1.primary),
    termsLog: D1TermsLogStore(env.DB),
    appStates: D1AppStateStore(env.DB),
    authnConfig: { schemes: D1AuthSchemeStore(env.DB), spCatalog: D1SpCatalogStore(env.DB), idpConfigs: D1IdpConfigStore(env.DB) },
    identity: { serviceProviders: D1ServiceProviderStore(env.DB), idps: D1IdentityProviderStore(d1.primary), consents: D1ConsentStore(env.DB), externalIdps: D1ExternalIdpStore(env.DB) },
    journeys: D1JourneyStore(d1.primary, d1.replica),
    webauthn: D1WebAuthnCredentialStore(env.DB),
    recoveryCodes: D1RecoveryCodeStore(env.DB),
    uwlAuthenticators: D1UwlAuthenticatorStore(env.DB),
    typingProfiles: D1TypingProfileStore(env.DB),
    authn: {
      keyring: new EnvelopeKeyring(D1SigningKeyStore(env.DB), config.keyEncryptionSecret, config.ecCurve),
      licenses,
      resolver: new LicenseResolver(licenses, env.BOOTSTRAP_SYSTEM_LICENSE ?? null),
    },
    fetch: callOutbound,
  };
  shared.set(env, s);
  return s;
}

/** Services for code that runs outside a request (scripts, tests): defer awaits nothing. */
export function servicesFor(env: Env, defer: (p: Promise<unknown>) => void = () => {}): Services {
  return { ...buildShared(env), defer };
}

export const provideServices: MiddlewareHandler<AppEnv> = async (c, next) => {
  let ctx: ExecutionContext | null = null;
  try {
    ctx = c.executionCtx;
  } catch {
    ctx = null;
  }
  c.set(
    "services",
    servicesFor(c.env, (p) => {
      const safe = p.catch((e: unknown) => console.error("deferred work failed", e instanceof Error ? e.message : e));
      if (ctx) ctx.waitUntil(safe);
    }),
  );
  await next();
};

/**
 * Authn schemes (seed 004: fetch, PUT, PATCH, DELETE), as the app state below: a management client that keeps
 * the x-d1-bookmark of its write may read the schemes back from a replica. Consistency: as
 * the app state's below; writes (and the uniqueness reads before them) on the primary.
 */
export const schemeReadSession = d1Session("read", (db, svc) => ({ authnConfig: { ...svc.authnConfig, schemes: D1AuthSchemeStore(db) } }));
export const schemeWriteSession = d1Session("write", (db, svc) => ({ authnConfig: { ...svc.authnConfig, schemes: D1AuthSchemeStore(db) } }));

/**
 * GET and PUT /v1/auth/state (CloudCheckr app state) in one D1 session per request, with the
 * opt-in `x-d1-bookmark` (http/d1-bookmark.ts). Consistency: without a bookmark the state is
 * read from the primary, as before; with one, from a replica that has every write the client
 * made before it received that bookmark.
 */
export const appStateReadSession = d1Session("read", (db) => ({ appStates: D1AppStateStore(db) }));
export const appStateWriteSession = d1Session("write", (db) => ({ appStates: D1AppStateStore(db) }));

import type { Config } from "../env";
import type { AuthnConfigStores } from "./authn/stores";
import type { AuthnPlatform } from "./authn/platform";
import type { Keyring } from "../crypto/keys";
import type { AuditLog, ClientStore, Community, MailStore, SecretStore, Tenant, TenantStore, UserStore } from "../storage/ports";
import type { SsoConnectionStore, TermsLogStore } from "../storage/ports";
import type { AppStateStore } from "../storage/ports";
import type { ConsentStore, ExternalIdpStore, IdentityProviderStore, ServiceProviderStore } from "../storage/ports-idp";
import type { JourneyStore } from "../storage/ports-journeys";
import type { CustomHostnameStore } from "../storage/ports-hostnames";
import type { WebAuthnCredentialStore } from "../storage/ports-webauthn";
import type { RecoveryCodeStore } from "../storage/ports-recovery";
import type { TypingProfileStore, UwlAuthenticatorStore } from "../storage/ports-uwl-typing";
import type { Mailer } from "./mail/mailer";
import type { JobQueue } from "./jobs/types";
import type { SessionAuthority } from "./sessions/authority";
import type { Limiter } from "./limits/limiter";
import type { OnceGuard } from "./limits/once";
import type { TenantSettings } from "./tenants/settings";

/**
 * Everything the core needs, built once per request by the composition root (src/app.ts)
 * from the bindings. Core functions take this plus a Scope; none of them touches Hono.
 */
export interface Services {
  config: Config;
  tenants: TenantStore;
  /**
   * Reads that may be served by a D1 read replica (storage/d1/replica.ts), for the callers
   * behind isolate caches listed in docs/architecture.md "Which reads may use a D1 replica"
   * only: never for a read followed by a write that depends on it, a uniqueness check or a
   * credential.
   */
  replicaReads: {
    tenants: Pick<TenantStore, "getTenant" | "getCommunity" | "listCommunities" | "domain" | "hostnames">;
    /** SSO initiation's connection by email domain (the callback re-reads it from the primary). */
    ssoConnections: Pick<SsoConnectionStore, "byDomain">;
    /** The OIDC scope definitions behind core/idps/scopes.ts's isolate cache. */
    idps: Pick<IdentityProviderStore, "list">;
  };
  /** Hostnames bound through Cloudflare for SaaS, pending or mapped (core/tenants/custom-hostnames.ts). */
  customHostnames: CustomHostnameStore;
  users: UserStore;
  clients: ClientStore;
  audit: AuditLog;
  mailStore: MailStore;
  mailer: Mailer;
  /** Background jobs (core/jobs): mail and the look-ups behind answers that must not tell. */
  jobs: JobQueue;
  secrets: SecretStore;
  keyring: Keyring;
  authority: SessionAuthority;
  limiter: Limiter;
  once: OnceGuard;
  /** SSO connections by email domain (core/federation/sso.ts). */
  ssoConnections: SsoConnectionStore;
  /** Terms-and-conditions acceptance log (core/terms). */
  termsLog: TermsLogStore;
  /** Client applications' saved per-user state (core/apps/app-state.ts). */
  appStates: AppStateStore;
  /** Authn community configuration: schemes, SP catalog, IdP config. */
  authnConfig: AuthnConfigStores;
  /**
   * The service as an identity provider (applications, IdP scopes and claims, consent receipts)
   * and as a SAML service provider (externalIdps: the outside IdPs it signs users in with).
   */
  identity: { serviceProviders: ServiceProviderStore; idps: IdentityProviderStore; consents: ConsentStore; externalIdps: ExternalIdpStore };
  /** Authentication journeys of both API versions: the adaptive policy's rules (core/journeys). */
  journeys: JourneyStore;
  /** Registered WebAuthn credentials (passkeys, security keys): core/webauthn. */
  webauthn: WebAuthnCredentialStore;
  /** TOTP recovery codes, as digests (core/mfa/recovery-codes.ts). */
  recoveryCodes: RecoveryCodeStore;
  /** UWL authenticators' public keys (core/uwl). */
  uwlAuthenticators: UwlAuthenticatorStore;
  /** Typing-pattern profiles (core/typing). */
  typingProfiles: TypingProfileStore;
  /** Authn envelope keys and licenses (core/authn/platform.ts). */
  authn: AuthnPlatform;
  /** Outbound HTTP (external IdPs' JWKS and token endpoints); injectable for tests. */
  fetch: typeof fetch;
  /** Schedules work after the response (audit writes); awaited inline where unavailable. */
  defer(p: Promise<unknown>): void;
}

/** Who is asking, for which tenant: resolved per request by http/tenant.ts. */
export interface Scope {
  tenant: Tenant;
  settings: TenantSettings;
  /** The community the request is addressed to (path or bound domain). */
  community: Community;
  /** The connecting client's IP (CF-Connecting-IP), never a client-supplied header. */
  ip: string;
  userAgent: string | null;
  /** The API surface addressed (core/sessions/application.ts): user tokens' `client_id`. */
  application?: string;
  /**
   * Where Durable Objects this request creates should live (core/placement/location-hint.ts),
   * from Cloudflare's `request.cf` of the connecting client; absent when unknown (local dev,
   * tests, the queue consumer), which leaves the default placement.
   */
  locationHint?: DurableObjectLocationHint;
}

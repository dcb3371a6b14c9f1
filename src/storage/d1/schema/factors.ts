import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { communities, tenants } from "./core";

/**
 * Passwordless and step-up factors (issue 11): WebAuthn credentials (passkeys), UWL
 * authenticators, typing-pattern profiles and TOTP recovery codes. Times are epoch
 * milliseconds. Users are named by `user_uid` (users.uid). Single-use secrets (challenges,
 * nonces, one-time codes) do not live here: they are KV records decided once by a Durable
 * Object; these tables hold only what a factor needs to verify.
 */

/** A WebAuthn public-key credential registered by a user (W3C WebAuthn Level 3 §4 "Credential Record"). */
export const webauthnCredentials = sqliteTable(
  "webauthn_credentials",
  {
    /** Our id (a uuid): what the credential-management routes name. */
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id),
    communityId: text("community_id").notNull().references(() => communities.id),
    userUid: text("user_uid").notNull(),
    /** The credential ID, base64url, as the authenticator made it. */
    credentialId: text("credential_id").notNull(),
    /** COSE public key, base64url. */
    publicKey: text("public_key").notNull(),
    /** The signature counter last seen (WebAuthn §6.1.1). */
    counter: integer("counter").notNull().default(0),
    /** JSON array of AuthenticatorTransport values, or null. */
    transports: text("transports"),
    /** singleDevice or multiDevice (backup eligibility, WebAuthn §6.1 flags BE). */
    deviceType: text("device_type").notNull(),
    backedUp: integer("backed_up", { mode: "boolean" }).notNull().default(false),
    aaguid: text("aaguid"),
    /** The user's label ("YubiKey", "Phone"). */
    name: text("name").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [uniqueIndex("webauthn_credentials_credential").on(t.tenantId, t.credentialId), index("webauthn_credentials_user").on(t.tenantId, t.userUid)],
);

/** A UWL (1Kosmos Universal Wallet / authenticator app) key registered for a user. */
export const uwlAuthenticators = sqliteTable(
  "uwl_authenticators",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id),
    communityId: text("community_id").notNull().references(() => communities.id),
    userUid: text("user_uid").notNull(),
    /** The authenticator's public key in the encoding core/uwl documents, with its curve. */
    publicKey: text("public_key").notNull(),
    curve: text("curve").notNull(),
    name: text("name").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [index("uwl_authenticators_user").on(t.tenantId, t.userUid)],
);

/** A user's typing-pattern profile (enrolment timing vectors and the detector's parameters, JSON). */
export const typingProfiles = sqliteTable(
  "typing_profiles",
  {
    tenantId: text("tenant_id").notNull().references(() => tenants.id),
    userUid: text("user_uid").notNull(),
    body: text("body").notNull(),
    samples: integer("samples").notNull(),
    /** Bumped on every change (optimistic concurrency). */
    revision: integer("revision").notNull().default(0),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userUid] })],
);

/** TOTP recovery codes: stored hashed, shown once, each single use (`used_at`). */
export const recoveryCodes = sqliteTable(
  "recovery_codes",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id),
    userUid: text("user_uid").notNull(),
    /** crypto/hash.ts digest of the code (never the code). */
    codeHash: text("code_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [uniqueIndex("recovery_codes_hash").on(t.tenantId, t.userUid, t.codeHash), index("recovery_codes_user").on(t.tenantId, t.userUid)],
);

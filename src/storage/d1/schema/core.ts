import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * The identity core's tables. JSON columns hold small structured values (settings, role
 * lists) that are always read whole. Times are epoch milliseconds.
 */
export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** TenantSettings as JSON (token lifetimes, password rules, lockout, Okta, ...). */
  settings: text("settings").notNull().default("{}"),
  createdAt: integer("created_at").notNull(),
});

export const communities = sqliteTable(
  "communities",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id),
    name: text("name").notNull(),
    settings: text("settings").notNull().default("{}"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("communities_tenant_name").on(t.tenantId, t.name)],
);

/** Hostname -> tenant and community: how a tenant's custom domain selects it. */
export const domains = sqliteTable("domains", {
  hostname: text("hostname").primaryKey(),
  tenantId: text("tenant_id").notNull().references(() => tenants.id),
  communityId: text("community_id").notNull().references(() => communities.id),
});

export const users = sqliteTable(
  "users",
  {
    /** Internal integer id (croit's `userId`). */
    id: integer("id").primaryKey({ autoIncrement: true }),
    uid: text("uid").notNull().unique(),
    dguid: text("dguid").notNull(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id),
    communityId: text("community_id").notNull().references(() => communities.id),
    /** Always lower case; unique per community. */
    username: text("username").notNull(),
    email: text("email"),
    phone: text("phone"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    address: text("address"),
    emailVerified: integer("email_verified", { mode: "boolean" }).notNull().default(false),
    phoneVerified: integer("phone_verified", { mode: "boolean" }).notNull().default(false),
    status: text("status").notNull().default("active"),
    disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
    type: text("type").notNull().default("user"),
    roleValue: text("role_value"),
    roles: text("roles").notNull().default("[]"),
    groups: text("groups").notNull().default("[]"),
    passwordHash: text("password_hash"),
    passwordChangedAt: integer("password_changed_at"),
    mustChangePassword: integer("must_change_password", { mode: "boolean" }).notNull().default(false),
    tcAcceptedVersion: text("tc_accepted_version"),
    tcAcceptedAt: integer("tc_accepted_at"),
    pinHash: text("pin_hash"),
    totpSecretSealed: text("totp_secret_sealed"),
    typingProfile: text("typing_profile"),
    /** Set on an associated account: the user it belongs to. */
    parentUserId: integer("parent_user_id"),
    /** Federated identity `<issuer>|<sub>` for users created by an external IdP login. */
    externalSubject: text("external_subject"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("users_community_username").on(t.communityId, t.username),
    index("users_tenant_email").on(t.tenantId, t.email),
    uniqueIndex("users_tenant_external").on(t.tenantId, t.externalSubject),
    index("users_parent").on(t.parentUserId),
  ],
);

export const oauthClients = sqliteTable("oauth_clients", {
  clientId: text("client_id").primaryKey(),
  tenantId: text("tenant_id").notNull().references(() => tenants.id),
  communityId: text("community_id").notNull().references(() => communities.id),
  name: text("name").notNull(),
  secretHash: text("secret_hash").notNull(),
  grants: text("grants").notNull().default('["client_credentials"]'),
  roles: text("roles").notNull().default("[]"),
  /** The API user a client acts as, where the API has one (Sentinel clientToken). */
  userId: integer("user_id"),
  disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
  createdAt: integer("created_at").notNull(),
});

export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id").notNull(),
    type: text("type").notNull(),
    userId: text("user_id"),
    actorId: text("actor_id"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    detail: text("detail").notNull().default("{}"),
    at: integer("at").notNull(),
  },
  (t) => [index("audit_tenant_at").on(t.tenantId, t.at), index("audit_user").on(t.userId)],
);

/** Mail as sent; the development transport only stores it here. */
export const mailOutbox = sqliteTable(
  "mail_outbox",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id").notNull(),
    recipient: text("recipient").notNull(),
    subject: text("subject").notNull(),
    body: text("body").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("mail_recipient").on(t.recipient, t.createdAt)],
);

export const signingKeys = sqliteTable(
  "signing_keys",
  {
    kid: text("kid").primaryKey(),
    purpose: text("purpose").notNull(),
    alg: text("alg").notNull(),
    publicJwk: text("public_jwk").notNull(),
    privateSealed: text("private_sealed").notNull(),
    status: text("status", { enum: ["current", "previous", "retired"] }).notNull(),
    createdAt: integer("created_at").notNull(),
  },
  // At most one current key per purpose: concurrent first-use creations cannot both win.
  (t) => [uniqueIndex("signing_keys_one_current").on(t.purpose).where(sql`status = 'current'`)],
);

import { expect } from "vitest";
import { hashPassword } from "../../src/crypto/password";
import type { Community, User } from "../../src/storage/ports";
import { callJson } from "./http";
import { createTestTenant, PASSWORD, services, type TestTenant } from "./tenant";

/** A test tenant with the Sentinel roles: a second organisation and users of every privilege. */
export interface SentinelTenant extends TestTenant {
  other: Community;
  sysadmin: User;
  impersonator: User;
  orgadmin: User;
  bob: User;
  otherImpersonator: User;
}

export async function createSentinelTenant(settings: Record<string, unknown> = {}): Promise<SentinelTenant> {
  const t = await createTestTenant(settings);
  const svc = services();
  const other = await svc.tenants.createCommunity({ tenantId: t.tenant.id, name: `OTHER-${t.community.id}` });
  const passwordHash = await hashPassword(PASSWORD, svc.config.passwordPepper);
  const mk = (username: string, roles: string[], communityId = t.community.id) =>
    svc.users.create({ tenantId: t.tenant.id, communityId, username, email: `${username}@${t.host}`, roles, passwordHash, passwordChangedAt: Date.now() - 10_000 });
  const [sysadmin, impersonator, orgadmin, bob, otherImpersonator] = await Promise.all([
    mk("sysadmin", ["SYSTEM_ADMIN", "LOGIN_AS"]),
    mk("helpdesk", ["LOGIN_AS", "USER"]),
    mk("orgadmin", ["ADMIN"]),
    mk("bob", ["USER"], other.id),
    mk("otherdesk", ["LOGIN_AS", "USER"], other.id),
  ]);
  return { ...t, other, sysadmin, impersonator, orgadmin, bob, otherImpersonator };
}

/** POST /v1.0/auth/token and return the bearer token. */
export async function sentinelLogin(t: TestTenant, username: string, corpId?: string): Promise<string> {
  const r = await callJson<{ token: string }>("POST", "/v1.0/auth/token", { username, password: PASSWORD, ...(corpId ? { corpId } : {}) }, { host: t.host });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.token;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Polls until `fn` yields a value (deferred work such as mail and audit runs after the response). */
export async function eventually<T>(fn: () => Promise<T | null | undefined | false>, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Decodes a JWT's payload without verifying it (tests only). */
export function jwtPayload(token: string): Record<string, unknown> {
  const part = token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part)) as Record<string, unknown>;
}

export const SENTINEL_ERROR_KEYS = ["code", "error", "message", "path", "status", "timestamp"];

/** Asserts a Sentinel (Spring Boot style) error answer: its status, exact keys and, if given, code. */
export function expectSentinelError(r: { status: number; body: Record<string, unknown> }, status: number, code?: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(Object.keys(r.body).sort()).toEqual(SENTINEL_ERROR_KEYS);
  expect(r.body.status).toBe(status);
  if (code) expect(r.body.code).toBe(code);
}

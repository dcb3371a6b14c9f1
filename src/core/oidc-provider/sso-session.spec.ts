import { beforeAll, describe, expect, it } from "vitest";
import type { Scope } from "../context";
import { parseTenantSettings } from "../tenants/settings";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { endSsoSession, readSsoSession, startSsoSession } from "./sso-session";

/** The SSO session's life: it ends at once, with its user, and with a password change. */
let t: TestTenant;
let scope: Scope;

beforeAll(async () => {
  t = await createTestTenant({ hostedLogin: { ssoSessionTtlSeconds: 300 } });
  scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings, t.tenant.id), community: t.community, ip: "203.0.113.1", userAgent: null };
});

describe("SSO session", () => {
  it("is found by its cookie only, in its own community, and ends everywhere at once", async () => {
    const svc = services();
    const { cookie, session, maxAgeSeconds } = await startSsoSession(svc, scope, t.alice, { authTime: Math.floor(Date.now() / 1000), amr: ["pwd"] });
    expect(maxAgeSeconds).toBe(300);
    expect((await readSsoSession(svc, scope, cookie))?.session.sid).toBe(session.sid);
    expect(await readSsoSession(svc, scope, `${cookie}x`)).toBeNull();
    expect(await readSsoSession(svc, scope, undefined)).toBeNull();
    const other = await createTestTenant();
    const otherScope = { ...scope, tenant: other.tenant, community: other.community };
    expect(await readSsoSession(svc, otherScope, cookie)).toBeNull();
    // Ended by sid alone (no cookie): the KV record stays, the ReplayGuard decides.
    await endSsoSession(svc, scope, { sid: session.sid, uid: t.alice.uid });
    expect(await readSsoSession(svc, scope, cookie)).toBeNull();
  });

  it("dies when the password changes after it authenticated, or the user is disabled", async () => {
    const svc = services();
    const a = await startSsoSession(svc, scope, t.admin, { authTime: Math.floor(Date.now() / 1000), amr: ["pwd"] });
    expect(await readSsoSession(svc, scope, a.cookie)).not.toBeNull();
    await new Promise((r) => setTimeout(r, 1100));
    await svc.users.update(t.tenant.id, t.admin.uid, { passwordChangedAt: Date.now() });
    expect(await readSsoSession(svc, scope, a.cookie)).toBeNull();
    const b = await startSsoSession(svc, scope, t.newbie, { authTime: Math.floor(Date.now() / 1000), amr: ["pwd"] });
    await svc.users.update(t.tenant.id, t.newbie.uid, { disabled: true });
    expect(await readSsoSession(svc, scope, b.cookie)).toBeNull();
  });
});

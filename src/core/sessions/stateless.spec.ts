import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { scopeOf, sleep } from "../../api/userpool/testing";
import { issueClientSession } from "../clients/client-session";
import { forgetRecentUsers } from "../users/recent-users";
import { endAllSessions, reissueAccessToken, revokeAccessSession, verifyAccessToken } from "./tokens";
import { statelessBasis, statelessSessionId } from "./stateless";

/**
 * Stateless sessions (client-credentials tokens): nothing is written when one is issued, yet a
 * logout, the end of every session of the subject, and a disabled API user all stop them.
 */
let t: TestTenant;
beforeAll(async () => {
  t = await createTestTenant();
});

describe("stateless session ids", () => {
  it("carry their credential time and are never mistaken for a family id", () => {
    const sid = statelessSessionId(1_700_000_000_123, crypto.randomUUID());
    expect(sid).toMatch(/^s-[0-9a-z]+-[0-9a-f-]{36}$/);
    expect(statelessBasis(sid)).toBe(1_700_000_000_123);
    expect(statelessBasis(crypto.randomUUID())).toBeNull();
    for (const odd of ["s-", "s--x", "s-ZZ-x", "s-zzzzzzzzzzzz-x", "s-1.5-x"]) expect(statelessBasis(odd)).toBeNull();
  });
});

describe("client-credentials sessions", () => {
  it("write nothing to the authority, verify, and a logout revokes exactly that token", async () => {
    const svc = services();
    const scope = await scopeOf(t);
    const a = await issueClientSession(svc, scope, t.client);
    const b = await issueClientSession(svc, scope, t.client);
    const ca = await verifyAccessToken(svc, scope, a.session.accessToken);
    expect(statelessBasis(ca.sid)).not.toBeNull();
    expect(await svc.authority.describe(t.tenant.id, ca.sub, ca.sid)).toEqual({ revokedAt: null, reason: null, tokens: 0 });
    await revokeAccessSession(svc, scope, ca);
    await expect(verifyAccessToken(svc, scope, a.session.accessToken)).rejects.toMatchObject({ code: "token_revoked" });
    await expect(verifyAccessToken(svc, scope, b.session.accessToken)).resolves.toMatchObject({ sub: ca.sub });
    expect(await svc.authority.describe(t.tenant.id, ca.sub, ca.sid)).toMatchObject({ reason: "logout" });
    // Revoking twice is harmless.
    await revokeAccessSession(svc, scope, ca);
  });

  it("end with every other session of their subject, and a later token is live", async () => {
    const svc = services();
    const scope = await scopeOf(t);
    const a = await issueClientSession(svc, scope, t.client);
    const ca = await verifyAccessToken(svc, scope, a.session.accessToken);
    await sleep(2);
    await endAllSessions(svc, scope, ca.sub, "test");
    await sleep(1100); // past the isolate's one-second "active" cache
    await expect(verifyAccessToken(svc, scope, a.session.accessToken)).rejects.toMatchObject({ code: "token_revoked" });
    const later = await issueClientSession(svc, scope, t.client);
    await expect(verifyAccessToken(svc, scope, later.session.accessToken)).resolves.toBeTruthy();
  });

  it("a client acting as an API user: disabling the user ends its tokens, and a stale cached row cannot mint a live one", async () => {
    const svc = services();
    const scope = await scopeOf(t);
    const client = { ...t.client, userId: t.admin.id };
    const a = await issueClientSession(svc, scope, client);
    const ca = await verifyAccessToken(svc, scope, a.session.accessToken);
    expect(ca.sub).toBe(t.admin.uid);
    // Disable as another isolate would: straight to D1 (this isolate's cached row stays stale),
    // then end the user's sessions as disabling does.
    await sleep(2);
    await env.DB.prepare("UPDATE users SET disabled = 1 WHERE uid = ?").bind(t.admin.uid).run();
    await svc.authority.revokeAll(t.tenant.id, t.admin.uid, "disabled");
    // Within the row cache's second, the stale row still says "enabled": the token it mints is
    // born revoked. Past it, the fresh row refuses the client outright. Never a live token.
    const minted = await issueClientSession(svc, scope, client).then(
      (s) => s.session.accessToken,
      (e: { code?: string }) => e.code ?? "error",
    );
    await sleep(1100); // past the isolate's one-second "active" cache
    await expect(verifyAccessToken(svc, scope, a.session.accessToken)).rejects.toMatchObject({ code: "token_revoked" });
    const outcome = minted === "forbidden" ? minted : await verifyAccessToken(svc, scope, minted).then(() => "live", (e: { code?: string }) => e.code);
    expect(["token_revoked", "forbidden"]).toContain(outcome);
    await env.DB.prepare("UPDATE users SET disabled = 0 WHERE uid = ?").bind(t.admin.uid).run();
    forgetRecentUsers();
  });

  it("can be reissued (Sentinel GET /refreshToken) within the tenant's maximum session age, but not once revoked", async () => {
    const svc = services();
    const scope = await scopeOf(t);
    const a = await issueClientSession(svc, scope, t.client);
    const ca = await verifyAccessToken(svc, scope, a.session.accessToken);
    const r = await reissueAccessToken(svc, scope, ca);
    expect(r.sessionId).toBe(ca.sid);
    const short = { ...scope, settings: { ...scope.settings, sessionMaxAgeSeconds: 60 } };
    const s = await reissueAccessToken(svc, short, ca);
    expect(s.expiresIn).toBeLessThanOrEqual(60);
    await revokeAccessSession(svc, scope, ca);
    await expect(reissueAccessToken(svc, scope, ca)).rejects.toMatchObject({ code: "token_revoked" });
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { claimsOf, loginTokens, post } from "../../api/userpool/testing";
import { randomToken } from "../../crypto/random";
import { newRefreshToken, parseRefreshToken } from "./refresh-tokens";

let t: TestTenant;
beforeAll(async () => {
  // These tests are about rotation, a tenant's opt-in on the userpool surface (settings.ts).
  t = await createTestTenant({ refreshRotation: { userpool: true } });
});

describe("refresh token shape", () => {
  it("is a fixed session key and a fresh secret, each 256 bits", () => {
    const a = newRefreshToken();
    const b = newRefreshToken(a.sessionKey);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    expect(b.token.startsWith(`${a.sessionKey}.`)).toBe(true);
    expect(b.token).not.toBe(a.token);
    expect(parseRefreshToken(a.token)).toEqual({ sessionKey: a.sessionKey, raw: a.token });
  });

  it("anything else is not a refresh token (and never throws)", () => {
    const k = randomToken();
    for (const odd of [undefined, null, 42, {}, "", k, `${k}.`, `.${k}`, `${k}.${k}.`, `${k}:${k}`, `${k}.${k.slice(1)}=`, `${k.slice(0, 42)}!.${k}`, `${k}.${k}`.toUpperCase().replace(/[A-Z]/, "+"), "a".repeat(10_000)]) {
      expect(parseRefreshToken(odd)).toBeNull();
    }
  });
});

describe("rotation keeps the session key; revocation needs a token the session issued", () => {
  const refresh = (refresh_token: string) => post(t, "token-refresh", { username: "alice", refresh_token });
  const revoke = (refresh_token: string) => post(t, "token-revoke", { refresh_token });

  it("every successor shares the session key and differs in its secret", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const r1 = await refresh(s.refresh_token);
    const r2 = await refresh(r1.body.refresh_token as string);
    const keys = [s.refresh_token, r1.body.refresh_token, r2.body.refresh_token].map((x) => (x as string).split(".")[0]);
    expect(new Set(keys).size).toBe(1);
    expect(new Set([s.refresh_token, r1.body.refresh_token, r2.body.refresh_token]).size).toBe(3);
  });

  it("a made-up secret under a real session key neither refreshes nor revokes", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const forged = `${s.refresh_token.split(".")[0]}.${randomToken()}`;
    expect((await refresh(forged)).status).toBe(400);
    expect((await revoke(forged)).status).toBe(200); // RFC 7009: unknown tokens are not an error
    const sid = claimsOf(s.access_token).sid as string;
    // The forged refresh was not reuse: the session is untouched and its real token works.
    expect(await services().authority.describe(t.tenant.id, t.alice.uid, sid)).toMatchObject({ revokedAt: null });
    expect((await refresh(s.refresh_token)).status).toBe(200);
  });

  it("revoking with the current token ends the session and its access tokens", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const r1 = await refresh(s.refresh_token);
    expect((await revoke(r1.body.refresh_token as string)).status).toBe(200);
    const sid = claimsOf(s.access_token).sid as string;
    expect(await services().authority.describe(t.tenant.id, t.alice.uid, sid)).toMatchObject({ reason: "revoked_by_client" });
    expect((await refresh(r1.body.refresh_token as string)).status).toBe(400);
  });
});

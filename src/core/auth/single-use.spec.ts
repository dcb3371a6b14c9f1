import { describe, expect, it } from "vitest";
import { createTestTenant, PASSWORD, services } from "../../../test/helpers/tenant";
import { post, requestCode } from "../../api/userpool/testing";

/**
 * Single use under races: a reset code and a NEW_PASSWORD_REQUIRED session presented by ten
 * requests at once are honoured exactly once (ReplayGuard decides, not KV).
 */
describe("racing one secret ten times", () => {
  it("the same reset code: exactly one success", async () => {
    const t = await createTestTenant();
    const code = await requestCode(t, "alice", `alice@${t.host}`);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => post(t, "forgot-password-confirm", { username: "alice", password: `raced new passphrase ${i}`, confirmation_code: code })),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    // The rest lose the race (400) or, beyond the attempt limit in flight at once, wait (429).
    expect(statuses.every((s) => s === 200 || s === 400 || s === 429)).toBe(true);
    // The password is the winner's.
    const winner = answers.findIndex((r) => r.status === 200);
    expect((await post(t, "login", { username: "alice", password: `raced new passphrase ${winner}` })).status).toBe(200);
  });

  it("the same challenge session: exactly one success", async () => {
    const t = await createTestTenant();
    const session = (await post(t, "login", { username: "newbie", password: PASSWORD })).body.session as string;
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => post(t, "new-password-required", { session, username: "newbie", new_password: `raced new passphrase ${i}` })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([200, ...Array(9).fill(400)]);
    const winner = answers.find((r) => r.status === 200)!;
    expect(typeof winner.body.access_token).toBe("string");
    const user = await services().users.byUid(t.tenant.id, t.newbie.uid);
    expect(user!.mustChangePassword).toBe(false);
  });
});

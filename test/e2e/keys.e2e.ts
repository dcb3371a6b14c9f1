import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, startWorker, verifyWithJwks, type StartedWorker } from "./harness";

/**
 * Signing-key rotation with overlap (scripts/rotate-keys.mjs): the demoted key keeps verifying
 * and stays in the JWKS; the next signer creates a new key; a second rotation retires the old
 * one. Restarts stand in for the minute after which isolates reload their keys.
 */
const exec = promisify(execFile);
let w: StartedWorker;
beforeAll(async () => {
  w = await startWorker();
});
afterAll(async () => {
  await w?.stop();
});

async function rotate(...extra: string[]) {
  try {
    const r = await exec(process.execPath, ["scripts/rotate-keys.mjs", "--local", "--persist-to", w.persistTo, ...extra], { env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

const login = async () => {
  const r = await request(w, "POST", "/v1/login", { username: w.demo.admin.username, password: w.demo.admin.password });
  expect(r.status).toBe(200);
  return r.body.access_token as string;
};
const tokenInfo = (t: string) => request(w, "GET", "/api/auth/token-info", undefined, { authorization: `Bearer ${t}` });
const kids = async () => ((await request<{ keys: { kid: string }[] }>(w, "GET", "/.well-known/jwks.json")).body.keys ?? []).map((k) => k.kid);

describe("npm run keys:rotate", () => {
  it("rotates with overlap, and refuses to retire a key that may still sign live tokens", async () => {
    const oldToken = await login();
    const oldKid = (await verifyWithJwks(w, oldToken)).header.kid;

    const first = await rotate();
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain(`${oldKid} is now previous`);
    await w.restart();

    const newToken = await login();
    const newKid = (await verifyWithJwks(w, newToken)).header.kid;
    expect(newKid).not.toBe(oldKid);
    expect(await kids()).toEqual(expect.arrayContaining([oldKid, newKid]));
    // Overlap: the old token still verifies, for us and for others.
    expect((await tokenInfo(oldToken)).status).toBe(200);
    await verifyWithJwks(w, oldToken);

    // The new key is minutes old: retiring the previous one now would cut live tokens.
    const refused = await rotate();
    expect(refused.code).not.toBe(0);
    expect(refused.out).toContain("Refusing");

    const forced = await rotate("--force");
    expect(forced.code, forced.out).toBe(0);
    expect(forced.out).toContain(`Retired: ${oldKid}`);
    await w.restart();
    expect((await tokenInfo(oldToken)).status).toBe(401);
    expect((await tokenInfo(newToken)).status).toBe(200);
    expect(await kids()).not.toContain(oldKid);
  }, 240_000);
});

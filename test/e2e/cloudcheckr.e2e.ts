import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lastMail, request, startWorker, verifyWithJwks, type StartedWorker } from "./harness";

/**
 * The CloudCheckr auth API (seed 001) over real HTTP against `wrangler dev`, following the
 * curl examples of docs/api/cloudcheckr.md: form login, app state, PATCH refresh, reset by
 * emailed token (read from the dev outbox), ping.
 */
let w: StartedWorker;
beforeAll(async () => {
  w = await startWorker();
});
afterAll(async () => {
  await w?.stop();
});

const form = (o: Record<string, string>) => new URLSearchParams(o);
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe("CloudCheckr over HTTP", () => {
  it("plays pong and serves its OpenAPI document", async () => {
    const res = await fetch(`${w.url}/v1/auth/ping`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("pong");
    const doc = await request(w, "GET", "/openapi/cloudcheckr.json");
    expect(doc.body.openapi).toBe("3.1.0");
  });

  it("logs in with a form, saves glass state, and refreshes with PATCH", async () => {
    const u = w.demo.user;
    const login = await request(w, "POST", "/v1/auth/token?app=", form({ username: u.username, password: u.password }), { accept: "application/json" });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ token_type: "bearer" });
    const t = await verifyWithJwks(w, login.body.access_token);
    expect(t.payload.sub).toBe(u.uid);

    const saved = await request(w, "PUT", "/v1/auth/state?app=glass", { state: { view: "cost" } }, bearer(login.body.access_token));
    expect(saved.status).toBe(200);
    const glass = await request(w, "POST", "/v1/auth/token?app=glass", form({ username: u.username, password: u.password }));
    expect(glass.body.state).toEqual({ view: "cost" });

    const patched = await request(w, "PATCH", "/v1/auth/token?app=glass", "", { ...bearer(glass.body.access_token), "content-type": "application/x-www-form-urlencoded" });
    expect(patched.status).toBe(200);
    expect(patched.body.state).toEqual({ view: "cost" });
    const p = await verifyWithJwks(w, patched.body.access_token);
    expect(p.payload.sid).toBe((await verifyWithJwks(w, glass.body.access_token)).payload.sid);
  });

  it("answers the opt-in x-d1-bookmark, reads its own write with it, and ignores a bad one (docs/api/cloudcheckr.md)", async () => {
    const u = w.demo.user;
    const login = await request(w, "POST", "/v1/auth/token?app=", form({ username: u.username, password: u.password }), { accept: "application/json" });
    const auth = bearer(login.body.access_token);
    const saved = await request(w, "PUT", "/v1/auth/state?app=lens", { state: { page: 3 } }, auth);
    expect(saved.status).toBe(200);
    const bookmark = saved.headers.get("x-d1-bookmark");
    expect(bookmark).toBeTruthy();
    const read = await request(w, "GET", "/v1/auth/state?app=lens", undefined, { ...auth, "x-d1-bookmark": bookmark! });
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body)).toContain('"page":3');
    expect(read.headers.get("x-d1-bookmark")).toBeTruthy();
    // Altered, foreign-shaped and oversized bookmarks are ignored: the read goes to the primary.
    for (const bad of [`${bookmark!.slice(0, -2)}xx`, "00000000-00000001-00000000-00000000000000000000000000000000", "a".repeat(4000)]) {
      const r = await request(w, "GET", "/v1/auth/state?app=lens", undefined, { ...auth, "x-d1-bookmark": bad });
      expect(r.status, bad.slice(0, 20)).toBe(200);
      expect(JSON.stringify(r.body)).toContain('"page":3');
    }
  });

  it("resets a password with the mailed token, once", async () => {
    const a = w.demo.admin;
    const req = await request(w, "POST", "/v1/auth/resetpassword", { email_address: "admin@localhost" });
    expect(req.status).toBe(200);
    let mail: { text: string } | null = null;
    for (let i = 0; i < 40 && !mail; i++) {
      mail = await lastMail(w, "admin@localhost");
      if (!mail) await new Promise((r) => setTimeout(r, 100));
    }
    const token = /Reset token: (\S+)/.exec(mail!.text)![1]!;
    const body = { token, username: a.username, password: "a new admin passphrase", password_confirmation: "a new admin passphrase" };
    const done = await request(w, "PUT", "/v1/auth/resetpassword", body);
    expect(done.status).toBe(200);
    const again = await request(w, "PUT", "/v1/auth/resetpassword", body);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe("token_used");
    const login = await request(w, "POST", "/v1/auth/token", form({ username: a.username, password: "a new admin passphrase" }));
    expect(login.status).toBe(200);
  });

  it("refuses an oversized body in its own shape", async () => {
    const r = await request(w, "POST", "/v1/auth/token", form({ username: "alice", password: "x".repeat(1024 * 1024) }));
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ error: "payload_too_large" });
  });
});

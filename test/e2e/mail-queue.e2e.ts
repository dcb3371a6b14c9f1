import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, startWorker, type StartedWorker } from "./harness";

/**
 * Mail through the job queue under `wrangler dev` (miniflare runs the queue and its consumer
 * locally, from wrangler.toml): the mail routes answer alike for known and unknown users, and
 * once the consumer has delivered, the dev outbox holds the known user's mail and nothing for
 * the unknown. Links in the mail and in discovery never take the request's Host.
 */
let w: StartedWorker;
beforeAll(async () => {
  w = await startWorker();
});
afterAll(() => w?.stop());

type Mail = { to: string; subject: string; text: string };

async function outbox(to: string): Promise<Mail[]> {
  return (await request<{ mail: Mail[] }>(w, "GET", `/dev/outbox?to=${encodeURIComponent(to)}&limit=50`)).body.mail;
}

async function newMail(to: string, before: number, timeoutMs = 8000): Promise<Mail> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const all = await outbox(to);
    if (all.length > before) return all[0]!;
    if (Date.now() > until) throw new Error(`no new mail to ${to} in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A request with a Host header of our choosing (fetch may not set Host). */
function withHost(method: string, path: string, host: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(w.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname: url.hostname, port: url.port, method, path, headers: { host, ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}) } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

describe("mail through the job queue (wrangler dev)", () => {
  it("forgot-password: the same answer for known and unknown; the outbox gets the known user's code only", async () => {
    const before = (await outbox("alice@localhost")).length;
    const missing = await request(w, "POST", "/v1/forgot-password", { username: "ghost-e2e" });
    const existing = await request(w, "POST", "/v1/forgot-password", { username: w.demo.user.username });
    expect(existing.status).toBe(200);
    expect(missing.status).toBe(200);
    expect(missing.body).toEqual(existing.body);
    const mail = await newMail("alice@localhost", before);
    expect(mail.text).toMatch(/reset code is [A-Za-z0-9]{8}/);
    await new Promise((r) => setTimeout(r, 500));
    expect(await outbox("ghost-e2e@localhost")).toHaveLength(0);
  });

  it("Sentinel usernameRequest and CloudCheckr resetpassword are delivered by the consumer too", async () => {
    const before = (await outbox("alice@localhost")).length;
    expect((await request(w, "POST", "/v1.0/auth/usernameRequest", { email: "alice@localhost" })).status).toBe(200);
    expect((await newMail("alice@localhost", before)).subject).toMatch(/^Your username/);
    expect((await request(w, "POST", "/v1/auth/resetpassword", { email_address: "alice@localhost" })).status).toBe(200);
    expect((await newMail("alice@localhost", before + 1)).text).toMatch(/Reset token: \S+/);
  });

  it("Sentinel passwordReset with Host: attacker.example mails a link on the tenant's own hostname", async () => {
    const before = (await outbox("alice@localhost")).length;
    const r = await withHost("POST", "/v1.0/auth/passwordReset", "attacker.example", { username: w.demo.user.username });
    expect(r.status).toBe(200);
    const mail = await newMail("alice@localhost", before);
    const link = /https?:\/\/\S+/.exec(mail.text)![0];
    expect(link).not.toContain("attacker.example");
    // The demo tenant's hostnames are localhost (bound first: its primary) and 127.0.0.1.
    expect(new URL(link).hostname).toBe(w.demo.hostnames[0]);
  });

  it("discovery's jwks_uri with Host: attacker.example names the tenant's hostname", async () => {
    const r = await withHost("GET", "/.well-known/openid-configuration", "attacker.example");
    expect(r.status).toBe(200);
    expect(String(r.body.jwks_uri)).not.toContain("attacker.example");
    expect(new URL(String(r.body.jwks_uri)).hostname).toBe(w.demo.hostnames[0]);
  });
});

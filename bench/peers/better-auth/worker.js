// better-auth's email-and-password sign-in on Workers, set up as its documentation does:
// better-auth.com/docs/installation (betterAuth with `emailAndPassword: { enabled: true }`),
// better-auth.com/docs/guides/cloudflare (nodejs_compat; the secret and URL from the environment
// through `cloudflare:workers`; the client address from CF-Connecting-IP) and
// better-auth.com/docs/integrations/hono (the handler mounted on /api/auth/*). The D1 binding is
// passed as `database`: better-auth's Kysely adapter recognises a D1 binding and uses its own D1
// dialect (@better-auth/kysely-adapter). Nothing is tuned: no cookie cache, no secondary storage.
//
// Besides better-auth, two benchmark routes (neither is part of better-auth):
//   POST /bench/scrypt  exactly one derivation of better-auth's password hash through its own
//                       verifyPassword (better-auth/crypto: scrypt N=16384, r=16, p=1, 64 bytes,
//                       node:crypto in workerd): the yardstick, as our POST /dev/pbkdf2.
//   GET  /ping          a bare JSON answer (the peer's own floor).
import { betterAuth } from "better-auth";
import { hashPassword, verifyPassword } from "better-auth/crypto";
import { env } from "cloudflare:workers";
import { Hono } from "hono";

export const auth = betterAuth({
  database: env.DB,
  secret: env.BETTER_AUTH_SECRET,
  baseURL: env.BETTER_AUTH_URL,
  emailAndPassword: { enabled: true },
  advanced: { ipAddress: { ipAddressHeaders: ["cf-connecting-ip"] } },
});

let yardstick = null; // { password, hash } made once per isolate

const app = new Hono();
app.get("/ping", (c) => c.json({ ok: true }));
app.post("/bench/scrypt", async (c) => {
  yardstick ??= await (async () => {
    const password = crypto.randomUUID();
    return { password, hash: await hashPassword(password) };
  })();
  return c.json({ ok: await verifyPassword({ hash: yardstick.hash, password: yardstick.password }) });
});
app.on(["POST", "GET"], "/api/auth/*", (c) => auth.handler(c.req.raw));

export default app;

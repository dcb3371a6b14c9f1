// OpenAuth's password issuer, written as Cloudflare's OpenAuth template writes it
// (cloudflare/templates, openauth-template/src/index.ts; openauth.js.org/docs/issuer): the issuer
// is built per request from the bindings, storage is CloudflareStorage on KV, and `success`
// upserts the user by email in D1 and puts its id in the subject. Only the password provider is
// configured (the template also has Google and email-code providers; the benchmark measures
// password login). Nothing in the issuer is tuned.
//
// Besides the issuer, three benchmark routes under /bench/ (none is part of OpenAuth):
//   POST /bench/seed    {users:[{email,password}]}: stores each password the way the password
//                       provider's registration does (its ScryptHasher, its Storage key
//                       ["email", email, "password"]), so users need no e-mailed code.
//   POST /bench/scrypt  exactly one derivation of the provider's default hasher (ScryptHasher:
//                       N=16384, r=8, p=1, 32 bytes, node:crypto scrypt) through its verify():
//                       the yardstick a login is measured against, as our POST /dev/pbkdf2.
//   GET  /bench/verify  Authorization: Bearer <access token>: what a resource server using
//                       OpenAuth does, its client's verify() (openauth.js.org/docs/client):
//                       JWKS fetched once per isolate and cached, ES256 checked with jose.
//   GET  /ping          a bare JSON answer (the peer's own floor).
import { issuer } from "@openauthjs/openauth";
import { createClient } from "@openauthjs/openauth/client";
import { PasswordProvider, ScryptHasher } from "@openauthjs/openauth/provider/password";
import { CloudflareStorage } from "@openauthjs/openauth/storage/cloudflare";
import { Storage } from "@openauthjs/openauth/storage/storage";
import { createSubjects } from "@openauthjs/openauth/subject";
import { PasswordUI } from "@openauthjs/openauth/ui/password";
import { object, string } from "valibot";

const subjects = createSubjects({
  user: object({
    id: string(),
  }),
});

function makeIssuer(env) {
  return issuer({
    storage: CloudflareStorage({ namespace: env.AUTH_STORAGE }),
    subjects,
    providers: {
      password: PasswordProvider(
        PasswordUI({
          sendCode: async (email, code) => {
            console.log(`Sending code ${code} to ${email}`);
          },
        }),
      ),
    },
    success: async (ctx, value) => {
      return ctx.subject("user", { id: await getOrCreateUser(env, value.email) });
    },
  });
}

async function getOrCreateUser(env, email) {
  const result = await env.AUTH_DB.prepare(
    `INSERT INTO user (email) VALUES (?) ON CONFLICT (email) DO UPDATE SET email = email RETURNING id;`,
  )
    .bind(email)
    .first();
  if (!result) throw new Error(`Unable to process user: ${email}`);
  return result.id;
}

const hasher = ScryptHasher();
let yardstick = null; // { password, hash } made once per isolate
let client = null; // the resource server's OpenAuth client, one per isolate

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/ping") return Response.json({ ok: true });
    if (url.pathname === "/callback") return Response.json({ params: Object.fromEntries(url.searchParams) });
    if (url.pathname === "/bench/seed" && request.method === "POST") {
      const { users } = await request.json();
      const storage = CloudflareStorage({ namespace: env.AUTH_STORAGE });
      for (const u of users) await Storage.set(storage, ["email", u.email.toLowerCase(), "password"], await hasher.hash(u.password));
      return Response.json({ seeded: users.length });
    }
    if (url.pathname === "/bench/scrypt" && request.method === "POST") {
      yardstick ??= await (async () => {
        const password = crypto.randomUUID();
        return { password, hash: await hasher.hash(password) };
      })();
      const ok = await hasher.verify(yardstick.password, yardstick.hash);
      return Response.json({ ok });
    }
    if (url.pathname === "/bench/verify") {
      const app = makeIssuer(env);
      // In-process fetch to the issuer: a separate client Worker would fetch the same JWKS
      // once over the network and cache it the same way.
      client ??= createClient({ clientID: "bench", issuer: url.origin, fetch: (input, init) => app.fetch(new Request(input, init), env, ctx) });
      const token = (request.headers.get("authorization") ?? "").replace(/^Bearer /i, "");
      const verified = await client.verify(subjects, token);
      if (verified.err) return Response.json({ error: verified.err.name ?? "invalid" }, { status: 401 });
      return Response.json({ subject: verified.subject });
    }
    return makeIssuer(env).fetch(request, env, ctx);
  },
};

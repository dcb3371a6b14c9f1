// Starting the Worker locally with wrangler, shared by `npm run dev` (scripts/dev.mjs), the
// end-to-end harness (test/e2e/harness.ts) and the benchmark (bench/run.mjs), so all three
// start, migrate and seed it the same way.
import { spawn } from "node:child_process";
import { createECDH, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomTotpSecret } from "./totp.mjs";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const GUARDIAN = join(ROOT, "scripts", "lib", "guardian.mjs");

/**
 * Environment for every wrangler child: no telemetry and no fetch of Cloudflare's `Request.cf`
 * sample (local runs need no network at all; the Worker sees a placeholder `cf` object).
 */
export function wranglerEnv(extra = {}) {
  return { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", ...extra };
}

/** A random secret of `bytes` bytes, base64url (43 characters for 32 bytes). */
export function randomSecret(bytes = 32) {
  return randomBytes(bytes).toString("base64url");
}

/** Whether nothing listens on `port` at 127.0.0.1 right now. */
function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/**
 * A TCP port free on 127.0.0.1, chosen at random below Linux's ephemeral range (32768-60999).
 * Asking the OS for port 0 would hand out an ephemeral port, which any outgoing connection of a
 * parallel test (workerd, wrangler, fetch) may take between our check and wrangler's bind: that
 * race failed CI once. Callers still retry on "Address already in use".
 */
export async function freePort() {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (await portIsFree(port)) return port;
  }
  throw new Error("no free port found in 20000-31999");
}

/**
 * Runs wrangler to completion; resolves with its output, rejects with it on a non-zero exit.
 * @param {string[]} args
 * @param {{ quiet?: boolean, env?: Record<string, string> }} [opts]
 */
export function runWrangler(args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRANGLER, ...args], { cwd: ROOT, env: wranglerEnv({ CI: "true", ...(opts.env ?? {}) }), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const collect = (d) => {
      out += d;
      if (!opts.quiet) process.stdout.write(d);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`wrangler ${args.join(" ")} exited with ${code}\n${out}`))));
  });
}

/**
 * Applies the D1 migrations to the local database (wrangler's own migration runner, so local
 * and remote databases are migrated by the same tool).
 * @param {{ persistTo?: string, quiet?: boolean }} [opts]
 */
export function applyLocalMigrations(opts = {}) {
  return runWrangler(["d1", "migrations", "apply", "DB", "--local", ...(opts.persistTo ? ["--persist-to", opts.persistTo] : [])], { quiet: opts.quiet ?? false });
}

const live = new Set();
const scratchDirs = new Set();
process.once("exit", () => {
  for (const child of live) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts `wrangler dev`. Output goes to `onOutput` (default: this process's stdout/stderr).
 * The child gets its own process group, so stop() ends wrangler and its workerd together.
 * `port` and `ip` are added only when given (`npm run dev` passes the user's own arguments).
 * A guardian process (guardian.mjs) ends the group when any of `owners` (default: this
 * process) is gone, even if it was killed outright and ran no exit handler.
 * @param {{ port?: number, ip?: string, persistTo?: string, vars?: Record<string, string>, args?: string[], onOutput?: (chunk: string) => void, inheritStdin?: boolean, owners?: number[] }} opts
 */
export function spawnWranglerDev(opts) {
  const args = [WRANGLER, "dev"];
  if (opts.port !== undefined) args.push("--port", String(opts.port));
  if (opts.ip !== undefined) args.push("--ip", opts.ip);
  if (opts.persistTo) args.push("--persist-to", opts.persistTo);
  for (const [k, v] of Object.entries(opts.vars ?? {})) args.push("--var", `${k}:${v}`);
  args.push(...(opts.args ?? []));
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: wranglerEnv(opts.inheritStdin ? {} : { CI: "true" }),
    stdio: [opts.inheritStdin ? "inherit" : "ignore", "pipe", "pipe"],
    detached: true,
  });
  // The child has its own process group (so stop() can end workerd too); that also means it
  // would outlive this process if it died without stop(): end it on exit regardless.
  live.add(child);
  child.once("exit", () => live.delete(child));
  const owners = opts.owners ?? [process.pid];
  spawn(process.execPath, [GUARDIAN, String(child.pid), ...owners.map(String)], { detached: true, stdio: "ignore" }).unref();
  const sink = opts.onOutput ?? ((d) => process.stdout.write(d));
  child.stdout.on("data", (d) => sink(String(d)));
  child.stderr.on("data", (d) => sink(String(d)));
  return child;
}

/** Ends a child started by spawnWranglerDev (its whole process group) and waits for it. */
export function stopChild(child, timeoutMs = 5000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

/**
 * Polls `GET <url>/ping` until the Worker answers, the child exits, `failed()` says so (a
 * build error: wrangler dev then waits for a file change), or the timeout passes.
 * @param {string} url
 * @param {import("node:child_process").ChildProcess | null} child
 */
export async function waitUntilUp(url, child, timeoutMs = 90_000, failed = () => false) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child?.once("exit", () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error("wrangler dev exited before the Worker answered");
    if (failed()) throw new Error("wrangler dev could not build the Worker");
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the Worker did not answer at ${url} within ${timeoutMs} ms`);
}

/** Fresh demo credentials: random passwords (policy-compliant) and a client secret. */
export function generateCredentials() {
  return {
    passwords: { admin: randomSecret(18), user: randomSecret(18), newbie: randomSecret(18) },
    clientSecret: randomSecret(32),
    authn: generateAuthnCredentials(),
    // The demo OIDC confidential client's secret (256 bits, as the provider's own secrets).
    oidcClientSecret: randomSecret(32),
    // The demo TOTP user (bob): a password and the TOTP secret his authenticator would hold.
    totp: { password: randomSecret(18), secret: randomTotpSecret() },
  };
}

/**
 * The Authn demo caller: a license key (registered by the seed as the demo tenant's system
 * license) and a caller key pair in the envelope's wire encoding (base64 32-byte scalar;
 * base64 64-byte point without 0x04). Made with Node's own crypto, independent of the Worker.
 */
export function generateAuthnCredentials(curve = "secp256k1") {
  const ecdh = createECDH(curve === "P-256" ? "prime256v1" : curve);
  ecdh.generateKeys();
  return {
    licenseKey: randomBytes(32).toString("hex"),
    privateKey: ecdh.getPrivateKey().toString("base64"),
    publicKey: ecdh.getPublicKey().subarray(1).toString("base64"),
  };
}

/**
 * Seeds the demo tenant through the dev-only route (POST /dev/seed), which uses the real core
 * code. Idempotent: an existing seed answers its ids with `created: false`.
 * @param {string} url
 * @param {{ passwords: { admin: string, user: string, newbie: string }, clientSecret: string, oidcClientSecret?: string }} creds
 * @param {{ settings?: Record<string, unknown>, extraUsers?: { username: string, password: string }[] }} [extra]
 */
export async function seedDemo(url, creds, extra = {}) {
  const res = await fetch(`${url}/dev/seed`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ passwords: creds.passwords, clientSecret: creds.clientSecret, ...(creds.authn ? { authn: { licenseKey: creds.authn.licenseKey } } : {}), ...(creds.oidcClientSecret ? { oidc: { clientSecret: creds.oidcClientSecret } } : {}), ...(creds.totp ? { totp: creds.totp } : {}), ...extra }),
  });
  const body = await res.json().catch(() => ({}));
  if (res.status !== 200 && res.status !== 201) throw new Error(`POST /dev/seed answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

/**
 * The credentials file's content: the seed's ids with the secrets the caller generated.
 * `authn` is reserved for the Authn surface's seed (license, key pair).
 */
export function credentialsDocument(url, seed, creds) {
  const u = seed.users;
  return {
    url,
    tenantId: seed.tenant.id,
    communityId: seed.community.id,
    hostnames: seed.hostnames,
    admin: { username: u.admin.username, password: creds.passwords.admin, uid: u.admin.uid, userId: u.admin.id, roles: u.admin.roles },
    user: { username: u.user.username, password: creds.passwords.user, uid: u.user.uid, userId: u.user.id, roles: u.user.roles },
    newPasswordRequired: { username: u.newbie.username, password: creds.passwords.newbie, uid: u.newbie.uid, userId: u.newbie.id, roles: u.newbie.roles },
    client: { clientId: seed.client.clientId, clientSecret: creds.clientSecret, grants: seed.client.grants, roles: seed.client.roles },
    // Reserved for the Authn helper: license key, service public key, ...
    authn: seed.authn ? { ...seed.authn, ...(creds.authn ?? {}) } : {},
    ...(u.totp && creds.totp ? { totpUser: { username: u.totp.username, password: creds.totp.password, totpSecret: creds.totp.secret, uid: u.totp.uid, userId: u.totp.id, roles: u.totp.roles } } : {}),
    ...(seed.oidc ? { oidc: oidcCredentials(url, seed.oidc, creds.oidcClientSecret) } : {}),
    // The community's SAML IdP and the demo SP registered with it (src/api/dev/seed-saml.ts).
    ...(seed.saml ? { saml: { idpMetadataUrl: `${url}${seed.saml.metadataPath}`, ssoUrl: `${url}${seed.saml.ssoPath}`, idpInitUrl: `${url}${seed.saml.idpInitPath}`, sp: { entityId: seed.saml.sp.entityId, acsUrl: seed.saml.sp.acsUrl }, ...(seed.saml.wsfed ? { wsfed: { endpoint: `${url}${seed.saml.wsfed.endpointPath}`, realm: seed.saml.wsfed.realm, reply: seed.saml.wsfed.reply } } : {}) } } : {}),
  };
}

/**
 * The `oidc` part of the credentials file: the community's issuer (discovery is at
 * `<issuer>/.well-known/openid-configuration`) and the demo clients, the confidential one with
 * the secret the caller generated. `url` is the tenant's origin as the caller reaches it
 * (localhost and 127.0.0.1 are both bound to the demo tenant, so the issuer is on that host).
 */
function oidcCredentials(url, oidc, clientSecret) {
  const entry = (c, secret) => ({
    client_id: c.clientId,
    ...(secret ? { client_secret: secret } : {}),
    redirect_uri: c.redirectUri,
    post_logout_redirect_uri: c.postLogoutRedirectUri,
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    scope: c.scope,
  });
  return {
    issuer: `${url}${oidc.issuerPath}`,
    clients: [entry(oidc.clients.confidential, clientSecret), entry(oidc.clients.public, null)],
  };
}

/** The vars every locally started Worker needs (secrets included: local runs only). */
export function localVars() {
  return {
    ENVIRONMENT: "development",
    KEY_ENCRYPTION_SECRET: randomSecret(32),
    PASSWORD_PEPPER: randomSecret(32),
    BOOTSTRAP_SYSTEM_LICENSE: randomSecret(32),
    DEFAULT_TENANT: "demo",
  };
}

/**
 * Starts a throwaway Worker: a temporary persist dir, fresh secrets passed with `--var`, the
 * migrations applied into it, the demo tenant seeded with fresh credentials. `stop()` ends
 * wrangler and deletes the directory. Used by the e2e tests and the benchmark.
 * @param {{ vars?: Record<string, string>, settings?: Record<string, unknown>, extraUsers?: { username: string, password: string }[], log?: boolean }} [opts]
 */
export async function startLocalWorker(opts = {}) {
  const persistTo = await mkdtemp(join(tmpdir(), "edge-auth-e2e-"));
  scratchDirs.add(persistTo);
  let output = "";
  const onOutput = (d) => {
    output += d;
    if (output.length > 200_000) output = output.slice(-100_000);
    if (opts.log) process.stdout.write(d);
  };
  let child = null;
  const stop = async () => {
    if (child) await stopChild(child);
    await rm(persistTo, { recursive: true, force: true });
    scratchDirs.delete(persistTo);
  };
  try {
    await applyLocalMigrations({ persistTo, quiet: true });
    let port = await freePort();
    let inspectorPort = await freePort();
    let url = `http://127.0.0.1:${port}`;
    const vars = { ...localVars(), ...(opts.vars ?? {}) };
    const launch = async () => {
      const mark = output.length;
      child = spawnWranglerDev({
        port,
        ip: "127.0.0.1",
        persistTo,
        vars,
        args: ["--inspector-port", String(inspectorPort), "--show-interactive-dev-session=false", "--log-level", "warn"],
        onOutput,
      });
      try {
        await waitUntilUp(url, child, 90_000, () => /Build failed/.test(output));
        return true;
      } catch (e) {
        if (!/Address already in use/.test(output.slice(mark))) throw e;
        await stopChild(child);
        child = null;
        return false;
      }
    };
    // Another parallel test may take a port between freePort() and wrangler's bind: new ports.
    for (let attempt = 1; !(await launch()); attempt++) {
      if (attempt >= 5) throw new Error("wrangler dev found its ports taken five times");
      port = await freePort();
      inspectorPort = await freePort();
      url = `http://127.0.0.1:${port}`;
    }
    const creds = generateCredentials();
    const seed = await seedDemo(url, creds, { ...(opts.settings ? { settings: opts.settings } : {}), ...(opts.extraUsers ? { extraUsers: opts.extraUsers } : {}) });
    /** Restarts wrangler on the same port, data and secrets (fresh isolates, empty caches). */
    const restart = async () => {
      if (child) await stopChild(child);
      // Same port (the caller holds the URL); only the inspector port may move.
      for (let attempt = 1; !(await launch()); attempt++) {
        if (attempt >= 5) throw new Error("wrangler dev could not get its port back after a restart");
        inspectorPort = await freePort();
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    // inspectorPort: wrangler's DevTools proxy for the Worker (bench/cpu-profile.mjs profiles through it).
    // pid: wrangler's process, whose process group holds its workerd (bench/lib/process-cpu.mjs).
    return { url, persistTo, demo: credentialsDocument(url, seed, creds), seed, stop, restart, output: () => output, inspectorPort: () => inspectorPort, pid: () => child?.pid ?? null };
  } catch (e) {
    await stop();
    throw new Error(`${e instanceof Error ? e.message : e}\n--- wrangler output ---\n${output.slice(-4000)}`);
  }
}

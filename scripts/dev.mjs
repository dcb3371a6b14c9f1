#!/usr/bin/env node
// `npm run dev [-- wrangler dev options]`: local development with no account and no network.
//  1. writes .dev.vars (random local secrets, ENVIRONMENT=development) if it is missing;
//  2. applies the D1 migrations to the local database;
//  3. starts `wrangler dev` (port 8787 unless `--port N` is passed; every argument after `--`
//     goes to wrangler dev unchanged);
//  4. seeds the demo tenant through the dev-only route POST /dev/seed (idempotent), keeps the
//     credentials in .demo-credentials.json (git-ignored) and prints them;
//  5. then streams wrangler's output until you stop it.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, applyLocalMigrations, credentialsDocument, generateAuthnCredentials, generateCredentials, randomSecret, seedDemo, spawnWranglerDev, stopChild, waitUntilUp } from "./lib/worker.mjs";
import { randomTotpSecret } from "./lib/totp.mjs";
import { buildVersion } from "./version.mjs";

process.env.WRANGLER_SEND_METRICS = "false";
const DEV_VARS = join(ROOT, ".dev.vars");
const CREDENTIALS = join(ROOT, ".demo-credentials.json");
const DEMO_TENANT = "demo";

const args = process.argv.slice(2);
/** The value of a `--name value` or `--name=value` argument. */
function option(name) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}
const port = Number(option("--port") ?? 8787);
const persistTo = option("--persist-to");
const portArgs = option("--port") === undefined ? ["--port", String(port)] : [];

function ensureDevVars() {
  if (existsSync(DEV_VARS)) {
    const text = readFileSync(DEV_VARS, "utf8");
    if (!/^ENVIRONMENT\s*=\s*"?development"?\s*$/m.test(text)) {
      console.warn("! .dev.vars does not set ENVIRONMENT=development: the dev-only seed route will be absent.");
    }
    return;
  }
  const lines = [
    "# Local secrets for `wrangler dev`, written by scripts/dev.mjs. Never commit this file.",
    "ENVIRONMENT=development",
    `KEY_ENCRYPTION_SECRET=${randomSecret(32)}`,
    `PASSWORD_PEPPER=${randomSecret(32)}`,
    `BOOTSTRAP_SYSTEM_LICENSE=${randomSecret(32)}`,
    `DEFAULT_TENANT=${DEMO_TENANT}`,
    "",
  ];
  writeFileSync(DEV_VARS, lines.join("\n"), { mode: 0o600 });
  console.log("• wrote .dev.vars (random local secrets)");
}

function readCredentials() {
  if (!existsSync(CREDENTIALS)) return null;
  try {
    const doc = JSON.parse(readFileSync(CREDENTIALS, "utf8"));
    return {
      passwords: { admin: doc.admin.password, user: doc.user.password, newbie: doc.newPasswordRequired.password },
      clientSecret: doc.client.clientSecret,
      // Authn demo caller (license key and key pair); generated afresh when an older file lacks it.
      authn: doc.authn?.licenseKey ? { licenseKey: doc.authn.licenseKey, privateKey: doc.authn.privateKey, publicKey: doc.authn.publicKey } : generateAuthnCredentials(),
      // The demo OIDC confidential client's secret; generated afresh when an older file lacks it.
      oidcClientSecret: doc.oidc?.clients?.find((c) => c.client_secret)?.client_secret ?? randomSecret(32),
      savedOidc: Boolean(doc.oidc),
      // The demo TOTP user; generated afresh when an older file lacks it.
      totp: doc.totpUser ? { password: doc.totpUser.password, secret: doc.totpUser.totpSecret } : { password: randomSecret(18), secret: randomTotpSecret() },
    };
  } catch {
    console.warn("! .demo-credentials.json is unreadable; ignoring it");
    return null;
  }
}

function banner(doc, created) {
  const line = "─".repeat(72);
  const rows = [
    ["tenant / community", `${doc.tenantId} / ${doc.communityId}  (hosts: ${doc.hostnames.join(", ")})`],
    ["admin", `${doc.admin.username}  ${doc.admin.password}  uid ${doc.admin.uid}  roles ${doc.admin.roles.join(",")}`],
    ["user", `${doc.user.username}  ${doc.user.password}  uid ${doc.user.uid}`],
    ...(doc.totpUser ? [["user with TOTP", `${doc.totpUser.username}  ${doc.totpUser.password}  TOTP secret ${doc.totpUser.totpSecret}`]] : []),
    ["must change password", `${doc.newPasswordRequired.username}  ${doc.newPasswordRequired.password}  uid ${doc.newPasswordRequired.uid}`],
    ["OAuth client", `${doc.client.clientId}  ${doc.client.clientSecret}  (client_credentials)`],
    ...(doc.oidc
      ? [
          ["OIDC issuer", doc.oidc.issuer],
          ...doc.oidc.clients.map((c) => [c.client_secret ? "OIDC confidential" : "OIDC public (PKCE)", `${c.client_id}  ${c.client_secret ?? ""}${c.client_secret ? "  " : ""}redirect ${c.redirect_uri} (any port)`]),
        ]
      : []),
    ...(doc.authn?.licenseKey ? [["Authn license", `${doc.authn.licenseKey}  (${doc.authn.authLevel}; caller keys in the file; npm run admin -- --demo ...)`]] : []),
  ];
  console.log(`\n${line}\n Demo tenant ${created ? "seeded" : "already seeded (data and credentials kept)"}: ${doc.url}\n${line}`);
  for (const [k, v] of rows) console.log(` ${k.padEnd(22)} ${v}`);
  console.log(`${line}\n Saved in .demo-credentials.json. Sign in with the demo OIDC client: README "Sign in with OpenID Connect". Try:\n   curl -s ${doc.url}/v1/login -H 'content-type: application/json' \\\n     -d '{"username":"${doc.user.username}","password":"${doc.user.password}"}'\n${line}\n`);
}

/**
 * The npm process when this runs as `npm run dev`: npm starts the script through a shell, so
 * npm is our grandparent, and a killed npm leaves that shell (and us) running. Linux only
 * (/proc); elsewhere the parent is watched alone.
 */
function npmPid() {
  if (!process.env.npm_lifecycle_event) return [];
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ")".
    const stat = readFileSync(`/proc/${process.ppid}/stat`, "utf8");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    return Number.isInteger(ppid) && ppid > 1 ? [ppid] : [];
  } catch {
    return [];
  }
}

async function main() {
  ensureDevVars();
  console.log("• applying D1 migrations to the local database");
  await applyLocalMigrations({ ...(persistTo ? { persistTo } : {}), quiet: true });

  // Hold wrangler's output until the demo is seeded, so the credentials are not buried in it.
  let held = [];
  const child = spawnWranglerDev({
    // Healthz version stamp (scripts/version.mjs).
    vars: { BUILD_VERSION: buildVersion() },
    args: [...portArgs, ...args],
    // `npm run dev` ended by a signal npm does not pass on (or killed outright) must not leave
    // wrangler serving the port: the guardian watches npm (our parent) as well as this process.
    owners: [process.pid, process.ppid, ...npmPid()],
    onOutput: (d) => {
      if (!held) return process.stdout.write(d);
      held.push(d);
      // A build error: show it now (wrangler keeps watching, and comes up once it is fixed).
      if (/\[ERROR\]/.test(d)) flush();
    },
  });
  const flush = () => {
    if (held) for (const d of held) process.stdout.write(d);
    held = null;
  };
  let stopping = false;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    flush();
    await stopChild(child);
    process.exit(code);
  };
  process.on("SIGINT", () => stop(130));
  process.on("SIGTERM", () => stop(143));
  process.on("SIGHUP", () => stop(129));
  child.on("exit", (code) => {
    flush();
    if (!stopping) process.exit(code ?? 1);
  });

  const url = `http://localhost:${port}`;
  try {
    // Long: after a build error (shown above) wrangler comes up once the code is fixed.
    await waitUntilUp(url, child, 600_000);
    const saved = readCredentials();
    const creds = saved ?? generateCredentials();
    const seed = await seedDemo(url, creds);
    flush();
    if (!seed.created && !saved) {
      console.warn(
        "\n! The demo tenant exists from an earlier run but .demo-credentials.json is missing, so its\n" +
          "  passwords are unknown. To seed afresh, stop this, delete .wrangler/state and run npm run dev again.\n",
      );
      return;
    }
    if (seed.oidc && !seed.oidc.clients.confidential.created && saved && !saved.savedOidc) {
      console.warn(
        "\n! The demo OIDC client exists from an earlier run but .demo-credentials.json lacks its secret,\n" +
          "  so the secret written below is not the stored one. To seed afresh, delete .wrangler/state.\n",
      );
    }
    const doc = credentialsDocument(url, seed, creds);
    writeFileSync(CREDENTIALS, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
    banner(doc, seed.created);
  } catch (e) {
    flush();
    console.error(`\n! ${e instanceof Error ? e.message : e}`);
    await stop(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

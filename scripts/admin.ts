#!/usr/bin/env -S npx tsx
// `npm run admin -- <command> [options]`: operate an Authn deployment through its management
// API and call any Authn endpoint with the ECDSA envelope (src/client/authn-client.ts).
// See `npm run admin -- help` and docs/api/authn.md ("Management API", "CLI").
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AuthnClient, type AuthnAnswer, type HostnameBindingAnswer } from "../src/client/authn-client";
import { parseCurveName, type EnvelopeCurve } from "../src/crypto/envelope";

const HELP = `Usage: npm run admin -- <command> [options]

Commands
  keys [--curve secp256k1|P-256]            generate a caller key pair (base64 wire encoding)
  health                                    GET /authn/healthz
  create-tenant --name N [--id T] [--community-name C] [--community-id CID] [--host H]...
  create-community --tenant T --name N [--id CID]
  create-license --level L (--tenant T | --deployment) [--community CID]... [--name N] [--expires-days D]
                                            the license key is printed once; only its hash is stored
  list-licenses [--tenant T]                a tenant's licenses, or the deployment-wide ones
  disable-license --id ID | enable-license --id ID
  tenant-settings <tenantId> [--patch JSON]  show a tenant's effective settings (secrets as "(present)"), or change
                                            them with a JSON merge patch (RFC 7396: null deletes a key), e.g.
                                            --patch '{"cors": {"allowedOrigins": ["https://app.example.com"]}}'
  bind-hostname <tenantId> <hostname> [--community CID] [--ssl-method http|txt]
                                            bind a custom domain (409 when another tenant has it); with
                                            Cloudflare for SaaS it is pending until active: the records the
                                            tenant publishes and the statuses are shown
  hostname-status <tenantId> <hostname>     a binding's state; with Cloudflare for SaaS, asks Cloudflare again
                                            and maps the hostname once it and its certificate are active
  unbind-hostname <tenantId> <hostname>     (with Cloudflare for SaaS, deletes its custom hostname there too)
  call <METHOD> <PATH> [--data JSON]        any Authn endpoint, e.g. call POST /authn/tenant/t/community/c/authenticate --data '{...}'

Connection (options or environment)
  --url URL            AUTHN_URL            default http://localhost:8787
  --license KEY        AUTHN_LICENSE        the license key (management: a deployment-wide system license,
                                            e.g. the BOOTSTRAP_SYSTEM_LICENSE secret)
  --private-key K      AUTHN_PRIVATE_KEY    caller key pair; a fresh one per run when omitted
  --public-key K       AUTHN_PUBLIC_KEY
  --curve C            AUTHN_CURVE          default: the deployment's EC_CURVE_NAME (GET /authn/environment)
  --demo                                    the npm run dev deployment: url and caller keys from .demo-credentials.json;
                                            management with .dev.vars' BOOTSTRAP_SYSTEM_LICENSE, call with the demo license
  --header 'Name: value'                    extra header (repeatable), e.g. x-forwarded-for from a service`;

type Opts = { _: string[]; [k: string]: string | string[] | boolean };
const MULTI = new Set(["host", "community", "header"]);
/** Flags that never take a value (so `--demo health` is the flag and then the command). */
const FLAGS = new Set(["demo", "deployment", "help"]);

function parseArgs(argv: string[]): Opts {
  const o: Opts = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) {
      o._.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const key = a.slice(2, eq === -1 ? undefined : eq);
    let value: string | boolean;
    if (eq !== -1) value = a.slice(eq + 1);
    else if (FLAGS.has(key)) value = true;
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("--")) value = argv[++i]!;
    else value = true;
    if (MULTI.has(key)) o[key] = [...((o[key] as string[] | undefined) ?? []), String(value)];
    else o[key] = value;
  }
  return o;
}

const str = (o: Opts, k: string): string | undefined => (typeof o[k] === "string" ? (o[k] as string) : undefined);
const list = (o: Opts, k: string): string[] => (Array.isArray(o[k]) ? (o[k] as string[]) : []);

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}

function need(o: Opts, k: string): string {
  const v = str(o, k);
  if (!v) fail(`--${k} is required (npm run admin -- help)`);
  return v;
}

/**
 * `--demo`: the local deployment of `npm run dev`. Management commands use the
 * BOOTSTRAP_SYSTEM_LICENSE of .dev.vars (deployment-wide); `call` uses the demo tenant's
 * license and caller key pair from .demo-credentials.json.
 */
function demoCredentials(forCall: boolean): { url?: string; license?: string; privateKey?: string; publicKey?: string } {
  const file = join(process.cwd(), ".demo-credentials.json");
  if (!existsSync(file)) fail(".demo-credentials.json not found: run `npm run dev` first");
  const doc = JSON.parse(readFileSync(file, "utf8")) as { url?: string; authn?: { licenseKey?: string; privateKey?: string; publicKey?: string } };
  const vars = existsSync(join(process.cwd(), ".dev.vars")) ? readFileSync(join(process.cwd(), ".dev.vars"), "utf8") : "";
  const bootstrap = /^BOOTSTRAP_SYSTEM_LICENSE\s*=\s*"?([^"\n]+)"?\s*$/m.exec(vars)?.[1];
  return {
    url: doc.url,
    license: forCall ? doc.authn?.licenseKey : (bootstrap ?? doc.authn?.licenseKey),
    ...(doc.authn?.privateKey && doc.authn.publicKey ? { privateKey: doc.authn.privateKey, publicKey: doc.authn.publicKey } : {}),
  };
}

function client(o: Opts, forCall = false): AuthnClient {
  const demo = o.demo ? demoCredentials(forCall) : {};
  const url = str(o, "url") ?? process.env.AUTHN_URL ?? demo.url ?? "http://localhost:8787";
  const licenseKey = str(o, "license") ?? process.env.AUTHN_LICENSE ?? demo.license;
  if (!licenseKey) fail("a license key is required: --license, AUTHN_LICENSE or --demo");
  const privateKey = str(o, "private-key") ?? process.env.AUTHN_PRIVATE_KEY ?? demo.privateKey;
  const publicKey = str(o, "public-key") ?? process.env.AUTHN_PUBLIC_KEY ?? demo.publicKey;
  const curveName = str(o, "curve") ?? process.env.AUTHN_CURVE;
  const curve = curveName ? (parseCurveName(curveName) ?? fail(`unknown curve ${curveName}`)) : undefined;
  const headers: Record<string, string> = {};
  for (const h of list(o, "header")) {
    const i = h.indexOf(":");
    if (i < 1) fail(`--header must be 'Name: value', not ${h}`);
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  return new AuthnClient({
    baseUrl: url,
    licenseKey,
    ...(privateKey && publicKey ? { privateKey, publicKey } : {}),
    ...(curve ? { curve } : {}),
    appid: "edge-auth-admin-cli",
    headers,
  });
}

function print(answer: AuthnAnswer): void {
  const out: Record<string, unknown> = { status: answer.status, data: answer.data };
  if (answer.signatureValid !== undefined) out.signatureValid = answer.signatureValid;
  console.log(JSON.stringify(out, null, 2));
  if (!answer.ok) process.exit(1);
}

/**
 * A binding in words, on stderr (stdout stays the JSON answer): its state and, while it is
 * pending at Cloudflare for SaaS, what the tenant must publish (README "Custom domains").
 */
function describeBinding(answer: AuthnAnswer<HostnameBindingAnswer>): void {
  if (!answer.ok) return;
  const { binding, mapped, customHostname: ch } = answer.data;
  if (!ch) {
    console.error(`${binding.hostname}: mapped to ${binding.tenantId}/${binding.communityId} (route it to the Worker yourself)`);
    return;
  }
  console.error(`${binding.hostname}: hostname ${ch.status}, certificate ${ch.sslStatus ?? "unknown"}; ${mapped ? `mapped to ${binding.tenantId}/${binding.communityId}` : "not mapped yet"}`);
  if (!mapped && ch.records.length > 0) {
    console.error("publish (ownership: the TXT record or the HTTP token; certificate: the record of its method):");
    for (const r of ch.records) console.error(`  ${r.purpose.padEnd(11)} ${r.type.padEnd(5)} ${r.name}  ${r.type === "CNAME" ? "->" : "="}  ${r.value}`);
  }
  for (const e of ch.errors) console.error(`  cloudflare: ${e}`);
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const [cmd, ...rest] = o._;
  switch (cmd) {
    case undefined:
    case "help":
      console.log(HELP);
      return;
    case "keys": {
      const curve: EnvelopeCurve = parseCurveName(str(o, "curve") ?? "secp256k1") ?? fail("unknown curve");
      console.log(JSON.stringify({ curve, ...AuthnClient.generateKeys(curve) }, null, 2));
      return;
    }
    case "health": {
      const url = str(o, "url") ?? process.env.AUTHN_URL ?? (o.demo ? demoCredentials(false).url : undefined) ?? "http://localhost:8787";
      const res = await fetch(`${url.replace(/\/+$/, "")}/authn/healthz`);
      console.log(JSON.stringify({ status: res.status, data: await res.json() }, null, 2));
      if (!res.ok) process.exit(1);
      return;
    }
    case "create-tenant":
      return print(
        await client(o).createTenant({
          name: need(o, "name"),
          ...(str(o, "id") ? { tenantId: str(o, "id")! } : {}),
          communityName: str(o, "community-name") ?? "default",
          ...(str(o, "community-id") ? { communityId: str(o, "community-id")! } : {}),
          ...(list(o, "host").length ? { hostnames: list(o, "host") } : {}),
        }),
      );
    case "create-community":
      return print(await client(o).createCommunity(need(o, "tenant"), { name: need(o, "name"), ...(str(o, "id") ? { communityId: str(o, "id")! } : {}) }));
    case "create-license": {
      const deployment = o.deployment === true;
      const tenantId = deployment ? null : need(o, "tenant");
      const days = str(o, "expires-days");
      if (days !== undefined && !(Number(days) > 0)) fail("--expires-days must be a positive number");
      return print(
        await client(o).createLicense({
          tenantId,
          authLevel: need(o, "level"),
          communities: list(o, "community"),
          ...(str(o, "name") ? { name: str(o, "name")! } : {}),
          ...(days ? { expiresAt: Date.now() + Number(days) * 86_400_000 } : {}),
        }),
      );
    }
    case "list-licenses":
      return print(await client(o).listLicenses(str(o, "tenant") ?? null));
    case "disable-license":
    case "enable-license":
      return print(await client(o).setLicenseDisabled(need(o, "id"), cmd === "disable-license"));
    case "tenant-settings": {
      const [tenantId] = rest;
      if (!tenantId) fail("usage: tenant-settings <tenantId> [--patch JSON]");
      const patchText = str(o, "patch");
      if (patchText === undefined) return print(await client(o).tenantSettings(tenantId));
      let patch: unknown;
      try {
        patch = JSON.parse(patchText);
      } catch {
        fail("--patch must be JSON");
      }
      if (!patch || typeof patch !== "object" || Array.isArray(patch)) fail("--patch must be a JSON object");
      return print(await client(o).patchTenantSettings(tenantId, patch as Record<string, unknown>));
    }
    case "bind-hostname":
    case "hostname-status":
    case "unbind-hostname": {
      const [tenantId, hostname] = rest;
      if (!tenantId || !hostname) fail(`usage: ${cmd} <tenantId> <hostname>`);
      if (cmd === "unbind-hostname") return print(await client(o).unbindHostname(tenantId, hostname));
      const method = str(o, "ssl-method");
      if (method !== undefined && method !== "http" && method !== "txt") fail("--ssl-method must be http or txt");
      const answer = cmd === "hostname-status" ? await client(o).hostnameStatus(tenantId, hostname) : await client(o).bindHostname(tenantId, hostname, list(o, "community")[0], method);
      describeBinding(answer);
      return print(answer);
    }
    case "call": {
      const [method, path] = rest;
      if (!method || !path) fail("usage: call <METHOD> <PATH> [--data JSON]");
      let payload: unknown = undefined;
      const data = str(o, "data");
      if (data !== undefined) {
        try {
          payload = JSON.parse(data);
        } catch {
          fail("--data must be JSON");
        }
      }
      return print(await client(o, true).call(method.toUpperCase(), path.startsWith("/") ? path : `/${path}`, payload));
    }
    default:
      fail(`unknown command ${cmd} (npm run admin -- help)`);
  }
}

main().catch((e: unknown) => {
  console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});

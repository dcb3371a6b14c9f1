// Sets the demo tenant's userpool refresh rotation for a refresh scenario, through the Authn
// management API (PATCH /authn/manage/tenant/{id}/settings, a JSON merge patch, system
// license, envelope written with Node's crypto), then waits until a refresh answers in that
// mode: the tenant cache of another isolate may hold the old settings for up to 10 s.
import { authnSetup, decrypt, encrypt, envelopeHeaders, newCaller } from "./authn-envelope.mjs";

export async function setRefreshRotation(ctx, rotate) {
  const s = await authnSetup(ctx);
  // The management API takes a deployment-wide system license only: the run's bootstrap one.
  const licenseKey = ctx.vars?.BOOTSTRAP_SYSTEM_LICENSE;
  if (!licenseKey) throw new Error("the run passed no BOOTSTRAP_SYSTEM_LICENSE (bench/run.mjs ctx.vars)");
  const caller = newCaller(s.curve, s.servicePublicKey);
  const body = JSON.stringify({ data: encrypt(JSON.stringify({ refreshRotation: { userpool: rotate } }), caller.sharedKey) });
  const r = await ctx.fetchJson("PATCH", `/authn/manage/tenant/${ctx.demo.tenantId}/settings`, body, envelopeHeaders(caller, licenseKey));
  if (r.status !== 200) throw new Error(`settings patch answered ${r.status}: ${r.body?.data ? decrypt(r.body.data, caller.sharedKey) : JSON.stringify(r.body)}`);
  const u = ctx.benchUsers[0];
  const end = Date.now() + 15_000;
  for (;;) {
    const login = await ctx.fetchJson("POST", "/v1/login", { username: u.username, password: u.password });
    const probe = await ctx.fetchJson("POST", "/v1/token-refresh", { username: u.username, refresh_token: login.body.refresh_token });
    if (probe.status === 200 && typeof probe.body.refresh_token === "string" === rotate) return;
    if (Date.now() > end) throw new Error(`refresh rotation did not become ${rotate}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

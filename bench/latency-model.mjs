#!/usr/bin/env node
// SIMULATION - not a measurement. Where each request's latency goes (docs/edge-latency.md).
//
// For every route of every surface, the hops its handler really makes (read from src/: the route
// handlers, core/ and the stores they call), priced with published inter-region round-trip
// times, for a client in several cities whose request runs in the Worker at its nearest edge
// while the D1 primary, the KV central store, the queue and (in the first scenario) every
// Durable Object sit in eastern North America (Virginia, hint "enam").
//
//   node bench/latency-model.mjs            both scenarios, every route
//   node bench/latency-model.mjs --json     the same as JSON (for tests and tooling)
//
// Plain Node, no dependencies, no network, no Worker: it reads nothing but this file.
//
// INPUTS AND SOURCES (each figure that is not from a source is marked ASSUMPTION):
// [S1] Inter-region round trips, average ms, from the "Latency Between AWS Global Regions" table
//      (2017 measurements), as reproduced at
//      https://acomputerscientistlearnsaws.blogspot.com/2017/04/aws-regions.html (row "US East
//      (N. Virginia)"). Cloudflare's backbone between the same metros is assumed comparable
//      (ASSUMPTION: no per-path figure for Cloudflare's network is published).
// [S2] Cross-check: WonderProxy's city-to-city ping table,
//      https://wonderproxy.com/blog/miles-per-milisecond/ (Sydney-Baltimore 262.5 ms,
//      Paris-Baltimore 97.7 ms): same order as [S1].
// [S3] D1: one primary instance "only exists in one location in the world"; reads go to it
//      unless the Sessions API (`withSession`) is used with read replication:
//      https://developers.cloudflare.com/d1/reference/glossary/ and
//      https://developers.cloudflare.com/d1/best-practices/read-replication/
// [S4] KV stores data centrally and caches it where it is read; a cold read goes to the
//      regional tier, then the central stores: https://developers.cloudflare.com/kv/concepts/how-kv-works/
// [S5] Durable Objects: each object runs in one location at a time, chosen by Cloudflare
//      ("Cloudflare automatically determines the Cloudflare datacenter that each object will
//      live in", https://blog.cloudflare.com/introducing-workers-durable-objects/); a location
//      hint given at creation (values wnam, enam, sam, weur, eeur, apac, oc, afr, me: the
//      DurableObjectLocationHint type in @cloudflare/workers-types) asks for a region, and
//      jurisdictions restrict it: https://developers.cloudflare.com/durable-objects/reference/data-location/
//      Where objects are observed to be created from each colo: https://where.durableobjects.live/
//      The data-location page also says that objects do not currently move once created, and
//      that without a hint one is created near the location of the first `get()`.
// [S6] CPU: DESIGN.md "Performance budgets" (measured here in workerd): PBKDF2-SHA256 100,000
//      iterations 17.5 ms, ES256 sign 0.08 ms, jose verify 0.14 ms, AES-GCM 1 KB 0.016 ms.

const CLIENT_TO_EDGE_MS = 10; // ASSUMPTION: client to its nearest Cloudflare location, round trip.
const SAME_REGION_MS = 2; // ASSUMPTION: edge to a store in the same metro/region, round trip.
const D1_QUERY_MS = 0.5; // ASSUMPTION: execution time of one indexed query at the primary.
const DO_CALL_MS = 0.3; // ASSUMPTION: one synchronous SQLite method inside a Durable Object.
const KV_HOT_MS = 1; // ASSUMPTION: KV read served from the local location's cache [S4].
const IDP_RTT_MS = 40; // ASSUMPTION: edge to an external IdP's token/userinfo endpoint.
const CPU = {
  pbkdf2: 17.5, // [S6]
  sign: 0.08, // [S6] ES256
  verify: 0.14, // [S6] jose jwtVerify
  envelope: 1.0, // ASSUMPTION: AES-GCM both ways + secp256k1 signature_token (noble), warm ECDH cache.
};

/** Round trip (ms) from the edge nearest each client to Virginia/ENAM [S1]. */
const REGIONS = [
  { name: "Virginia", toEnam: SAME_REGION_MS }, // same region: ASSUMPTION above
  { name: "Frankfurt", toEnam: 88.66 }, // [S1]
  { name: "Sao Paulo", toEnam: 119.5 }, // [S1]
  { name: "Tokyo", toEnam: 145.3 }, // [S1]
  { name: "Singapore", toEnam: 216.7 }, // [S1]
  { name: "Sydney", toEnam: 230 }, // [S1]
];

/**
 * The baseline places every store in Virginia/ENAM (the brief's scenario: the code as it was
 * before any lever was made, with every object where a Virginia caller would have created it).
 * Each LEVER is one change a planner could make; the model prices each alone on top of the
 * baseline, then all together, and ranks them by what they save. `cost(hop, region)` returns
 * the hop's new price, or undefined to keep the baseline's. `keeps` is the consistency the
 * change keeps. `made` names where the code makes it (null: not made); the "as built" table
 * prices the levers made, and is what a client sees from the code as it stands.
 */
const local = (ms) => SAME_REGION_MS + ms;
/** Hop labels of the D1 reads the code sends to a replica (storage/d1/replica.ts; docs/architecture.md). */
const REPLICA_READS_MADE = new Set(["tenant hostnames", "sso connection by domain", "identity_providers.list (5 s cache miss)", "app state", "schemes"]);
const LEVERS = [
  {
    id: "limiter-near-caller",
    title: "RateLimiter and per-caller ReplayGuard objects near the caller (default placement or a location hint from request.cf)",
    keeps: "unchanged: each key still has exactly one object deciding it; only where it runs moves [S5]",
    made: "core/limits/limiter.ts and core/limits/once.ts: `get(id, { locationHint })` from request.cf (core/placement/location-hint.ts, Scope.locationHint)",
    cost: (h) => (h.kind === "DO" && h.obj.name !== "TokenAuthority" && h.obj.perCaller ? local(DO_CALL_MS) : undefined),
  },
  {
    id: "authority-near-subject",
    title: "TokenAuthority created in its subject's home region (location hint at first login)",
    keeps: "unchanged: one authority per subject, exactly-once rotation and revocation; a user far from home pays the ocean as today [S5]",
    made: "core/sessions/authority.ts `open`: the first login's location hint creates the authority",
    cost: (h) => (h.kind === "DO" && h.obj.name === "TokenAuthority" ? local(DO_CALL_MS) : undefined),
  },
  {
    id: "revocation-mirror",
    title: "regional read-only mirror of session state, pushed by the TokenAuthority, for isActive/checkToken/activeUntil",
    keeps: "the 1 s revocation bound only if a mirror that has not heard from the authority within 1 s fails closed (asks the authority); rotation and revocation still decided once",
    made: null,
    cost: (h) => (h.kind === "DO" && h.obj.name === "TokenAuthority" && /isActive|checkToken|activeUntil/.test(h.label) ? local(DO_CALL_MS) : undefined),
  },
  {
    id: "d1-replicas",
    title: "D1 read replication through withSession for the reads moved to a replica: tenant hostnames, SSO connection by domain, OIDC scope definitions, the policy's journey snapshot; app state and Authn schemes with the opt-in x-d1-bookmark (priced for a client that sends it back; without it they read the primary)",
    keeps: "a replica at least as new as this isolate's own writes (bookmark floor), or as the client's bookmark; another isolate's change within the read's cache time plus replica lag, which D1 does not bound [S3]; credential, user, uniqueness and read-before-write reads stay on the primary",
    made: "storage/d1/replica.ts, http/d1-bookmark.ts",
    cost: (h) => (h.kind === "D1 read" && h.replica && REPLICA_READS_MADE.has(h.label) ? local(D1_QUERY_MS) : undefined),
  },
  {
    id: "d1-replicas-config",
    title: "the remaining configuration fetch/list reads (service providers, IdPs, external IdPs, catalogs, licenses, journeys fetch) from a replica, with the schemes' opt-in bookmark",
    keeps: "as d1-replicas: read-your-writes only for a client that sends its bookmark back; without one, a management client could read its own write as missing for the replica's lag",
    made: null,
    cost: (h) => (h.kind === "D1 read" && h.replica && !REPLICA_READS_MADE.has(h.label) ? local(D1_QUERY_MS) : undefined),
  },
  {
    id: "authn-settle-after-answer",
    title: "Authn authenticate: settle the limiter in waitUntil, as passwordLogin already does (core/authn/authenticate.ts)",
    keeps: "unchanged: the attempt was reserved before the check; an unsettled reservation expires after the RateLimiter's timeout",
    made: "core/authn/authenticate.ts and the Authn factor logins: the limiter settled through svc.defer",
    cost: (h) => (h.settle ? 0 : undefined),
  },
  {
    id: "session-record-in-authority",
    title: "session record held by the TokenAuthority (the refresh token names its authority) instead of a KV record",
    keeps: "stronger: KV's up-to-60 s propagation no longer applies to a new session; the call to the authority is already made",
    made: "core/sessions/refresh-tokens.ts (`<authority id>.<secret>` tokens), durable/token-authority.ts (records table, checkHeld/rotateHeld/revokeHeld)",
    cost: (h) => (h.session ? 0 : undefined),
  },
];

// ---- hop vocabulary --------------------------------------------------------------------------
// Each hop: { kind, label, ... }. `par` runs its children at once (cost = the slowest);
// everything else in a route runs in sequence. `deferred` hops run in waitUntil after the
// answer: listed, never counted.
const TA = { name: "TokenAuthority", key: "per subject", perCaller: true };
const RLU = { name: "RateLimiter", key: "per tenant+user", perCaller: true };
const RLI = { name: "RateLimiter", key: "per tenant+IP", perCaller: true };
const RLH = { name: "RateLimiter", key: "per tenant (Okta hook)", perCaller: false };
const RLW = { name: "RateLimiter", key: "window per address", perCaller: true };
const RGC = { name: "ReplayGuard", key: "per caller public key", perCaller: true };
const RGT = { name: "ReplayGuard", key: "per tenant scope", perCaller: false };
/** core/mfa/delivered-otp.ts: the "otp" counters are keyed by the request id's digest, not the user. */
const RLR = { name: "RateLimiter", key: "per tenant+OTP request", perCaller: true };
/** core/typing/typing.ts: a pattern's single use is claimed in a ReplayGuard per tenant and user. */
const RGU = { name: "ReplayGuard", key: "per tenant+user (typing)", perCaller: true };

/** `replica`: the read tolerates a D1 read replica (Sessions API) - "any" with no bookmark, "bookmark" when it must see the caller's own earlier write. */
const d1r = (label, replica = null) => ({ kind: "D1 read", label, replica });
const d1w = (label) => ({ kind: "D1 write", label });
const dobj = (obj, method) => ({ kind: "DO", obj, label: `${obj.name}(${obj.key}).${method}` });
const kvHot = (label) => ({ kind: "KV read (cached)", label });
const kvCold = (label, session = false) => ({ kind: "KV read (central)", label, session });
const kvw = (label, session = false) => ({ kind: "KV write", label, session });
const queue = (label) => ({ kind: "Queue send", label });
const fetchOut = (label) => ({ kind: "fetch", label });
const cpu = (label, ms) => ({ kind: "CPU", label, ms });
const par = (...hops) => ({ kind: "par", hops });
const deferred = (...hops) => ({ kind: "deferred", hops });
/**
 * A step a lever changed in shape, not only in price: `before` is the code before the lever,
 * `after` the code with it (priced and counted as such wherever the lever is applied).
 */
const changed = (lever, before, after) => ({ kind: "alt", lever, before, after });
/** A limiter settlement awaited before the answer where core/auth/login.ts defers the same one. */
const settle = (hop) => ({ ...hop, settle: true });

// Building blocks, each mirroring one core function (file named in the comment).
/** http/route-auth + core/sessions/tokens.ts verifyAccessToken: signature, then the authority (1 s cache: counted as a miss). */
const bearer = () => [cpu("JWT verify", CPU.verify), dobj(TA, "isActive")];
/** core/limits/limiter.ts attempt: both counters reserve at once. */
const attempt = () => [dobj(RLU, "begin"), dobj(RLI, "begin")];
/** core/limits/limiter.ts guard: both counters checked (the 1 s clean cache counted as a miss). */
const guard = () => par(dobj(RLU, "check"), dobj(RLI, "check"));
/** core/auth/login.ts passwordLogin: limiter and user read at once, one PBKDF2, release deferred. */
const passwordLogin = () => [
  par(...attempt(), d1r("users.byUsername")),
  cpu("PBKDF2 verify", CPU.pbkdf2),
  deferred(dobj(RLU, "reset"), dobj(RLI, "release"), d1w("audit batch")),
];
/** core/sessions/tokens.ts issueSession: KV record (if refresh), family, signatures at once. */
const issueSession = ({ refresh = false, idToken = false, stateless = false } = {}) =>
  par(
    ...(refresh ? [kvw("session record", true)] : []),
    ...(stateless ? [] : [dobj(TA, "openFamily")]),
    cpu("sign access", CPU.sign),
    ...(idToken ? [cpu("sign id", CPU.sign)] : []),
  );
/** core/users/passwords.ts setUserPassword: hash, row, end sessions, clear lockouts. */
const setUserPassword = () => [
  cpu("PBKDF2 hash", CPU.pbkdf2),
  d1w("users.update"),
  dobj(TA, "revokeAll"),
  par(dobj(RLU, "reset (login)"), dobj(RLU, "reset (reset)")),
  deferred(d1w("audit batch")),
];
/** core/sessions/tokens.ts reissueAccessToken (Sentinel refresh, CloudCheckr PATCH). */
const reissue = () => [dobj(TA, "activeUntil"), d1r("users.byUid (1 s cache miss)"), cpu("sign access", CPU.sign)];
/** http/authn-guard.ts: ECDH, license and scope cached; the request id is claimed once. */
const authnGuard = () => [cpu("envelope open+seal, signature_token", CPU.envelope), dobj(RGC, "claim request id")];
/** core/oidc-provider/client-auth.ts: the lockout check and the client's row at once, then the secret's hash. */
const oidcClientAuth = () => [par(dobj(RLU, "check"), dobj(RLI, "check"), d1r("service_providers.byClientId")), cpu("SHA-256 + compare", 0.01)];
/** core/auth/reset-link.ts inspectResetToken. */
const inspectResetToken = () => [cpu("JWT verify", CPU.verify), dobj(RGT, "isClaimed"), d1r("users.byUid")];
/** core/authn/factors.ts enrolmentUser, core/authn/step-up-enrolment.ts, otp-login.ts proofUser: the proof (signature, then the authority), then its user. */
const proofUser = (replica = null) => [...bearer(), d1r("users.byUid", replica)];
/** core/limits/limiter.ts attemptSucceeded, awaited before the answer (core/webauthn, otp-login, uwl, typing), as Authn authenticate does. */
const settleAttempt = (user = RLU) => settle(par(dobj(user, "reset"), dobj(RLI, "release")));
/**
 * core/authn/pending-login.ts authnLoginDecision (the compiled policy cached 10 s: CPU only, as
 * auth_policy/evaluate), then core/authn/proofs.ts issueProof: the family opened beside the
 * signature. A prior pending login is ended first (`endPendingLogin`) when `pending`.
 */
const grantProof = ({ pending = false } = {}) => [
  cpu("decide (compiled policy cached 10 s)", 0.005),
  ...(pending ? [dobj(TA, "revokeFamily (end the pending login)")] : []),
  par(dobj(TA, "openFamily"), cpu("sign proof", CPU.sign)),
];

// ---- routes ----------------------------------------------------------------------------------
// Warm isolate: caches of 10 s or more (tenant and domain rows, OAuth clients, licenses, signing
// keys, the ECDH shared key, immutable session records in the isolate) count as hits; caches of
// 1 s (authority answers, recent user rows, clean limiter keys) count as misses, since one
// user's requests are usually seconds apart. Optional inputs (corpId, a prior proof) are left out.
const R = (surface, method, path, hops, note = "") => ({ surface, method, path, hops, note });

const ROUTES = [
  // wellknown and the bare route
  R("wellknown", "GET", "/.well-known/jwks.json", []),
  R("wellknown", "GET", "/.well-known/openid-configuration", []),
  R("app", "GET", "/ping", []),

  // userpool (seed 002), src/api/userpool/index.ts
  R("userpool", "POST", "/v1/login", [...passwordLogin(), issueSession({ refresh: true, idToken: true })]),
  R("userpool", "POST", "/v1/token-refresh", [changed("session-record-in-authority", [kvCold("session record (rare per user: cold)", true), par(dobj(TA, "checkToken"), d1r("users.byUid (1 s cache miss)"))], [dobj(TA, "checkHeld (answers with the record)"), d1r("users.byUid (1 s cache miss)")]), cpu("sign access+id", 2 * CPU.sign)], "default: no rotation"),
  R("userpool", "POST", "/v1/token-refresh (rotation on)", [changed("session-record-in-authority", [kvCold("session record", true), par(dobj(TA, "rotate"), d1r("users.byUid (1 s cache miss)"))], [dobj(TA, "rotateHeld (answers with the record)"), d1r("users.byUid (1 s cache miss)")]), cpu("sign access+id", 2 * CPU.sign)], "tenant refreshRotation.userpool"),
  R("userpool", "POST", "/v1/token-revoke", [changed("session-record-in-authority", [kvCold("session record", true), dobj(TA, "revokeByToken")], [dobj(TA, "revokeHeld")]), deferred(d1w("audit batch"))]),
  R("userpool", "POST", "/v1/forgot-password", [dobj(RLW, "hit"), queue("reset_code job")]),
  R("userpool", "POST", "/v1/forgot-password-confirm", [
    par(...attempt()), d1r("users.byUsername"), par(kvCold("code record"), kvCold("latest code")), dobj(RGT, "claim code"), ...setUserPassword(), deferred(kvw("delete code")),
  ]),
  R("userpool", "POST", "/v1/change-password", [
    ...bearer(), d1r("users.byUid"), par(...attempt()), cpu("PBKDF2 verify", CPU.pbkdf2), par(dobj(RLU, "reset"), dobj(RLI, "release")), ...setUserPassword(),
  ]),
  R("userpool", "POST", "/v1/new-password-required", [
    kvHot("challenge (written here moments ago)"), d1r("users.byUid"), dobj(RGT, "claim challenge"), ...setUserPassword(), issueSession({ refresh: true, idToken: true }), deferred(kvw("delete challenge")),
  ]),

  // sentinel (seed 000), src/api/sentinel/index.ts
  R("sentinel", "POST", "/v1.0/auth/token", [...passwordLogin(), issueSession()]),
  R("sentinel", "GET", "/v1.0/auth/refreshToken", [...bearer(), ...reissue()]),
  R("sentinel", "POST", "/v1.0/auth/loginAs", [...bearer(), d1r("users.byUid (actor)"), d1r("users.byUsername (target)"), issueSession(), deferred(d1w("audit batch"))]),
  R("sentinel", "POST", "/v1.0/auth/clientToken", [guard(), cpu("SHA-256 + compare", 0.01), d1r("API user (1 s cache miss)"), issueSession({ stateless: true })], "client row cached 10 s"),
  R("sentinel", "POST", "/v1.0/auth/enrichToken", [par(dobj(RLH, "check"), dobj(RLI, "check")), d1r("users lookup")]),
  R("sentinel", "GET", "/v1.0/auth/password", inspectResetToken()),
  R("sentinel", "POST", "/v1.0/auth/password", [...inspectResetToken(), dobj(RGT, "claim link"), ...setUserPassword()]),
  R("sentinel", "POST", "/v1.0/auth/passwordReset", [dobj(RLW, "hit (user)"), dobj(RLW, "hit (IP)"), queue("reset_link job")]),
  R("sentinel", "POST", "/v1.0/auth/setAssociatedAccountPassword", [...bearer(), d1r("users.byUid"), d1r("users.children"), ...setUserPassword()]),
  R("sentinel", "POST", "/v1.0/auth/sso/initiate", [dobj(RLW, "hit (IP)"), d1r("sso connection by domain", "any"), kvw("OIDC transaction")], "discovery document cached"),
  R("sentinel", "GET", "/v1.0/auth/sso/callback", [
    kvHot("OIDC transaction (written here)"), dobj(RGT, "claim state"), d1r("sso connection"), fetchOut("IdP token endpoint"), fetchOut("IdP userinfo"), d1r("federated user"), issueSession(),
  ], "discovery and JWKS cached; approximate"),
  // core/federation/saml-connection.ts: connections of the tenant, the IdP's row, the signed
  // Response (ASSUMPTION 2 ms, as the CloudCheckr ACS), the AuthnRequest record and its claim,
  // then finishSsoLogin (organisation, federated user, bearer).
  R("sentinel", "POST", "/v1.0/auth/sso/saml/acs", [
    d1r("sso connections", "any"), d1r("external idp", "any"), cpu("verify Response (c14n + RSA-2048)", 2), kvCold("samlreq record"), dobj(RGT, "claim AuthnRequest ID"), d1r("federated user"), issueSession(),
    deferred(kvw("delete samlreq record"), d1w("audit batch")),
  ], "the AuthnRequest record may not have propagated yet at another location: the user starts again"),
  R("sentinel", "POST", "/v1.0/auth/sso/connections", [...bearer(), d1r("domains taken"), d1w("insert"), d1r("domains taken (recheck)")]),
  R("sentinel", "GET", "/v1.0/auth/sso/connections", [...bearer(), d1r("list", "bookmark")]),
  R("sentinel", "GET", "/v1.0/auth/sso/connections/{id}", [...bearer(), d1r("byId", "bookmark")]),
  R("sentinel", "PATCH", "/v1.0/auth/sso/connections/{id}", [...bearer(), d1r("byId"), d1r("domains taken"), d1w("update"), d1r("domains taken (recheck)")]),
  R("sentinel", "DELETE", "/v1.0/auth/sso/connections/{id}", [...bearer(), d1r("byId"), d1w("delete")]),
  R("sentinel", "POST", "/v1.0/auth/termsAndConditions", [...bearer(), d1r("users.byUid"), d1w("terms log"), d1w("users.update"), ...reissue()]),
  R("sentinel", "POST", "/v1.0/auth/acceptTermsAndConditions", [...bearer(), d1r("users.byUid"), d1w("terms log"), d1w("users.update"), ...reissue()]),
  R("sentinel", "POST", "/v1.0/auth/usernameRequest", [dobj(RLW, "hit (email)"), dobj(RLW, "hit (IP)"), queue("username_reminder job")]),

  // cloudcheckr (seed 001), src/api/cloudcheckr/index.ts
  R("cloudcheckr", "POST", "/v1/auth/token", [...passwordLogin(), issueSession(), d1r("app state", "bookmark")]),
  R("cloudcheckr", "PATCH", "/v1/auth/token", [...bearer(), ...reissue(), d1r("app state", "bookmark")]),
  R("cloudcheckr", "GET", "/v1/auth/state", [...bearer(), d1r("app state", "bookmark")]),
  R("cloudcheckr", "PUT", "/v1/auth/state", [...bearer(), d1w("app state")]),
  R("cloudcheckr", "POST", "/v1/auth/resetpassword", [dobj(RLW, "hit (email)"), dobj(RLW, "hit (IP)"), queue("reset_token job")]),
  R("cloudcheckr", "PUT", "/v1/auth/resetpassword", [guard(), kvCold("reset token record"), dobj(RGT, "isClaimed"), d1r("users.byUid"), dobj(RGT, "claim"), ...setUserPassword()]),
  R("cloudcheckr", "GET", "/v1/auth/ping", []),
  R("cloudcheckr", "GET", "/v1/auth/saml/login", [d1r("external idp", "any"), cpu("AuthnRequest: deflate + RSA-2048 sign", 1.5), kvw("samlreq record")]),
  R("cloudcheckr", "POST", "/v1/auth/saml/login", [d1r("external idp", "any"), cpu("AuthnRequest: deflate + RSA-2048 sign", 1.5), kvw("samlreq record")]),
  R("cloudcheckr", "GET", "/v1/auth/saml/logout", [d1r("external idp", "any"), kvw("samlslo record")]),
  R("cloudcheckr", "GET", "/v1/auth/saml/metadata", [d1r("external idp", "any")]),
  // core/saml-sp/cloudcheckr-acs.ts over acs.ts: the IdP's row, the signed Response verified
  // (exclusive c14n + RSA-2048: ASSUMPTION 2 ms, not measured), the AuthnRequest record and its
  // one-time claim, the Assertion's one-time claim, the linked user, then the bearer.
  R("cloudcheckr", "POST", "/v1/auth/saml/acs", [
    d1r("community", "any"), d1r("external idp", "any"), cpu("verify Response (c14n + RSA-2048)", 2), kvCold("samlreq record"), dobj(RGT, "claim AuthnRequest ID"), dobj(RGT, "claim Assertion"), d1r("users (linked identity)"), issueSession(),
    deferred(kvw("delete samlreq record"), d1w("audit batch")),
  ], "the AuthnRequest record may not have propagated yet at another location: the user starts again"),
  R("cloudcheckr", "GET", "/v1/auth/saml/sls", [
    d1r("external idp", "any"), cpu("inflate + verify query signature (RSA-2048)", 0.5), kvCold("samlslo record"), dobj(RGT, "claim RelayState"), deferred(kvw("delete samlslo record")),
  ]),

  // croit (seed 003), src/api/croit/index.ts
  R("croit", "POST", "/api/auth/login", [guard(), cpu("SHA-256 + compare", 0.01), d1r("API user (1 s cache miss)"), issueSession({ stateless: true })], "client_credentials; client row cached 10 s"),
  R("croit", "POST", "/api/auth/login-form", [...passwordLogin(), issueSession()]),
  R("croit", "POST", "/api/auth/logout", [...bearer(), dobj(TA, "revokeFamily"), deferred(d1w("audit batch"))]),
  R("croit", "GET", "/api/auth/token-info", bearer()),
  R("croit", "GET", "/api/auth/okta/signInConfig", []),
  R("croit", "POST", "/api/auth/okta/login", [cpu("JWT verify (Okta, JWKS cached)", CPU.verify), d1r("federated user"), issueSession()]),

  // authn (seed 004), src/api/authn/*.ts: every licensed route passes the envelope guard
  R("authn", "GET", "/authn/healthz", []),
  R("authn", "GET", "/authn/publickeys", []),
  R("authn", "GET", "/authn/environment", []),
  R("authn", "GET", "/authn/sd", []),
  R("authn", "POST", "/authn/ecdsa_helper", [cpu("ECDH (cached) + AES", CPU.envelope)]),
  R("authn", "POST", "/authn/ecdsa_helper/{method}", [cpu("ECDH (cached) + AES", CPU.envelope)]),
  R("authn", "POST", "/authn/jwt/verifyToken", bearer()),
  R("authn", "POST", "/authn/v2/jwt/verifyToken", bearer()),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/authenticate", [
    ...authnGuard(), par(...attempt(), d1r("users.byUsername")), cpu("PBKDF2 verify", CPU.pbkdf2), settle(par(dobj(RLU, "reset"), dobj(RLI, "release"))), par(dobj(TA, "openFamily"), cpu("sign proof", CPU.sign)), deferred(d1w("audit batch")),
  ], "password; the limiter settles before the answer"),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/request/proof_of_authentication", [
    ...authnGuard(), par(...attempt(), d1r("users.byUsername")), cpu("PBKDF2 verify", CPU.pbkdf2), settle(par(dobj(RLU, "reset"), dobj(RLI, "release"))), par(dobj(TA, "openFamily"), cpu("sign proof", CPU.sign)),
  ], "with factors, as authenticate"),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/authenticate_with_ktoken", [
    ...authnGuard(), guard(), kvCold("ktoken record"), dobj(RGT, "claim ktoken"), d1r("users.byUid"), par(dobj(TA, "openFamily"), cpu("sign proof", CPU.sign)),
  ]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/ktoken", [...authnGuard(), ...bearer(), d1r("users.byUid"), kvw("ktoken record")]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/totp/enroll", [...authnGuard(), ...bearer(), d1r("users.byUid"), kvw("pending enrolment")]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/totp/confirm", [
    ...authnGuard(), ...bearer(), d1r("users.byUid"), kvHot("pending enrolment"), par(...attempt()), dobj({ ...RGT, key: "per user TOTP step" }, "claim step"), par(dobj(RLU, "release"), dobj(RLI, "release")), d1w("users.update"), kvw("delete pending"),
  ]),
  R("authn", "PUT", "/authn/tenant/{t}/community/{c}/pin", [...authnGuard(), ...bearer(), d1r("users.byUid"), cpu("PBKDF2 hash", CPU.pbkdf2), d1w("users.update")]),
  // Issue 11 factors (src/api/authn/webauthn.ts, otp.ts, step-up-factors.ts). Each login
  // reserves both counters before its check and settles them before answering, then asks the
  // login policy and opens the proof's family (grantProof). A prior proof ("jwt" for a step-up)
  // is optional except for the typing pattern, and left out where optional: it adds a JWT verify
  // and a TokenAuthority.isActive first, and revokeFamily before the proof when it is a pending login.
  // WebAuthn (core/webauthn): the tenant's hostnames (relying party origins) are cached 10 s (a
  // hit); a challenge is written to KV by the options call and read back by the next call from
  // the same client, at the same location (a cached read, as the OIDC code); its single use is
  // decided by the ReplayGuard, and KV's copy deleted after the answer.
  // CPU ASSUMPTIONS, not measured: a WebAuthn assertion (CBOR, SHA-256, one P-256 verify through
  // WebCrypto) 0.3 ms; a registration ("none" or packed attestation) 0.5 ms.
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/authenticate_with_fido", [
    ...authnGuard(), kvHot("challenge (written here by authentication/options)"), d1r("webauthn credential by id"), d1r("users.byUid (owner)"), par(...attempt()),
    cpu("verify assertion (P-256)", 0.3), dobj(RGT, "claim challenge"), d1w("webauthn.recordUse (counter)"), settleAttempt(), ...grantProof(),
    deferred(kvw("delete challenge"), d1w("audit batch")),
  ], "passkey; a step-up jwt adds a JWT verify and TokenAuthority.isActive first"),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/webauthn/registration/options", [
    ...authnGuard(), ...proofUser(), d1r("webauthn credentials of the user (enrolment rule)"), d1r("webauthn credentials of the user (excludeCredentials)"), kvw("challenge"),
  ], "hostnames cached 10 s"),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/webauthn/registration/verify", [
    ...authnGuard(), ...proofUser(), d1r("webauthn credentials of the user (enrolment rule)"), kvHot("challenge (written here by registration/options)"), cpu("verify registration", 0.5),
    dobj(RGT, "claim challenge"), d1w("webauthn credential"), deferred(kvw("delete challenge"), d1w("audit batch")),
  ]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/webauthn/authentication/options", [...authnGuard(), dobj(RLW, "hit (IP)"), kvw("challenge")], "discoverable credentials; a username adds users.byUsername then its credentials (D1, in turn)"),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/webauthn/credentials/fetch", [...authnGuard(), ...proofUser("any"), d1r("webauthn credentials of the user", "bookmark")]),
  R("authn", "PATCH", "/authn/tenant/{t}/community/{c}/webauthn/credentials/{id}", [...authnGuard(), ...proofUser(), d1w("webauthn credential name"), deferred(d1w("audit batch"))]),
  R("authn", "DELETE", "/authn/tenant/{t}/community/{c}/webauthn/credentials/{id}", [
    ...authnGuard(), ...proofUser(), d1r("webauthn credentials of the user (enrolment rule)"), d1w("delete webauthn credential"), deferred(d1w("audit batch")),
  ]),
  // Delivered codes (core/mfa/delivered-otp.ts): otp/send counts per user and per IP, then
  // queues the job; the queue consumer (not the client's wait) reads the user, writes the code's
  // KV record and sends the mail or SMS. otp/verify reads that record: written by the consumer,
  // wherever it ran, so a read from the central store.
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/otp/send", [...authnGuard(), dobj(RLW, "hit (user)"), dobj(RLW, "hit (IP)"), queue("otp_code job")], "the code is sent by the queue consumer"),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/otp/verify", [
    ...authnGuard(), cpu("request digest (HMAC)", 0.01), par(dobj(RLR, "begin"), dobj(RLI, "begin")), kvCold("OTP record (written by the queue consumer)"), d1r("users.byUid"),
    cpu("code digest + compare", 0.01), dobj(RGT, "claim request"), settleAttempt(RLR), ...grantProof(), deferred(kvw("delete OTP record"), d1w("audit batch")),
  ]),
  // Recovery codes (core/mfa/recovery-codes.ts, core/authn/otp-login.ts): the user's row is read
  // beside the "login" reservation; a code is used by one conditional D1 update. CPU of the HMAC
  // digests: ASSUMPTION 0.01 ms each.
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/authenticate_with_recovery_code", [
    ...authnGuard(), par(...attempt(), d1r("users.byUsername")), cpu("code digest (HMAC)", 0.01), d1w("recovery_codes.consume"), settleAttempt(), ...grantProof(), deferred(d1w("audit batch")),
  ]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/recovery_codes", [...authnGuard(), ...proofUser(), cpu("10 code digests (HMAC)", 0.1), d1w("recovery_codes.replace (batch)"), deferred(d1w("audit batch"))]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/recovery_codes/count", [...authnGuard(), ...proofUser("any"), d1r("recovery_codes.remaining", "bookmark")]),
  // UWL (core/uwl/uwl.ts): the nonce is written by uwl/nonce and read back by the same client at
  // the same location (cached), beside the user's row and the "uwl" reservation; the signature
  // over it is checked in the isolate (noble ECDSA, P-256 or secp256k1: ASSUMPTION 1 ms), then
  // the registered key is read and the nonce's single use claimed.
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/authenticate_with_uwl", [
    ...authnGuard(), par(kvHot("nonce (written here by uwl/nonce)"), d1r("users.byUsername"), ...attempt()), cpu("verify nonce signature (ECDSA, noble)", 1),
    d1r("uwl authenticator by key"), dobj(RGT, "claim nonce"), settleAttempt(), ...grantProof(), deferred(kvw("delete nonce"), d1w("uwl authenticator lastUsed"), d1w("audit batch")),
  ]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/uwl/nonce", [...authnGuard(), dobj(RLW, "hit (IP)"), kvw("nonce")]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/uwl/authenticators", [
    ...authnGuard(), ...proofUser(), d1r("uwl authenticators (enrolment rule)"), d1r("uwl authenticators (limit, duplicates)"), d1w("uwl authenticator"), deferred(d1w("audit batch")),
  ], "the enrolment rule's read only for a proof without uwl below AAL2"),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/uwl/authenticators/list", [...authnGuard(), ...proofUser("any"), d1r("uwl authenticators", "bookmark")]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/uwl/authenticators/delete", [...authnGuard(), ...proofUser(), d1w("delete uwl authenticator"), deferred(d1w("audit batch"))]),
  // Typing pattern (core/typing/typing.ts): a step-up only, so the jwt is always verified; here
  // the pending login authenticate answered with need_mfa (a proof instead saves the
  // revokeFamily). Comparing the pattern with the profile: ASSUMPTION 0.05 ms CPU.
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/authenticate_with_behavior_auth", [
    ...authnGuard(), ...bearer(), par(...attempt(), d1r("users.byUsername")), d1r("typing profile"), cpu("digest + compare with the profile", 0.05), dobj(RGU, "claim pattern"),
    settleAttempt(), ...grantProof({ pending: true }), deferred(d1w("typing profile (seen patterns)"), d1w("audit batch")),
  ], "step-up from a pending login"),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/behavior_auth/enroll", [
    ...authnGuard(), ...proofUser(), d1r("typing profile (enrolment rule)"), cpu("pattern digests", 0.1), d1w("typing profile"), deferred(d1w("audit batch")),
  ], "the enrolment rule's read only for a proof without typing below AAL2"),
  // LiveID (core/liveid/liveid.ts): both counters checked, the face service called (priced as an
  // external IdP; its own matching time is not modelled), its signed verdict verified, the user
  // named by the verdict read, the lockout cleared.
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/authenticate_with_liveid", [
    ...authnGuard(), guard(), fetchOut("LiveID face service (its processing time not modelled)"), cpu("verify verdict JWS", CPU.verify), d1r("users.byUid (verdict's sub)"),
    dobj(RLU, "reset"), ...grantProof(), deferred(d1w("audit batch")),
  ], "selfie only; a username adds users.byUsername first; PIN needed answers a pending login instead of the proof"),
  R("authn", "GET", "/authn/tenant/{t}/community/{c}/idp_config", [...authnGuard(), d1r("idp config", "any")]),
  R("authn", "PUT", "/authn/tenant/{t}/community/{c}/idp_config", [...authnGuard(), d1w("idp config")]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/oidc/sso", [
    ...authnGuard(), par(d1r("service provider by client_id"), d1r("identity providers")), d1r("users.byUid"), kvw("SSO session"), d1r("consents"), kvw("authorization code"),
  ], "scopes cached in the isolate for 3 s; a consent needed adds a D1 write (receipt)"),
  // SAML IdP (core/saml-idp): the signing credential is cached in the isolate for 60 s (hit).
  // CPU of two enveloped RSA-2048 signatures with exclusive c14n: ASSUMPTION 4 ms, not measured.
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/saml/sso", [
    ...authnGuard(), d1r("users.byUid"), d1r("service provider by entityId"), dobj(RGT, "claim AuthnRequest ID"), kvw("SSO session"), cpu("sign Response + Assertion (RSA-2048)", 4),
  ], "signing credential cached 60 s; a signed request adds ~1 ms CPU"),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/saml/idp-init", [
    ...authnGuard(), d1r("users.byUid"), d1r("service provider by _id"), kvw("SSO session"), cpu("sign Response + Assertion (RSA-2048)", 4),
  ], "signing credential cached 60 s"),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/idp/{idpIdentifier}/metadata", [
    ...authnGuard(), d1r("idp config"), cpu("sign metadata (RSA-2048)", 2),
  ], "signing credential cached 60 s"),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/wsfed/sso", [
    ...authnGuard(), d1r("users.byUid"), d1r("service provider by entityId"), cpu("sign Assertion (RSA-2048)", 2),
  ], "signing credential cached 60 s"),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/user_consent/check", [...authnGuard(), par(d1r("service provider"), d1r("consents"))]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/user_consent/fetch", [...authnGuard(), d1r("consents")]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/user_consent/fetch_by_scope", [...authnGuard(), d1r("consents"), d1r("service providers of the receipts (at once)")]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/user_consent/withdraw", [...authnGuard(), d1r("service provider"), d1r("consents"), d1w("withdraw receipts"), deferred(d1w("audit batch"))], "extension"),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/scheme/fetch", [...authnGuard(), d1r("schemes", "bookmark")]),
  R("authn", "PUT", "/authn/tenant/{t}/community/{c}/scheme", [...authnGuard(), d1w("scheme")]),
  R("authn", "PATCH", "/authn/tenant/{t}/community/{c}/scheme/{id}", [...authnGuard(), d1r("scheme"), d1w("scheme")]),
  R("authn", "DELETE", "/authn/tenant/{t}/community/{c}/scheme/{id}", [...authnGuard(), d1w("scheme")]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/idp/fetch", [...authnGuard(), d1r("identity providers", "any")]),
  R("authn", "PUT", "/authn/tenant/{t}/community/{c}/idp", [...authnGuard(), d1w("identity provider")]),
  R("authn", "PATCH", "/authn/tenant/{t}/community/{c}/idp/{id}", [...authnGuard(), d1r("identity provider"), d1w("identity provider")]),
  R("authn", "DELETE", "/authn/tenant/{t}/community/{c}/idp/{id}", [...authnGuard(), d1w("identity provider")]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/external_idp/fetch", [...authnGuard(), d1r("external idps", "any")]),
  R("authn", "PUT", "/authn/tenant/{t}/community/{c}/external_idp", [...authnGuard(), cpu("key pair probe: RSA-2048 sign + verify", 1.5), d1w("external idp"), deferred(d1w("audit batch"))]),
  R("authn", "PATCH", "/authn/tenant/{t}/community/{c}/external_idp/{id}", [...authnGuard(), d1r("external idp"), cpu("key pair probe: RSA-2048 sign + verify", 1.5), d1w("external idp (version check)"), deferred(d1w("audit batch"))]),
  R("authn", "DELETE", "/authn/tenant/{t}/community/{c}/external_idp/{id}", [...authnGuard(), d1w("external idp"), deferred(d1w("audit batch"))]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/samlRequest/generate", [...authnGuard(), d1r("tenant hostnames", "any"), d1r("external idp", "any"), cpu("AuthnRequest: deflate + RSA-2048 sign", 1.5), kvw("samlreq record")]),
  R("authn", "GET", "/authn/spcatalog/list", [...authnGuard(), d1r("catalog", "any")]),
  R("authn", "PUT", "/authn/spcatalog/item", [...authnGuard(), d1w("catalog item")]),
  R("authn", "DELETE", "/authn/spcatalog/item/{name}", [...authnGuard(), d1w("catalog item")]),
  R("authn", "GET", "/authn/tenant/{t}/community/{c}/serviceprovider/{id}", [...authnGuard(), d1r("service provider by _id (entityId, client_id: one more read each)", "any")]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/serviceprovider/fetch", [...authnGuard(), d1r("service providers", "any")]),
  R("authn", "PUT", "/authn/tenant/{t}/community/{c}/serviceprovider", [...authnGuard(), d1w("service provider")]),
  R("authn", "PUT", "/authn/tenant/{t}/community/{c}/serviceprovider/{type}", [...authnGuard(), d1w("service provider"), queue("sp_vendor_registration job (vendor call after the answer)")]),
  R("authn", "PATCH", "/authn/tenant/{t}/community/{c}/serviceprovider/{id}", [...authnGuard(), d1r("service provider"), d1w("service provider (version check)")]),
  R("authn", "DELETE", "/authn/tenant/{t}/community/{c}/serviceprovider/{id}", [...authnGuard(), d1w("service provider")]),
  // Adaptive policy (issue 10; src/api/authn/journeys.ts, auth-policy.ts, core/journeys). Journey
  // writes count the version's journeys (create) or read the row (replace) first; the audit
  // batch runs after the answer. Evaluation uses the community's compiled policy from the isolate
  // cache (10 s: a hit; a miss adds one D1 read of the community's journeys, "any" replica) and
  // one decision (CPU 0.005 ms against 1,000 journeys, measured: docs/benchmarks.md "Adaptive policy").
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/authenticationJourney/fetch", [...authnGuard(), d1r("auth_journeys (v1)", "any")]),
  R("authn", "PUT", "/authn/tenant/{t}/community/{c}/authenticationJourney", [...authnGuard(), d1r("auth_journeys count"), d1w("auth_journey"), deferred(d1w("audit batch"))]),
  R("authn", "PATCH", "/authn/tenant/{t}/community/{c}/authenticationJourney/{id}", [...authnGuard(), d1r("auth_journey"), d1w("auth_journey (revision check)"), deferred(d1w("audit batch"))]),
  R("authn", "DELETE", "/authn/tenant/{t}/community/{c}/authenticationJourney/{id}", [...authnGuard(), d1w("auth_journey"), deferred(d1w("audit batch"))]),
  R("authn", "POST", "/authn/v2/tenant/{t}/community/{c}/authenticationJourney/fetch", [...authnGuard(), d1r("auth_journeys (v2)", "any")]),
  R("authn", "PUT", "/authn/v2/tenant/{t}/community/{c}/authenticationJourney", [...authnGuard(), d1r("auth_journeys count"), d1w("auth_journey"), deferred(d1w("audit batch"))]),
  R("authn", "PATCH", "/authn/v2/tenant/{t}/community/{c}/authenticationJourney/{id}", [...authnGuard(), d1r("auth_journey"), d1w("auth_journey (revision check)"), deferred(d1w("audit batch"))]),
  R("authn", "DELETE", "/authn/v2/tenant/{t}/community/{c}/authenticationJourney/{id}", [...authnGuard(), d1w("auth_journey"), deferred(d1w("audit batch"))]),
  R("authn", "POST", "/authn/tenant/{t}/community/{c}/auth_policy/evaluate", [...authnGuard(), cpu("decide (compiled policy cached 10 s)", 0.005)], "idp_redirect allowed adds a D1 read of the external IdPs"),
  R("authn", "POST", "/authn/v2/tenant/{t}/community/{c}/auth_policy/evaluate", [...authnGuard(), cpu("decide (compiled policy cached 10 s)", 0.005)], "without jwt; idp_redirect allowed adds a D1 read of the external IdPs"),
  R("authn", "POST", "/authn/v2/tenant/{t}/community/{c}/auth_policy/evaluate (jwt, granted)", [
    ...authnGuard(), cpu("JWT verify", CPU.verify), dobj(TA, "isActive"), d1r("users.byUid"), cpu("decide (compiled policy cached 10 s)", 0.005), par(dobj(TA, "openFamily"), cpu("sign proof", CPU.sign)),
  ], "a valid jwt and grant_access: a fresh proof"),
  R("authn", "POST", "/authn/v2/tenant/{t}/community/{c}/auth_policy/auth_schemes", [...authnGuard(), cpu("schemes (compiled policy cached 10 s)", 0.005)]),
  R("authn", "PUT", "/authn/manage/tenant", [...authnGuard(), d1w("tenant + community (batch)")], "management extension; management rows approximate"),
  R("authn", "PUT", "/authn/manage/tenant/{t}/community", [...authnGuard(), d1r("tenant"), d1w("community")]),
  R("authn", "PUT", "/authn/manage/license", [...authnGuard(), d1w("license")]),
  R("authn", "POST", "/authn/manage/license/list", [...authnGuard(), d1r("licenses", "any")]),
  R("authn", "PATCH", "/authn/manage/license/{id}", [...authnGuard(), d1w("license"), d1r("license")]),
  R("authn", "POST", "/authn/manage/tenant/{t}/settings/fetch", [...authnGuard(), d1r("tenant", "bookmark")]),
  R("authn", "PATCH", "/authn/manage/tenant/{t}/settings", [...authnGuard(), d1r("tenant"), d1w("settings")]),
  R("authn", "PUT", "/authn/manage/tenant/{t}/hostname", [...authnGuard(), d1r("tenant"), d1r("communities"), d1r("domain"), d1w("bind domain")]),
  R("authn", "DELETE", "/authn/manage/tenant/{t}/hostname", [...authnGuard(), d1r("tenant"), d1r("domain"), d1w("unbind domain")]),

  // oidc: every community's OpenID Provider, back channel (src/api/oidc/index.ts, core/oidc-provider).
  // Community, tenant, domain and hostnames cached 10 s (hits); the community's scope
  // definitions are cached 5 s and the client row is not cached (both counted as reads).
  R("oidc", "GET", "/oidc/{communityId}/.well-known/openid-configuration", [d1r("identity_providers.list (5 s cache miss)", "any")]),
  R("oidc", "GET", "/.well-known/oauth-authorization-server/oidc/{communityId}", [d1r("identity_providers.list (5 s cache miss)", "any")], "RFC 8414 path of the same document"),
  R("oidc", "GET", "/.well-known/openid-configuration/oidc/{communityId}", [d1r("identity_providers.list (5 s cache miss)", "any")], "the same document"),
  R("oidc", "GET", "/oidc/{communityId}/jwks", []),
  R("oidc", "POST", "/oidc/{communityId}/token", [
    ...oidcClientAuth(), kvHot("code (written here moments ago)"),
    par(dobj(RGT, "claim code"), d1r("users.byUid"), d1r("identity_providers.list (5 s cache miss)", "any")), cpu("PKCE S256", 0.01),
    par(kvw("session record", true), dobj(TA, "openFamily"), cpu("sign access", CPU.sign)), cpu("sign id", CPU.sign), deferred(d1w("audit batch")),
  ], "authorization_code"),
  R("oidc", "POST", "/oidc/{communityId}/token (refresh_token)", [
    ...oidcClientAuth(),
    changed("session-record-in-authority", [kvCold("session record", true), par(dobj(TA, "checkToken"), d1r("users.byUid (1 s cache miss)"), d1r("identity_providers.list (5 s cache miss)", "any"))], [dobj(TA, "checkHeld (answers with the record)"), par(d1r("users.byUid (1 s cache miss)"), d1r("identity_providers.list (5 s cache miss)", "any"))]),
    cpu("sign access+id", 2 * CPU.sign),
  ], "client without rotation"),
  R("oidc", "POST", "/oidc/{communityId}/token (client_credentials)", [...oidcClientAuth(), cpu("sign access", CPU.sign), deferred(d1w("audit batch"))], "stateless"),
  R("oidc", "GET", "/oidc/{communityId}/userinfo", [...bearer(), par(d1r("users.byUid (1 s cache miss)"), d1r("identity_providers.list (5 s cache miss)", "any"))]),
  R("oidc", "POST", "/oidc/{communityId}/userinfo", [...bearer(), par(d1r("users.byUid (1 s cache miss)"), d1r("identity_providers.list (5 s cache miss)", "any"))]),
  R("oidc", "POST", "/oidc/{communityId}/revoke", [...oidcClientAuth(), cpu("JWT verify", CPU.verify), dobj(TA, "revokeFamily"), deferred(d1w("audit batch"))], "an access token"),
  R("oidc", "POST", "/oidc/{communityId}/introspect", [...oidcClientAuth(), ...bearer()], "an access token"),
  // Hosted login passkeys (issue 11, src/web/passkeys.tsx): the front channel's own routes. The
  // login transaction was written by /authorize from the same browser at the same location (a
  // cached read, as the challenge); the tenant's hostnames (relying party) are cached 10 s (a
  // hit); the policy is compiled and cached 10 s (CPU only). A granted sign-in then writes the
  // SSO session and the authorization code to KV and claims the transaction once.
  R("oidc", "POST", "/oidc/{communityId}/login/passkey/options", [kvHot("login transaction"), kvw("challenge"), kvw("login transaction (challenge digest)")], "discoverable credentials, uv required"),
  R("oidc", "POST", "/oidc/{communityId}/login/passkey", [
    kvHot("login transaction"), kvHot("challenge (written by passkey/options)"), d1r("webauthn credential by id"), d1r("users.byUid (owner)"), par(...attempt()),
    cpu("verify assertion (P-256)", 0.3), dobj(RGT, "claim challenge"), d1w("webauthn.recordUse (counter)"), settleAttempt(), cpu("login policy (compiled, cached)", 0.05),
    kvw("SSO session"), kvw("authorization code"), dobj(RGT, "claim login transaction"), deferred(kvw("delete challenge"), d1w("audit batch")),
  ], "granted, no consent asked: the redirect with the code"),
  R("oidc", "POST", "/oidc/{communityId}/login/passkey/register/options", [kvHot("login transaction"), d1r("users.byUid"), d1r("webauthn credentials of the user (excludeCredentials)"), kvw("challenge"), kvw("login transaction (challenge digest)")]),
  R("oidc", "POST", "/oidc/{communityId}/login/passkey/register", [
    kvHot("login transaction"), d1r("users.byUid"), kvHot("challenge (written by register/options)"), cpu("verify registration", 0.5), dobj(RGT, "claim challenge"), d1w("webauthn credential"),
    kvw("SSO session"), kvw("authorization code"), dobj(RGT, "claim login transaction"), deferred(kvw("delete challenge"), d1w("audit batch")),
  ], "a new passkey, then the redirect with the code; \"Not now\" skips to the SSO session"),
];

// ---- pricing ---------------------------------------------------------------------------------
function price(hop, region, levers) {
  if (hop.kind === "deferred") return 0;
  if (hop.kind === "alt") return branch(hop, levers).reduce((t, h) => t + price(h, region, levers), 0);
  for (const l of levers) {
    const c = l.cost(hop, region);
    if (c !== undefined) return c;
  }
  if (hop.kind === "par") return Math.max(0, ...hop.hops.map((h) => price(h, region, levers)));
  const far = region.toEnam;
  switch (hop.kind) {
    case "D1 read":
    case "D1 write":
      return far + D1_QUERY_MS; // [S3] every query goes to the primary (no Sessions API in use)
    case "DO":
      return far + DO_CALL_MS; // [S5] baseline: every object in ENAM
    case "KV read (cached)":
      return KV_HOT_MS;
    case "KV read (central)":
    case "KV write":
    case "Queue send":
      return far; // [S4] central store; ASSUMPTION: it and the queue are reached at ENAM's distance
    case "fetch":
      return IDP_RTT_MS;
    case "CPU":
      return hop.ms;
    default:
      throw new Error(`unknown hop kind ${hop.kind}`);
  }
}

/** The hops of a changed step that apply under `levers`. */
function branch(hop, levers) {
  return levers.some((l) => l.id === hop.lever) ? hop.after : hop.before;
}

/** A route's hops with every changed step resolved under `levers`. */
function expand(hops, levers) {
  return hops.flatMap((h) => (h.kind === "alt" ? expand(branch(h, levers), levers) : [h]));
}

function routeLatency(route, region, levers = []) {
  return CLIENT_TO_EDGE_MS + route.hops.reduce((t, h) => t + price(h, region, levers), 0);
}

/**
 * Counts of sequential steps that leave the isolate (a `par` of remote hops counts once); a hop
 * that one of `levers` removes (prices at 0: a settlement after the answer, a KV session record
 * no longer written) is not a step.
 */
function remoteSteps(hops, levers = []) {
  const gone = (h) => levers.some((l) => l.cost(h, REGIONS[0]) === 0);
  const remote = (h) => !["CPU", "KV read (cached)", "deferred"].includes(h.kind) && !gone(h);
  let n = 0;
  for (const h of hops) {
    if (h.kind === "par") n += !gone(h) && h.hops.some(remote) ? 1 : 0;
    else if (remote(h)) n += 1;
  }
  return n;
}

function describe(hops) {
  return hops
    .map((h) => {
      if (h.kind === "par") return `[${h.hops.map((x) => describe([x])).join(" | ")}]`;
      if (h.kind === "deferred") return `(after answer: ${h.hops.map((x) => describe([x])).join(", ")})`;
      if (h.kind === "alt") return `{before ${h.lever}: ${describe(h.before)}; with it: ${describe(h.after)}}`;
      if (h.kind === "CPU") return `CPU ${h.label} ${h.ms} ms`;
      if (h.kind === "DO") return `DO ${h.label}`;
      return `${h.kind} ${h.label}`;
    })
    .join(" -> ");
}

/** The routes a client calls most: one login, one refresh, one verification per surface family. */
export const HOT_ROUTES = ["POST /v1/login", "POST /v1/token-refresh", "GET /api/auth/token-info", "POST /authn/tenant/{t}/community/{c}/authenticate"];
const routeId = (r) => `${r.method} ${r.path}`;
const perRegion = (r, levers) => Object.fromEntries(REGIONS.map((g) => [g.name, Math.round(routeLatency(r, g, levers))]));

/**
 * Ranks the levers greedily: at each step, the one that saves most on top of those already
 * taken (hot routes first, then the mean route), because they interact: a route that waits
 * for a D1 read and an object at once gains nothing from moving only one of them.
 */
function rankLevers(far) {
  const hot = ROUTES.filter((r) => HOT_ROUTES.includes(routeId(r)));
  const total = (routes, levers) => routes.reduce((t, r) => t + routeLatency(r, far, levers), 0);
  const taken = [];
  const ranked = [];
  const left = [...LEVERS];
  while (left.length) {
    let best = null;
    for (const l of left) {
      const hotSaved = total(hot, taken) - total(hot, [...taken, l]);
      const allSaved = (total(ROUTES, taken) - total(ROUTES, [...taken, l])) / ROUTES.length;
      const alone = ROUTES.filter((r) => routeLatency(r, far, []) - routeLatency(r, far, [l]) > 0.5).length;
      if (!best || hotSaved > best.hotSaved + 0.5 || (Math.abs(hotSaved - best.hotSaved) <= 0.5 && allSaved > best.allSaved)) best = { l, hotSaved, allSaved, alone };
    }
    taken.push(best.l);
    left.splice(left.indexOf(best.l), 1);
    ranked.push({
      id: best.l.id,
      title: best.l.title,
      keeps: best.l.keeps,
      made: best.l.made,
      routesImproved: best.alone,
      hotSavedMs: Math.round(best.hotSaved),
      meanSavedMs: Math.round(best.allSaved),
    });
  }
  return ranked;
}

/** The levers the code makes today: the "as built" table prices them. */
const MADE = LEVERS.filter((l) => l.made);

export function model() {
  const far = REGIONS[REGIONS.length - 1];
  const levers = rankLevers(far);
  return {
    simulation: true,
    inputs: { CLIENT_TO_EDGE_MS, SAME_REGION_MS, D1_QUERY_MS, DO_CALL_MS, KV_HOT_MS, IDP_RTT_MS, CPU, regions: REGIONS },
    rankedBy: `ms saved for a client in ${far.name}, each on top of those ranked above it: on ${HOT_ROUTES.join(", ")} together, then on the mean route`,
    routes: ROUTES.map((r) => ({
      surface: r.surface,
      method: r.method,
      path: r.path,
      note: r.note,
      remoteSteps: remoteSteps(expand(r.hops, [])),
      remoteStepsAsBuilt: remoteSteps(expand(r.hops, MADE), MADE),
      remoteStepsAll: remoteSteps(expand(r.hops, LEVERS), LEVERS),
      hops: describe(r.hops) || "(none: answered from the isolate)",
      baselineMs: perRegion(r, []),
      asBuiltMs: perRegion(r, MADE),
      allLeversMs: perRegion(r, LEVERS),
    })),
    levers,
  };
}

function printTables(m) {
  const names = REGIONS.map((g) => g.name);
  const table = (key, steps) => {
    console.log(`| route | remote steps | ${names.join(" | ")} |`);
    console.log(`| --- | ---: | ${names.map(() => "---:").join(" | ")} |`);
    for (const r of m.routes) console.log(`| ${r.method} ${r.path} | ${r[steps]} | ${names.map((n) => r[key][n]).join(" | ")} |`);
  };
  console.log("SIMULATION (not a measurement): modelled client-observed latency in ms, warm isolate.");
  console.log(`Client to nearest edge ${CLIENT_TO_EDGE_MS} ms (assumption); edge-to-Virginia round trips from the AWS inter-region table; sources in bench/latency-model.mjs.`);
  console.log("\n## Baseline: D1 primary, KV central store, queue and every Durable Object in Virginia (ENAM)\n");
  table("baselineMs", "remoteSteps");
  console.log(`\n## Levers, ranked (${m.rankedBy})\n`);
  console.log("| rank | lever | hot routes saved (ms) | mean route saved (ms) | routes it improves alone | consistency kept | made in |");
  console.log("| ---: | --- | ---: | ---: | ---: | --- | --- |");
  m.levers.forEach((l, i) => console.log(`| ${i + 1} | ${l.id}: ${l.title} | ${l.hotSavedMs} | ${l.meanSavedMs} | ${l.routesImproved} | ${l.keeps} | ${l.made ?? "not made"} |`));
  console.log(`\n## As built: the levers made (${m.levers.filter((l) => l.made).map((l) => l.id).join(", ")})\n`);
  table("asBuiltMs", "remoteStepsAsBuilt");
  console.log("\n## All levers together\n");
  table("allLeversMs", "remoteStepsAll");
  console.log("\n## Hops per route (in order; [ a | b ] run at once; (after answer: ...) runs in waitUntil)\n");
  console.log("| route | hops |");
  console.log("| --- | --- |");
  for (const r of m.routes) console.log(`| ${r.method} ${r.path}${r.note ? ` (${r.note})` : ""} | ${r.hops} |`);
}

const invokedDirectly = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  const m = model();
  if (process.argv.includes("--json")) console.log(JSON.stringify(m, null, 2));
  else printTables(m);
}

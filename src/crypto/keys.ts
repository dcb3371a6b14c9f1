import { open, seal } from "./secret-box";
import { uuid } from "./random";

/**
 * The JWT signing keyring (ES256). Keys are created on first use per deployment, their private
 * halves stored sealed under KEY_ENCRYPTION_SECRET, and rotated with overlap: rotation
 * (scripts/rotate-keys.mjs) demotes the current key to "previous" and the next signer creates
 * a new current key; previous keys keep verifying and stay in the JWKS until retired.
 */
export type KeyStatus = "current" | "previous" | "retired";

export interface SigningKeyRecord {
  kid: string;
  purpose: string;
  alg: string;
  publicJwk: string;
  privateSealed: string;
  status: KeyStatus;
  createdAt: number;
}

/** Storage port for signing keys (D1 in production). */
export interface SigningKeyStore {
  /** Current and previous keys of a purpose, newest first. */
  listActive(purpose: string): Promise<SigningKeyRecord[]>;
  /** Inserts a new current key; false when another current key already exists (a race). */
  insertCurrent(record: SigningKeyRecord): Promise<boolean>;
}

export interface PublicJwk extends JsonWebKey {
  kid: string;
  alg: string;
  use: string;
}

interface LoadedKey {
  kid: string;
  status: KeyStatus;
  publicJwk: PublicJwk;
  verifyKey: CryptoKey;
  signKey: CryptoKey | null;
}

const JWT_PURPOSE = "jwt";
const ES256 = { name: "ECDSA", namedCurve: "P-256" } as const;
/** How long an isolate trusts its loaded key set before asking D1 again. */
const REFRESH_MS = 60_000;
/** After a failed periodic reload, the loaded set is used this long before the next try. */
const RELOAD_RETRY_MS = 5_000;
/** At most one reload per this interval when a token names a kid we do not know. */
const UNKNOWN_KID_RELOAD_MS = 5_000;

export class Keyring {
  private keys: LoadedKey[] = [];
  private loadedAt = 0;
  private lastUnknownReload = 0;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly store: SigningKeyStore,
    private readonly secret: string,
  ) {}

  private async load(): Promise<void> {
    const rows = await this.store.listActive(JWT_PURPOSE);
    const loaded: LoadedKey[] = [];
    for (const r of rows) {
      const publicJwk = JSON.parse(r.publicJwk) as PublicJwk;
      const verifyKey = await crypto.subtle.importKey("jwk", publicJwk, ES256, false, ["verify"]);
      let signKey: CryptoKey | null = null;
      if (r.status === "current") {
        const priv = JSON.parse(await open(this.secret, `signing-key:${r.kid}`, r.privateSealed)) as JsonWebKey;
        signKey = await crypto.subtle.importKey("jwk", priv, ES256, false, ["sign"]);
      }
      loaded.push({ kid: r.kid, status: r.status, publicJwk, verifyKey, signKey });
    }
    this.keys = loaded;
    this.loadedAt = Date.now();
  }

  private async ensureLoaded(force = false): Promise<void> {
    if (!force && this.loadedAt && Date.now() - this.loadedAt < REFRESH_MS) return;
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    try {
      await this.loading;
    } catch (e) {
      // A periodic reload that fails (D1 briefly unavailable or busy) must not fail every
      // request waiting on it: keep the keys already loaded and try again shortly. Only an
      // isolate that never loaded its keys has nothing to fall back on.
      if (!this.loadedAt) throw e;
      console.warn("signing keys: reload failed, keeping the loaded set", e instanceof Error ? e.message : e);
      this.loadedAt = Date.now() - REFRESH_MS + RELOAD_RETRY_MS;
    }
  }

  /** The current signing key, creating it on the deployment's first use. */
  async signingKey(): Promise<{ kid: string; key: CryptoKey }> {
    await this.ensureLoaded();
    let current = this.keys.find((k) => k.status === "current" && k.signKey);
    if (!current) {
      await this.create();
      await this.ensureLoaded(true);
      current = this.keys.find((k) => k.status === "current" && k.signKey);
      if (!current) throw new Error("no current signing key after creation");
    }
    return { kid: current.kid, key: current.signKey! };
  }

  /** The verification key for a kid, reloading (rate-limited) when the kid is unknown. */
  async verificationKey(kid: string): Promise<CryptoKey | null> {
    await this.ensureLoaded();
    let k = this.keys.find((x) => x.kid === kid);
    if (!k && Date.now() - this.lastUnknownReload > UNKNOWN_KID_RELOAD_MS) {
      this.lastUnknownReload = Date.now();
      await this.ensureLoaded(true);
      k = this.keys.find((x) => x.kid === kid);
    }
    return k ? k.verifyKey : null;
  }

  /** JWKS (RFC 7517 §5): current and previous public keys. */
  async jwks(): Promise<{ keys: PublicJwk[] }> {
    await this.signingKey();
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  private async create(): Promise<void> {
    const pair = (await crypto.subtle.generateKey(ES256, true, ["sign", "verify"])) as CryptoKeyPair;
    const kid = uuid();
    const pub = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
    const priv = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
    const publicJwk: PublicJwk = { kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y, kid, alg: "ES256", use: "sig" };
    // A concurrent isolate may win the insert; then we simply load its key.
    await this.store.insertCurrent({
      kid,
      purpose: JWT_PURPOSE,
      alg: "ES256",
      publicJwk: JSON.stringify(publicJwk),
      privateSealed: await seal(this.secret, `signing-key:${kid}`, JSON.stringify(priv)),
      status: "current",
      createdAt: Date.now(),
    });
  }
}

import type { SigningKeyStore } from "./keys";
import { decodePrivateKey, generateKeyPair, SharedKeyCache, signData, type EnvelopeCurve } from "./envelope";
import { open, seal } from "./secret-box";
import { uuid } from "./random";

/**
 * The service's own envelope key pair (one per curve), created on the deployment's first use
 * and stored in D1 (`signing_keys`, purpose `authn-envelope-<curve>`) with the private half
 * sealed under KEY_ENCRYPTION_SECRET, like the JWT keys. Loaded once per isolate; the derived
 * shared keys of callers are cached in a bounded LRU beside it.
 */
export interface ServiceEnvelopeKey {
  kid: string;
  curve: EnvelopeCurve;
  /** Wire encoding: base64 of the 64-byte point without 0x04. */
  publicKey: string;
  privateKey: Uint8Array;
}

const purposeOf = (curve: EnvelopeCurve) => `authn-envelope-${curve}`;

export class EnvelopeKeyring {
  private key: ServiceEnvelopeKey | null = null;
  private loading: Promise<ServiceEnvelopeKey> | null = null;
  readonly sharedKeys = new SharedKeyCache();

  constructor(
    private readonly store: SigningKeyStore,
    private readonly secret: string,
    readonly curve: EnvelopeCurve,
  ) {}

  /** The service key pair, created on first use (a concurrent creator's key wins the race). */
  async serviceKey(): Promise<ServiceEnvelopeKey> {
    if (this.key) return this.key;
    this.loading ??= this.loadOrCreate().finally(() => {
      this.loading = null;
    });
    this.key = await this.loading;
    return this.key;
  }

  /** The shared key between the service and a caller's public key (LRU-cached). */
  async sharedKeyFor(callerPublicKey: string): Promise<Uint8Array> {
    const k = await this.serviceKey();
    return this.sharedKeys.get(k.privateKey, k.kid, callerPublicKey, k.curve);
  }

  /** The `signature_token` over a response's data (see signData). */
  async sign(data: string): Promise<string> {
    const k = await this.serviceKey();
    return signData(data, k.privateKey, k.curve);
  }

  private async loadOrCreate(): Promise<ServiceEnvelopeKey> {
    const existing = await this.load();
    if (existing) return existing;
    const pair = generateKeyPair(this.curve);
    const kid = uuid();
    await this.store.insertCurrent({
      kid,
      purpose: purposeOf(this.curve),
      alg: this.curve === "P-256" ? "ECDH-P256" : "ECDH-secp256k1",
      publicJwk: JSON.stringify({ publicKey: pair.publicKey, curve: this.curve }),
      privateSealed: await seal(this.secret, `envelope-key:${kid}`, pair.privateKey),
      status: "current",
      createdAt: Date.now(),
    });
    const created = await this.load();
    if (!created) throw new Error("no envelope key after creation");
    return created;
  }

  private async load(): Promise<ServiceEnvelopeKey | null> {
    const rows = await this.store.listActive(purposeOf(this.curve));
    const r = rows.find((x) => x.status === "current");
    if (!r) return null;
    const pub = JSON.parse(r.publicJwk) as { publicKey: string };
    const priv = await open(this.secret, `envelope-key:${r.kid}`, r.privateSealed);
    return { kid: r.kid, curve: this.curve, publicKey: pub.publicKey, privateKey: decodePrivateKey(priv, this.curve) };
  }
}

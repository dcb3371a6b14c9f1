/**
 * A software FIDO2 authenticator for workerd tests (written from the specifications alone, not
 * from the server's code or @simplewebauthn): P-256 keys in WebCrypto, authenticatorData
 * (WebAuthn L3 §6.1), COSE_Key (RFC 9052 §7, RFC 9053 §7.1.1), attestation `none` (§8.7) in
 * CBOR (RFC 8949), and assertion signatures over authenticatorData || SHA-256(clientDataJSON)
 * in DER (§6.5.5: ECDSA signatures are ASN.1 DER Ecdsa-Sig-Value). It answers with the JSON
 * forms a browser's PublicKeyCredential.toJSON() gives.
 */

const enc = new TextEncoder();

export function b64url(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function unb64url(s: string): Uint8Array {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function sha256(b: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(b)));
}

// --- CBOR (RFC 8949 §3): just the major types used here -------------------------------------
type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;

function head(major: number, n: number): Uint8Array {
  if (n < 24) return Uint8Array.of((major << 5) | n);
  if (n < 256) return Uint8Array.of((major << 5) | 24, n);
  if (n < 65536) return Uint8Array.of((major << 5) | 25, n >> 8, n & 255);
  return Uint8Array.of((major << 5) | 26, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255);
}

export function cbor(v: Cbor): Uint8Array {
  if (typeof v === "number") return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === "string") {
    const b = enc.encode(v);
    return concat(head(3, b.length), b);
  }
  if (v instanceof Uint8Array) return concat(head(2, v.length), v);
  const parts: Uint8Array[] = [head(5, v.size)];
  for (const [k, x] of v) parts.push(cbor(k), cbor(x));
  return concat(...parts);
}

// --- DER Ecdsa-Sig-Value from WebCrypto's raw r||s ------------------------------------------
function derInt(x: Uint8Array): Uint8Array {
  let i = 0;
  while (i < x.length - 1 && x[i] === 0) i++;
  let v = x.slice(i);
  if (v[0]! & 0x80) v = concat(Uint8Array.of(0), v);
  return concat(Uint8Array.of(0x02, v.length), v);
}

export function rawToDer(raw: Uint8Array): Uint8Array {
  const body = concat(derInt(raw.slice(0, 32)), derInt(raw.slice(32)));
  return concat(Uint8Array.of(0x30, body.length), body);
}

const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

export interface Ceremony {
  /** The origin the "browser" puts into clientDataJSON. */
  origin: string;
  /** The RP ID whose hash goes into authenticatorData (default: the options' rp id). */
  rpId?: string;
  /** Set the UV flag (default true). */
  uv?: boolean;
  /** Set the UP flag (default true). */
  up?: boolean;
}

export interface AssertionJSON {
  id: string;
  rawId: string;
  type: "public-key";
  response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle?: string };
  clientExtensionResults: Record<string, never>;
}

/** One credential on the authenticator: its key pair, id, user handle and signature counter. */
export class SoftCredential {
  counter = 0;
  userHandle: string | undefined;
  private constructor(
    readonly id: Uint8Array,
    private readonly keys: CryptoKeyPair,
    /** Counting mode: false models an authenticator without a counter (always 0). */
    readonly counts: boolean,
  ) {}

  static async create(counts = true): Promise<SoftCredential> {
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    return new SoftCredential(crypto.getRandomValues(new Uint8Array(32)), keys, counts);
  }

  get idB64(): string {
    return b64url(this.id);
  }

  private async coseKey(): Promise<Uint8Array> {
    const raw = new Uint8Array((await crypto.subtle.exportKey("raw", this.keys.publicKey)) as ArrayBuffer);
    // COSE_Key EC2: kty 2, alg -7 (ES256), crv 1 (P-256), x, y.
    return cbor(new Map<Cbor, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, raw.slice(1, 33)], [-3, raw.slice(33, 65)]]));
  }

  private async authData(rpId: string, flags: number, attested: boolean): Promise<Uint8Array> {
    const count = Uint8Array.of((this.counter >>> 24) & 255, (this.counter >> 16) & 255, (this.counter >> 8) & 255, this.counter & 255);
    const base = concat(await sha256(enc.encode(rpId)), Uint8Array.of(flags), count);
    if (!attested) return base;
    const aaguid = new Uint8Array(16);
    return concat(base, aaguid, Uint8Array.of(this.id.length >> 8, this.id.length & 255), this.id, await this.coseKey());
  }

  /** navigator.credentials.create() answering `options` (PublicKeyCredentialCreationOptionsJSON). */
  async attest(options: { challenge: string; rp: { id: string }; user: { id: string } }, c: Ceremony) {
    this.userHandle = options.user.id;
    const rpId = c.rpId ?? options.rp.id;
    const flags = ((c.up ?? true) ? FLAG.UP : 0) | ((c.uv ?? true) ? FLAG.UV : 0) | FLAG.AT;
    const clientData = enc.encode(JSON.stringify({ type: "webauthn.create", challenge: options.challenge, origin: c.origin, crossOrigin: false }));
    const attestationObject = cbor(new Map<Cbor, Cbor>([["fmt", "none"], ["attStmt", new Map()], ["authData", await this.authData(rpId, flags, true)]]));
    return {
      id: this.idB64,
      rawId: this.idB64,
      type: "public-key" as const,
      response: { clientDataJSON: b64url(clientData), attestationObject: b64url(attestationObject), transports: ["usb"] },
      clientExtensionResults: {},
    };
  }

  /** navigator.credentials.get() answering `options`; the counter moves first (when counting). */
  async assert(options: { challenge: string; rpId: string }, c: Ceremony & { counter?: number; withUserHandle?: boolean }): Promise<AssertionJSON> {
    if (c.counter !== undefined) this.counter = c.counter;
    else if (this.counts) this.counter++;
    const rpId = c.rpId ?? options.rpId;
    const flags = ((c.up ?? true) ? FLAG.UP : 0) | ((c.uv ?? true) ? FLAG.UV : 0);
    const clientData = enc.encode(JSON.stringify({ type: "webauthn.get", challenge: options.challenge, origin: c.origin, crossOrigin: false }));
    const authData = await this.authData(rpId, flags, false);
    const signed = concat(authData, await sha256(clientData));
    const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, this.keys.privateKey, signed));
    return {
      id: this.idB64,
      rawId: this.idB64,
      type: "public-key",
      response: {
        clientDataJSON: b64url(clientData),
        authenticatorData: b64url(authData),
        signature: b64url(rawToDer(raw)),
        ...(c.withUserHandle !== false && this.userHandle ? { userHandle: this.userHandle } : {}),
      },
      clientExtensionResults: {},
    };
  }
}

import { detachedHeader, jwkThumbprintUri, publishedKey, signDetached, verifyDetached } from "../../crypto/detached-jws";
import { fromHex, toHex, utf8 } from "../../crypto/encoding";
import type { Keyring } from "../../crypto/keys";
import { canonicalJson } from "./canonical-json";

/**
 * A consent receipt: the document's consent object (seed 004 "User Consent"), whose names are
 * the Kantara Initiative Consent Receipt Specification v1.1's. docs/api/authn.md ("User
 * Consent") says where each value comes from and how a third party verifies one.
 *
 * The signature is a detached JWS (RFC 7515 Appendix F) by the deployment's JWT keyring over
 * the RFC 8785 canonical JSON of the receipt without its `signature` member; `publicKey` is the
 * RFC 9278 thumbprint URI of the signing key (published in the JWKS), so the key is named
 * inside what is signed and a verifier who archived the key can still check the receipt after
 * the key has been retired from the JWKS.
 */
export interface ConsentReceipt {
  version: string;
  jurisdiction: string;
  /** Seconds since the epoch. */
  consentTimestamp: number;
  collectionMethod: string;
  consentReceiptID: string;
  publicKey: string;
  piiPrincipal: { urn: string; username: string; did: string; publicKey: string };
  piiProcessor: { tenantDns: string; tenantId: string; communityName: string; communityId: string }[];
  policyUrl: string;
  scopes: ReceiptScope[];
  requestID: string;
  user_agent: string;
  clientIP: string;
  signature: string;
  services: string[];
}

export interface ReceiptScope {
  name: string;
  uuid: string;
  claims: string[];
  consentType: string;
}

/** The Kantara specification version the receipt follows. */
export const RECEIPT_VERSION = "KI-CR-v1.1.0";
/** The JWS `typ` of a receipt signature (RFC 8725 §3.11): never a token's. */
export const RECEIPT_SIGNATURE_TYP = "consent-receipt+jws";

/** The bytes a receipt's signature covers: RFC 8785 JSON of every member but `signature`. */
export function signedBytes(receipt: Record<string, unknown>): Uint8Array {
  const rest: Record<string, unknown> = { ...receipt };
  delete rest.signature;
  return utf8(canonicalJson(rest));
}

/** Fills `publicKey` and `signature` of an unsigned receipt. */
export async function signReceipt(keyring: Keyring, unsigned: Omit<ConsentReceipt, "publicKey" | "signature">): Promise<ConsentReceipt> {
  const sig = await signDetached(keyring, RECEIPT_SIGNATURE_TYP, ({ thumbprintUri }) => signedBytes({ ...unsigned, publicKey: thumbprintUri }));
  return { ...unsigned, publicKey: sig.thumbprintUri, signature: sig.jws };
}

/**
 * Verifies a receipt against a JWKS, as a third party does with only public material: the
 * signature's key is the JWKS key with its kid, whose thumbprint must be the receipt's
 * `publicKey`. False for anything else (altered, forged, another key, not a receipt).
 */
export async function verifyReceiptWithJwks(receipt: unknown, jwks: { keys: (JsonWebKey & { kid?: string })[] }): Promise<boolean> {
  if (!receipt || typeof receipt !== "object" || Array.isArray(receipt)) return false;
  const r = receipt as Record<string, unknown>;
  const header = detachedHeader(r.signature);
  if (!header || typeof r.publicKey !== "string" || !Array.isArray(jwks?.keys)) return false;
  const jwk = jwks.keys.find((k) => k && typeof k === "object" && k.kid === header.kid);
  if (!jwk || (await jwkThumbprintUri(jwk)) !== r.publicKey) return false;
  try {
    return await verifyDetached(r.signature as string, signedBytes(r), RECEIPT_SIGNATURE_TYP, jwk);
  } catch {
    // canonicalJson refuses values JSON cannot carry: such a "receipt" was never signed.
    return false;
  }
}

/** Verifies a receipt with the deployment's published keys (current and previous). */
export async function verifyReceipt(keyring: Keyring, receipt: unknown): Promise<boolean> {
  const kid = detachedHeader((receipt as { signature?: unknown } | null)?.signature)?.kid;
  const jwk = kid ? await publishedKey(keyring, kid) : null;
  return jwk ? verifyReceiptWithJwks(receipt, { keys: [jwk] }) : false;
}

/**
 * A scope's `uuid` in receipts: a name-based UUID (version 5, RFC 9562 §5.5) of
 * `<tenantId>/<communityId>/<scope name>` in the namespace below, so it is the same in every
 * receipt of that community's scope and anyone can compute it (e.g. Python's uuid.uuid5).
 */
export const SCOPE_UUID_NAMESPACE = "c8cdb181-c17a-4a62-b72c-26f15df993d8";

export async function scopeUuid(tenantId: string, communityId: string, name: string): Promise<string> {
  const ns = fromHex(SCOPE_UUID_NAMESPACE.replace(/-/g, ""));
  const input = new Uint8Array(ns.length + utf8(`${tenantId}/${communityId}/${name}`).length);
  input.set(ns);
  input.set(utf8(`${tenantId}/${communityId}/${name}`), ns.length);
  const h = new Uint8Array(await crypto.subtle.digest("SHA-1", input)).slice(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50; // version 5
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const x = toHex(h);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

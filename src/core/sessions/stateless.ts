/**
 * Stateless sessions (client-credentials tokens): issuing one writes nothing to the
 * TokenAuthority. Its id
 * carries when the credential behind it was checked, `s-<epoch ms base 36>-<uuid>`, so the
 * subject's notBefore ends it like any family, and a logout records the id (TokenAuthority `revoked_ids`)
 * until the token's own expiry. Issuing a token per API call therefore costs no write.
 */
const STATELESS_PREFIX = "s-";

/** Mints a stateless session id whose credential was checked at `basisMs`. */
export function statelessSessionId(basisMs: number, id: string): string {
  return `${STATELESS_PREFIX}${Math.max(0, Math.floor(basisMs)).toString(36)}-${id}`;
}

/** The credential-check time of a stateless session id, or null for a family id. */
export function statelessBasis(sid: string): number | null {
  if (!sid.startsWith(STATELESS_PREFIX)) return null;
  const end = sid.indexOf("-", STATELESS_PREFIX.length);
  if (end < 0) return null;
  const digits = sid.slice(STATELESS_PREFIX.length, end);
  if (!/^[0-9a-z]{1,11}$/.test(digits)) return null;
  const n = parseInt(digits, 36);
  return Number.isSafeInteger(n) ? n : null;
}

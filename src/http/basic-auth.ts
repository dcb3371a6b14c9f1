import { AuthError } from "../core/errors";

/** Client credentials taken from an `Authorization: Basic` header. */
export interface BasicCredentials {
  id: string;
  secret: string;
}

const MAX_HEADER = 4096;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** application/x-www-form-urlencoded decoding of one value (`+` is a space). */
function formDecode(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, " "));
}

/**
 * Parses HTTP Basic credentials (RFC 7617 §2): base64 of `id:secret` in UTF-8, split at the
 * first colon. For OAuth clients RFC 6749 §2.3.1 form-urlencodes the id and the secret before
 * they are joined, so both are form-decoded here (`formEncoded`, the default).
 *
 * Returns null when there is no Authorization header or it uses another scheme; throws
 * `invalid_client` when a Basic header is malformed (not base64, not UTF-8, no colon, an empty
 * id or secret, bad percent-encoding), so the caller answers 401 with a challenge.
 */
export function parseBasicAuth(header: string | undefined | null, opts: { formEncoded?: boolean } = {}): BasicCredentials | null {
  if (!header) return null;
  const invalid = (why: string) => new AuthError("invalid_client", `malformed Basic authorization: ${why}`);
  if (!/^Basic(\s|$)/i.test(header)) return null;
  const m = /^Basic(?:[ ]+(\S*))?[ ]*$/i.exec(header);
  if (!m) throw invalid("unexpected characters");
  const encoded = m[1] ?? "";
  if (!encoded) throw invalid("no credentials");
  if (encoded.length > MAX_HEADER || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 === 1) throw invalid("not base64");
  let text: string;
  try {
    const bin = atob(encoded);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    text = utf8.decode(bytes);
  } catch {
    throw invalid("not base64 of UTF-8 text");
  }
  const colon = text.indexOf(":");
  if (colon < 0) throw invalid("no colon between id and secret");
  let id = text.slice(0, colon);
  let secret = text.slice(colon + 1);
  if (opts.formEncoded !== false) {
    try {
      id = formDecode(id);
      secret = formDecode(secret);
    } catch {
      throw invalid("bad percent-encoding");
    }
  }
  if (!id || !secret) throw invalid("empty id or secret");
  return { id, secret };
}

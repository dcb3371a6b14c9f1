import { toHex } from "../../crypto/encoding";
import { randomBytes } from "../../crypto/random";

/** An id in the shape of the document's MongoDB ObjectIds: 24 hex characters, 96 random bits. */
export function objectId(): string {
  return toHex(randomBytes(12));
}

export const OBJECT_ID = /^[0-9a-f]{24}$/;

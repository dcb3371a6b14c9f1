import { bodyLimit } from "hono/body-limit";
import { AuthError } from "../core/errors";
import type { ErrorRenderer } from "./errors";

/** Largest request body any surface accepts; credentials and tokens are far smaller. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Refuses larger bodies with 413 in the surface's own error shape, before they are read. */
export function limitBody(render: ErrorRenderer, maxSize = MAX_BODY_BYTES) {
  return bodyLimit({ maxSize, onError: (c) => render(c, new AuthError("payload_too_large", "request body too large")) });
}

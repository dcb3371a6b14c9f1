import { AuthError } from "../../src/core/errors";

/** "ok" when `p` resolves, the AuthError code when it rejects with one; anything else rethrows. */
export async function outcomeCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (e instanceof AuthError) return e.code;
    throw e;
  }
}

import type { AppState } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { FieldError } from "../field-error";

/**
 * Saved per-user state of the client applications that log in through CloudCheckr's
 * `?app=` parameter (seed 001: "The client to retrieve the state for ... glass, lens").
 * The state is an opaque JSON object owned by the app; the service only stores it, bounded.
 */
export const STATE_APPS = ["glass", "lens"] as const;
export type StateApp = (typeof STATE_APPS)[number];

/** Largest stored state, as serialized JSON (bytes of UTF-8). */
export const MAX_STATE_BYTES = 16 * 1024;

export function isStateApp(app: string): app is StateApp {
  return (STATE_APPS as readonly string[]).includes(app);
}

/** The subject of an access token must be a user (not an API client) to own app state. */
export function requireUserSubject(sub: string): void {
  if (sub.startsWith("client:")) throw new AuthError("forbidden", "app state belongs to users; this token is a client's");
}

/** The user's saved state for `app`, or null when the app never saved any. */
export async function loadAppState(svc: Services, scope: Scope, userUid: string, app: StateApp): Promise<AppState | null> {
  requireUserSubject(userUid);
  return svc.appStates.get(scope.tenant.id, userUid, app);
}

/**
 * Replaces the user's saved state for `app`. Refuses non-objects and states larger than
 * MAX_STATE_BYTES before anything is written.
 */
export async function saveAppState(svc: Services, scope: Scope, userUid: string, app: StateApp, state: unknown): Promise<AppState> {
  requireUserSubject(userUid);
  if (typeof state !== "object" || state === null || Array.isArray(state)) {
    throw new FieldError("invalid_request", "state", "state must be a JSON object");
  }
  const size = new TextEncoder().encode(JSON.stringify(state)).length;
  if (size > MAX_STATE_BYTES) throw new FieldError("invalid_request", "state", `state must be at most ${MAX_STATE_BYTES} bytes of JSON`);
  const record: AppState = { tenantId: scope.tenant.id, userUid, app, state: state as Record<string, unknown>, updatedAt: Date.now() };
  await svc.appStates.put(record);
  return record;
}

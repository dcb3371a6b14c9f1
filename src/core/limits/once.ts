import { stubNear } from "../placement/location-hint";
import type { ReplayGuard } from "../../durable/replay-guard";

/**
 * Single use, decided once: a reset code, a challenge session, a ktoken or a request id is
 * consumed by exactly one of any number of racing requests (ReplayGuard Durable Object).
 *
 * `near` is the claiming request's location hint (Scope.locationHint). It matters only when
 * the call creates the object (a hint never moves an existing one: core/placement/location-hint.ts),
 * so a per-caller scope (the Authn request ids of one caller key, a user's TOTP steps) is
 * created near that caller, and a per-tenant scope near whoever claimed first, which is where
 * the default placement would have put it anyway. One object per scope still decides.
 */
export class OnceGuard {
  constructor(private readonly ns: DurableObjectNamespace<ReplayGuard>) {}

  private stub(scope: string, near?: DurableObjectLocationHint) {
    return stubNear(this.ns, scope, near);
  }

  /** True for exactly one caller per (scope, id) until `expiresAt` (epoch ms). */
  async claim(scope: string, id: string, expiresAt: number, near?: DurableObjectLocationHint): Promise<boolean> {
    return this.stub(scope, near).claim(id, expiresAt, Date.now());
  }

  async isClaimed(scope: string, id: string, near?: DurableObjectLocationHint): Promise<boolean> {
    return this.stub(scope, near).isClaimed(id, Date.now());
  }
}

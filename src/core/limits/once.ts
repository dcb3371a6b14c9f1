import type { ReplayGuard } from "../../durable/replay-guard";

/**
 * Single use, decided once: a reset code, a challenge session, a ktoken or a request id is
 * consumed by exactly one of any number of racing requests (ReplayGuard Durable Object).
 */
export class OnceGuard {
  constructor(private readonly ns: DurableObjectNamespace<ReplayGuard>) {}

  /** True for exactly one caller per (scope, id) until `expiresAt` (epoch ms). */
  async claim(scope: string, id: string, expiresAt: number): Promise<boolean> {
    return this.ns.get(this.ns.idFromName(scope)).claim(id, expiresAt, Date.now());
  }

  async isClaimed(scope: string, id: string): Promise<boolean> {
    return this.ns.get(this.ns.idFromName(scope)).isClaimed(id, Date.now());
  }
}

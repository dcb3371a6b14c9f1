import { describe, expect, it } from "vitest";
import { SELF } from "cloudflare:test";
import { app } from "../app";

/**
 * Which of Hono's routers serves the Worker. Hono's default SmartRouter tries RegExpRouter
 * and silently falls back to TrieRouter for the whole app when a single route is one it cannot
 * hold (a parameter beside a static segment at one position, same method). TrieRouter walks its
 * tree and sorts the handlers it collects on every request: the Worker's bare route measured
 * about a quarter more CPU with it (docs/benchmarks.md "The per-request floor"). A new route that
 * brings the fallback back fails here, with the route to change named by Hono's error.
 */
describe("routing", () => {
  it("every route fits RegExpRouter: SmartRouter settles on it", async () => {
    expect((await SELF.fetch("https://routing.test/ping")).status).toBe(200);
    const router = app.router as unknown as { name: string };
    expect(router.name).toBe("SmartRouter + RegExpRouter");
  });
});

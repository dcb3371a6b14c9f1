import { describe, expect, it } from "vitest";
import { refreshed } from "./tenant";

describe("tenant lookups when D1 fails", () => {
  it("serve the expired entry rather than fail, and fail only when there is none", async () => {
    const map = new Map<string, { at: number; value: string }>();
    expect(await refreshed<{ value: string }>(map, "k", async () => ({ value: "v1" }))).toMatchObject({ value: "v1" });
    map.get("k")!.at = 0; // long expired
    const served = await refreshed<{ value: string }>(map, "k", async () => {
      throw new Error("D1 unavailable");
    });
    expect(served).toMatchObject({ value: "v1" });
    expect(map.get("k")!.at).toBeGreaterThan(0); // trusted for another cache period
    await expect(
      refreshed<{ value: string }>(map, "other", async () => {
        throw new Error("D1 unavailable");
      }),
    ).rejects.toThrow("D1 unavailable");
    expect(await refreshed<{ value: string }>(map, "k", async () => ({ value: "v2" }))).toMatchObject({ value: "v2" });
  });
});

import { defineConfig } from "vitest/config";

/** End-to-end tests: run in Node, start the Worker with wrangler, drive it over HTTP. */
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file starts its own wrangler on its own free port with its own persist dir, so files
    // are independent; two at once on the 2-core CI machine (vitest's default would be one).
    fileParallelism: true,
    maxWorkers: 2,
  },
});

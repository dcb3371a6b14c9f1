import { defineConfig } from "vitest/config";

/** End-to-end tests: run in Node, start the Worker with wrangler, drive it over HTTP. */
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});

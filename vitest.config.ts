import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/**
 * Unit and integration tests run inside workerd against real local D1, KV and Durable Objects
 * (the Workers pool). Migrations are applied by test/setup.ts before every test file.
 */
export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ENVIRONMENT: "development",
            // The pool also reads a developer's .dev.vars (npm run dev writes DEFAULT_TENANT=demo
            // there); pin it so tests behave the same with or without that file.
            DEFAULT_TENANT: "",
            // Failed queue jobs retry at once here, so a test sees the dead-letter queue in ms.
            JOB_RETRY_BASE_SECONDS: "0",
            KEY_ENCRYPTION_SECRET: "test-key-encryption-secret-0123456789abcdef",
            PASSWORD_PEPPER: "test-password-pepper-0123456789abcdef0123",
            BOOTSTRAP_SYSTEM_LICENSE: "test-bootstrap-system-license-0123456789",
          },
        },
      }),
    ],
    test: {
      include: ["src/**/*.test.ts", "test/integration/**/*.test.ts"],
      setupFiles: ["./test/setup.ts"],
      // Vitest's default is one worker fewer than the cores: on the 2-core CI machine that is
      // one file at a time, and most of a file's time is the Workers pool starting the file's own
      // runtime (a Miniflare: workerd, storage, bundle; the migrations are 0.1-0.3 s of it),
      // waiting more than computing. Measured on 95 files: two at once 504 s, four 403 s. Four it
      // is, now that the suite has ~125 files; the lockout timing test that once failed under
      // that load (src/core/limits/lockout-wait.test.ts) retries once. `isolate: false` (one
      // runtime for many files) was tried: tests slowed tenfold as state piled up in the shared
      // runtime, so small related files share a runner file instead (src/protocols/codecs.test.ts,
      // src/protocols/saml/hostile/corpus.test.ts, and a `suite.test.ts` in twelve directories
      // whose `*.spec.ts` files it imports: about 50 runtimes fewer per run). Specs that share
      // fixtures by name with a sibling (src/api/sentinel) keep their own files.
      maxWorkers: 4,
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  };
});

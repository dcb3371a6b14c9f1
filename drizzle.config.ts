import { defineConfig } from "drizzle-kit";

// Migrations are generated from the schema and committed; wrangler applies them
// (`wrangler d1 migrations apply`), and the test pool applies them to its local D1.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/storage/d1/schema",
  out: "./migrations",
});

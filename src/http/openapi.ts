import { OpenAPIHono, type Hook } from "@hono/zod-openapi";
import type { Context } from "hono";
import { AuthError } from "../core/errors";
import { describeZodError, surfaceErrorHandler, type ErrorRenderer } from "./errors";
import type { AppEnv } from "./types";
import { limitBody } from "./body-limit";
import { noStore } from "./no-store";

/**
 * Creates a surface's app: routes declared with @hono/zod-openapi validate their input, and
 * a failed validation, a malformed body, an oversized body or a core error is rendered in the
 * surface's own documented error shape.
 */
export function surfaceApp(render: ErrorRenderer): OpenAPIHono<AppEnv> {
  const defaultHook: Hook<unknown, AppEnv, string, unknown> = (result, c) => {
    if (!result.success) {
      return render(c as Context<AppEnv>, new AuthError("invalid_request", describeZodError(result.error)));
    }
    return undefined;
  };
  const app = new OpenAPIHono<AppEnv>({ defaultHook });
  app.onError(surfaceErrorHandler(render));
  app.use("*", limitBody(render), noStore);
  return app;
}

/** Serves a surface's OpenAPI 3.1 document, built once per isolate. */
export function openApiDocument(app: OpenAPIHono<AppEnv>, info: { title: string; version: string; description: string }, basePath: string) {
  let doc: unknown = null;
  return (c: Context) => {
    doc ??= app.getOpenAPI31Document({ openapi: "3.1.0", info, servers: [{ url: basePath }] });
    return c.json(doc);
  };
}

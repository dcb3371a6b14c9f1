import { Hono } from "hono";
import type { AppEnv } from "../http/types";

/**
 * The hosted login (DESIGN.md web/): the OpenID Provider's front channel under
 * `/oidc/:communityId` (authorize, the login, TOTP and consent pages, end_session).
 */
export const hostedLogin = new Hono<AppEnv>();

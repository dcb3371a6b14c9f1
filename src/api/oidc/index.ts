import { Hono } from "hono";
import type { AppEnv } from "../../http/types";

/**
 * The OpenID Provider's back channel, one provider per community under
 * `/oidc/:communityId`: discovery, JWKS, token, userinfo, revocation, introspection
 * (issue 8). The front channel (authorize, the hosted login, end_session) is web/.
 */
export const oidcProvider = new Hono<AppEnv>();

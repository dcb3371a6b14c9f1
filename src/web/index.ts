import { Hono } from "hono";
import type { AppEnv } from "../http/types";
import { authorizeRoute } from "./authorize";
import { consentRoute, forgotFormRoute, forgotRoute, loginPageRoute, loginRoute, otpRoute } from "./login";
import { endSessionRoute } from "./end-session";
import { emailCodeRoute, otpPageRoute, recoveryPageRoute, recoveryRoute } from "./login-codes";
import { limitForm } from "./flow";
import { passkeyOptionsRoute, passkeyRegisterOptionsRoute, passkeyRegisterRoute, passkeyRoute } from "./passkeys";

/**
 * The hosted login (DESIGN.md web/): the OpenID Provider's front channel under
 * `/oidc/:communityId` (authorize, the login, TOTP and consent pages, end_session).
 * Pages are server-rendered Hono JSX and need no script (docs/api/oidc.md "Hosted login").
 * Every route resolves its provider itself rather than through a `use()` on `/:communityId/*`:
 * the back channel (api/oidc) shares the `/oidc` mount, and its routes must not run this.
 */
export const hostedLogin = new Hono<AppEnv>();

hostedLogin.get("/:communityId/authorize", authorizeRoute);
// OIDC Core §3.1.2.1: the authorization request may also be a form POST.
hostedLogin.post("/:communityId/authorize", limitForm, authorizeRoute);
hostedLogin.get("/:communityId/login", loginPageRoute);
hostedLogin.post("/:communityId/login", limitForm, loginRoute);
hostedLogin.post("/:communityId/login/otp", limitForm, otpRoute);
// Issue 11: the email code step, and recovery codes in place of the TOTP code (login-codes.tsx).
hostedLogin.get("/:communityId/login/otp", otpPageRoute);
hostedLogin.post("/:communityId/login/email-code", limitForm, emailCodeRoute);
hostedLogin.get("/:communityId/login/recovery", recoveryPageRoute);
hostedLogin.post("/:communityId/login/recovery", limitForm, recoveryRoute);
// Issue 11: passkey sign-in (conditional UI) and the "Create a passkey" step (passkeys.tsx).
hostedLogin.post("/:communityId/login/passkey/options", limitForm, passkeyOptionsRoute);
hostedLogin.post("/:communityId/login/passkey", limitForm, passkeyRoute);
hostedLogin.post("/:communityId/login/passkey/register/options", limitForm, passkeyRegisterOptionsRoute);
hostedLogin.post("/:communityId/login/passkey/register", limitForm, passkeyRegisterRoute);
hostedLogin.post("/:communityId/login/consent", limitForm, consentRoute);
hostedLogin.get("/:communityId/login/forgot", forgotFormRoute);
hostedLogin.post("/:communityId/login/forgot", limitForm, forgotRoute);
hostedLogin.get("/:communityId/end_session", endSessionRoute);
hostedLogin.post("/:communityId/end_session", limitForm, endSessionRoute);

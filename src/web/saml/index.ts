import { Hono } from "hono";
import type { AppEnv } from "../../http/types";
import { limitSamlForm } from "./front";
import { metadataRoute } from "./metadata";
import { sloRoute } from "./slo";
import { idpInitRoute, ssoRoute } from "./sso";

/**
 * The community's SAML IdP front channel, mounted at `/saml` (src/app.ts): sso (Redirect and
 * POST bindings), idp-init/<spId>, slo, metadata. The sign-in itself is the hosted login's
 * (src/web/flow.tsx), which this module's continuations ("saml", "saml-idp-init") complete.
 * Engineer C's SP-side routes (saml-sp.tsx) share the mount under their own paths.
 */
export const samlFront = new Hono<AppEnv>();

samlFront.get("/:communityId/sso", ssoRoute);
samlFront.post("/:communityId/sso", limitSamlForm, ssoRoute);
samlFront.get("/:communityId/idp-init/:spId", idpInitRoute);
samlFront.get("/:communityId/slo", sloRoute);
samlFront.post("/:communityId/slo", limitSamlForm, sloRoute);
samlFront.get("/:communityId/metadata", metadataRoute);

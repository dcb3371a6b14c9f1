import { isAuthError } from "../../core/errors";
import { handler, messagePage } from "../flow";
import { samlUrl } from "./front";
import { idpMetadataXml } from "./idp-seam";

/**
 * `/saml/:communityId/metadata`: the community's IdP metadata (SAML Metadata §2.4.3), public
 * so SPs can fetch it by URL. `application/samlmetadata+xml` (RFC 6838 registration in SAML
 * Metadata Interoperability); cacheable for five minutes so a key rotation (PUT idp_config)
 * reaches SPs that re-fetch soon.
 */
export const metadataRoute = handler(async (c, p) => {
  let xml: string;
  try {
    xml = await idpMetadataXml(c.get("services"), p.scope, { ssoUrl: samlUrl(p, "sso"), sloUrl: samlUrl(p, "slo") });
  } catch (e) {
    // Endpoints that metadata may not advertise (plain http off loopback): not a 5xx.
    if (isAuthError(e) && e.code === "invalid_request") return messagePage(c, p.scope, 404, "Metadata is not available", "This service publishes SAML metadata over https only.");
    throw e;
  }
  return c.body(xml, 200, { "content-type": "application/samlmetadata+xml; charset=utf-8", "cache-control": "public, max-age=300" });
});

import { toBase64, toBase64Url, utf8 } from "../../../crypto/encoding";
import { importServiceAccountKey, signServiceAccountJwt } from "../../../crypto/service-account";
import { field, jsonInit, VendorError, vendorCall, xmlEscape } from "./http";
import { vendorSlug, type FeaturedType } from "./templates";

/**
 * The outbound adapter of featured service providers: the call that registers this
 * community, as a SAML identity provider, at the vendor of the application (its `domain`).
 * Run by the registration job (registration.ts), after the PUT has answered. Each vendor:
 *  - auth0: client-credentials token for the Management API, then a `samlp` connection
 *    named as the template's (POST /api/v2/connections);
 *  - okta: our signing certificate as an IdP key credential, then a SAML2 identity provider
 *    (POST /api/v1/idps, SSWS token); Okta answers the ACS and audience it assigned;
 *  - salesforce: SOAP login (username, password + security token), then a SamlSsoConfig
 *    through the Tooling API;
 *  - forgerock: AM authentication (X-OpenAM-Username/Password), a new circle of trust unless
 *    an existing one is named, then our IdP metadata imported as a remote entity;
 *  - gsuite: a service-account assertion (RFC 7523) for a token, then an inbound SAML SSO
 *    profile in Cloud Identity (Google's API host, not the Workspace domain: that domain is a
 *    mail domain, not an API);
 *  - zendesk: no call: its document config is `{}` (no credentials), so it is set up by hand.
 */

/** What the vendor needs to know about us: the community's SAML IdP (idp_config). */
export interface OurIdp {
  entityId: string;
  /** PEM or base64 X.509 of our signing key. */
  signingCert: string;
  ssoUrl: string;
}

export interface VendorContext {
  fetch: typeof fetch;
  name: string;
  domain: string;
  config: Record<string, unknown>;
  secrets: Record<string, string>;
  idp: OurIdp;
}

export interface VendorResult {
  /** The vendor's id of what was created (connection, IdP, config, entity, profile). */
  vendorId: string;
  /** SAML settings the vendor assigned, replacing the template's provisional ones (Okta). */
  saml?: { entityId: string; assertionConsumerServiceURL: string };
}

type Adapter = (ctx: VendorContext) => Promise<VendorResult>;

/** The certificate as bare base64 DER (what SAML metadata and most vendor APIs take). */
function certBase64(cert: string): string {
  return cert.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
}

function certPem(cert: string): string {
  const b64 = certBase64(cert);
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/(.{64})/g, "$1\n").trim()}\n-----END CERTIFICATE-----\n`;
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

/** Our IdP's SAML 2.0 metadata (SAML Metadata §2.4.3), for vendors that import metadata. */
export function idpMetadataXml(idp: OurIdp): string {
  return (
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${xmlEscape(idp.entityId)}">` +
    `<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
    `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certBase64(idp.signingCert)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
    `<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${xmlEscape(idp.ssoUrl)}"/>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${xmlEscape(idp.ssoUrl)}"/>` +
    `</md:IDPSSODescriptor></md:EntityDescriptor>`
  );
}

const auth0: Adapter = async (ctx) => {
  const origin = new URL(ctx.domain).origin;
  const token = await vendorCall(
    ctx.fetch,
    "auth0 token",
    `${origin}/oauth/token`,
    jsonInit("POST", { grant_type: "client_credentials", client_id: str(ctx.config.clientId), client_secret: ctx.secrets.clientSecret, audience: `${origin}/api/v2/` }),
  );
  const bearer = { authorization: `Bearer ${field(token, "access_token", "auth0 token")}` };
  const conn = await vendorCall(
    ctx.fetch,
    "auth0 connection",
    `${origin}/api/v2/connections`,
    jsonInit(
      "POST",
      {
        name: vendorSlug(ctx.name),
        strategy: "samlp",
        display_name: ctx.name.slice(0, 128),
        options: {
          signInEndpoint: ctx.idp.ssoUrl,
          // Auth0 takes the PEM certificate base64-encoded.
          signingCert: toBase64(utf8(certPem(ctx.idp.signingCert))),
          signSAMLRequest: false,
          protocolBinding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
        },
      },
      bearer,
    ),
  );
  return { vendorId: field(conn, "id", "auth0 connection") };
};

const okta: Adapter = async (ctx) => {
  const origin = new URL(ctx.domain).origin;
  const auth = { authorization: `SSWS ${ctx.secrets.apiToken}` };
  const key = await vendorCall(ctx.fetch, "okta key credential", `${origin}/api/v1/idps/credentials/keys`, jsonInit("POST", { x5c: [certBase64(ctx.idp.signingCert)] }, auth));
  const kid = field(key, "kid", "okta key credential");
  const idp = await vendorCall(
    ctx.fetch,
    "okta identity provider",
    `${origin}/api/v1/idps`,
    jsonInit(
      "POST",
      {
        type: "SAML2",
        name: ctx.name.slice(0, 100),
        protocol: {
          type: "SAML2",
          endpoints: { sso: { url: ctx.idp.ssoUrl, binding: "HTTP-POST", destination: ctx.idp.ssoUrl }, acs: { binding: "HTTP-POST", type: "INSTANCE" } },
          algorithms: { request: { signature: { algorithm: "SHA-256", scope: "REQUEST" } }, response: { signature: { algorithm: "SHA-256", scope: "ANY" } } },
          credentials: { trust: { issuer: ctx.idp.entityId, kid } },
        },
        policy: { subject: { userNameTemplate: { template: "idpuser.subjectNameId" }, matchType: "EMAIL" }, provisioning: { action: "DISABLED" } },
      },
      auth,
    ),
  );
  const id = field(idp, "id", "okta identity provider");
  const protocol = (idp.json.protocol ?? {}) as { credentials?: { trust?: { audience?: unknown } } };
  const audience = protocol.credentials?.trust?.audience;
  return {
    vendorId: id,
    saml: {
      entityId: typeof audience === "string" && audience ? audience : `https://www.okta.com/saml2/service-provider/${id}`,
      assertionConsumerServiceURL: `${origin}/sso/saml2/${encodeURIComponent(id)}`,
    },
  };
};

const salesforce: Adapter = async (ctx) => {
  const origin = new URL(ctx.domain).origin;
  const login = await vendorCall(ctx.fetch, "salesforce login", `${origin}/services/Soap/u/59.0`, {
    method: "POST",
    headers: { "content-type": "text/xml; charset=UTF-8", soapaction: "login" },
    body:
      `<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">` +
      `<env:Body><urn:login><urn:username>${xmlEscape(str(ctx.config.username))}</urn:username>` +
      `<urn:password>${xmlEscape(`${ctx.secrets.password}${ctx.secrets.securityToken}`)}</urn:password></urn:login></env:Body></env:Envelope>`,
  });
  const session = /<sessionId>([^<]+)<\/sessionId>/.exec(login.text)?.[1];
  if (!session) throw new VendorError("salesforce login: the answer has no sessionId", true);
  const created = await vendorCall(
    ctx.fetch,
    "salesforce SamlSsoConfig",
    `${origin}/services/data/v59.0/tooling/sobjects/SamlSsoConfig`,
    jsonInit(
      "POST",
      {
        FullName: vendorSlug(ctx.name).replace(/-/g, "_"),
        Metadata: {
          name: ctx.name.slice(0, 80),
          issuer: ctx.idp.entityId,
          loginUrl: ctx.idp.ssoUrl,
          samlVersion: "SAML2_0",
          samlEntityId: origin,
          identityLocation: "SubjectNameId",
          identityMapping: "FederationId",
          requestSignatureMethod: "RSA_SHA256",
          redirectBinding: false,
          validationCert: certBase64(ctx.idp.signingCert),
        },
      },
      { authorization: `Bearer ${session}` },
    ),
  );
  return { vendorId: field(created, "id", "salesforce SamlSsoConfig") };
};

const forgerock: Adapter = async (ctx) => {
  const base = ctx.domain.replace(/\/+$/, "");
  const auth = await vendorCall(ctx.fetch, "forgerock authenticate", `${base}/json/realms/root/authenticate`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "accept-api-version": "resource=2.0, protocol=1.0",
      "x-openam-username": str(ctx.config.username),
      "x-openam-password": ctx.secrets.password ?? "",
    },
    body: "{}",
  });
  const session = { cookie: `iPlanetDirectoryPro=${field(auth, "tokenId", "forgerock authenticate")}`, "accept-api-version": "resource=1.0" };
  let cot = str(ctx.config.COT);
  if (ctx.config.useExistingCOT !== true) {
    cot = cot || vendorSlug(ctx.name);
    await vendorCall(
      ctx.fetch,
      "forgerock circle of trust",
      `${base}/json/realms/root/realm-config/federation/circlesoftrust?_action=create`,
      jsonInit("POST", { _id: cot, status: "active", trustedProviders: [`${str(ctx.config.hostedSP)}|saml2`] }, session),
    );
  }
  const imported = await vendorCall(
    ctx.fetch,
    "forgerock import entity",
    `${base}/json/realms/root/realm-config/saml2/remote?_action=importEntity`,
    jsonInit("POST", { standardMetadata: toBase64Url(utf8(idpMetadataXml(ctx.idp))), cot }, session),
  );
  const ids = imported.json.importedEntities;
  const first = Array.isArray(ids) && typeof ids[0] === "string" ? ids[0] : ctx.idp.entityId;
  return { vendorId: first };
};

const GOOGLE_TOKEN = "https://oauth2.googleapis.com/token";
const CLOUD_IDENTITY = "https://cloudidentity.googleapis.com/v1";

const gsuite: Adapter = async (ctx) => {
  let key: CryptoKey;
  try {
    key = await importServiceAccountKey(ctx.secrets.serviceAccountPrivateKey ?? "");
  } catch {
    throw new VendorError("gsuite: serviceAccountPrivateKey is not a PKCS#8 RSA key", true);
  }
  const iat = Math.floor(Date.now() / 1000);
  const assertion = await signServiceAccountJwt(key, {
    iss: str(ctx.config.serviceAccountEmail),
    sub: str(ctx.config.adminEmail),
    scope: "https://www.googleapis.com/auth/cloud-identity.inboundsso",
    aud: GOOGLE_TOKEN,
    iat,
    exp: iat + 300,
  });
  const token = await vendorCall(ctx.fetch, "gsuite token", GOOGLE_TOKEN, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }).toString(),
  });
  const bearer = { authorization: `Bearer ${field(token, "access_token", "gsuite token")}` };
  const op = await vendorCall(
    ctx.fetch,
    "gsuite inbound SAML profile",
    `${CLOUD_IDENTITY}/inboundSamlSsoProfiles`,
    jsonInit(
      "POST",
      {
        customer: "customers/my_customer",
        displayName: ctx.name.slice(0, 100),
        idpConfig: { entityId: ctx.idp.entityId, singleSignOnServiceUri: ctx.idp.ssoUrl, logoutRedirectUri: str(ctx.config.sloUrl) },
      },
      bearer,
    ),
  );
  const response = (op.json.response ?? {}) as { name?: unknown };
  const profile = typeof response.name === "string" ? response.name : field(op, "name", "gsuite inbound SAML profile");
  if (typeof response.name === "string") {
    await vendorCall(ctx.fetch, "gsuite idp credential", `${CLOUD_IDENTITY}/${profile}/idpCredentials:add`, jsonInit("POST", { pemData: certPem(ctx.idp.signingCert) }, bearer));
  }
  return { vendorId: profile };
};

/** The adapter of each featured type; null: registered by hand (no credentials to call with). */
export const ADAPTERS: Record<FeaturedType, Adapter | null> = { auth0, okta, salesforce, forgerock, gsuite, zendesk: null };

/** Decodes a sealed secrets JSON (registration.ts); throws on anything but a string map. */
export function secretsOf(json: string): Record<string, string> {
  const v: unknown = JSON.parse(json);
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("sealed secrets are not an object");
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string"));
}

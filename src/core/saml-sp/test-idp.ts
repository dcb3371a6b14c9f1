import { generateSigningCredential, importPrivateKeyPem } from "../../crypto/x509";
import { responseXml, signXml, type ResponseOptions } from "../../protocols/saml/hostile/fixtures";
import { newSamlId } from "../../protocols/saml/xml";
import type { ExternalIdpRecord } from "../../storage/ports-idp";
import type { Scope, Services } from "../context";
import { communitySpEndpoints, rememberAuthnRequest } from "./seams";

/**
 * Tests only: an external SAML IdP registered for a community (a real certificate from
 * crypto/x509, its record in the real D1 store) that signs Responses for our SP's ACS.
 */
export interface TestExternalIdp {
  record: ExternalIdpRecord;
  entityId: string;
  spEntityId: string;
  acsUrl: string;
  /** A signed Response (base64) for `nameId`; `inResponseTo` null for unsolicited. */
  response(o?: ResponseOptions): Promise<string>;
  /** Remembers an AuthnRequest to this IdP (as samlRequest/generate does) and returns its ID. */
  request(relay?: Record<string, string> | null): Promise<string>;
}

const hex24 = () => [...crypto.getRandomValues(new Uint8Array(12))].map((b) => b.toString(16).padStart(2, "0")).join("");

export async function registerTestIdp(
  svc: Services,
  scope: Scope,
  o: { origin: string; usersInIdpStore?: boolean; acsUrl?: string; entityId?: string } ,
): Promise<TestExternalIdp> {
  const cred = await generateSigningCredential("RSA-SHA256", "test-idp");
  const key = await importPrivateKeyPem(cred.privateKeyPkcs8Pem, "RSA-SHA256");
  const entityId = o.entityId ?? `https://idp-${hex24()}.example/metadata`;
  const acsUrl = o.acsUrl ?? communitySpEndpoints(o.origin, scope.community.id).acsUrl;
  const spEntityId = `${o.origin}/saml/${scope.community.id}/sp`;
  const now = Date.now();
  const record: ExternalIdpRecord = {
    id: hex24(),
    tenantId: scope.tenant.id,
    communityId: scope.community.id,
    idpEntityId: entityId,
    body: {
      connection: { idpName: "Test", idpEntityId: entityId, samlLoginUrl: "https://idp.example/sso", samlLogoutUrl: "https://idp.example/slo", ssoBinding: "HTTP-Redirect", sloBinding: "HTTP-Redirect", forceAuthn: false, spEntityId, spSigningCertificate: "", idpSigningCertificate: cred.certPem },
      routingPolicy: { enabled: true, usersInIdpStore: o.usersInIdpStore === true },
    },
    sealedSecrets: null,
    version: 0,
    createdAt: now,
    updatedAt: now,
  };
  await svc.identity.externalIdps.create(record);
  return {
    record,
    entityId,
    spEntityId,
    acsUrl,
    async response(r: ResponseOptions = {}) {
      const xml = responseXml({ issuer: entityId, audience: spEntityId, destination: acsUrl, recipient: acsUrl, issuedAt: Date.now(), assertionId: newSamlId(), responseId: newSamlId(), ...r });
      return btoa(String.fromCharCode(...new TextEncoder().encode(await signXml(xml, { key }))));
    },
    async request(relay = null) {
      const id = newSamlId();
      await rememberAuthnRequest(svc, scope.tenant.id, { id, communityId: scope.community.id, idpId: record.id, acsUrl, relay });
      return id;
    },
  };
}

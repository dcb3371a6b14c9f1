/**
 * Fixtures of the Service Providers tests (src/api/authn/service-providers*.test.ts).
 */
export const CERT = `-----BEGIN CERTIFICATE-----
MIIBijCCAS+gAwIBAgIUYEjJi/njsXH3mU2VFpyxAMqvJBwwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPc3AuZXhhbXBsZS50ZXN0MB4XDTI2MTIwMjAxNDM0OVoXDTM2
MTEyOTAxNDM0OVowGjEYMBYGA1UEAwwPc3AuZXhhbXBsZS50ZXN0MFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEwpctHuLqEMwZrIPwoVmdFplOtPq9yJC5SwsYUWW5
20wYFUFE/fkHLeRLgtl49mPG0MpkmRgeLPCGXQJQSNLtEqNTMFEwHQYDVR0OBBYE
FFsVFeIPZsYTeMyKJ6rbAyO57GNUMB8GA1UdIwQYMBaAFFsVFeIPZsYTeMyKJ6rb
AyO57GNUMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAIrrWPWv
8xQWeEhJIxSOMDOfp7Oboh+4vZvuigkE1CPQAiEA2rvbW3pZtBZQJNap+L2DSoqB
ur8qRJ9vPoPLU2TP9QA=
-----END CERTIFICATE-----`;

export type Sp = Record<string, unknown> & { _id: string; name: string; type: string; communityId: string; __v: number; oidc_config?: Record<string, unknown>; saml_config?: Record<string, unknown> };

export const saml = (entityId: string, extra: Record<string, unknown> = {}) => ({
  name: "SAML app",
  type: "saml",
  environment: "production",
  forceReauthentication: "false",
  saml_config: {
    entityId,
    accessUrl: "https://sp.example.test/",
    assertionConsumerServiceURL: "https://sp.example.test/saml/acs",
    assertionMethod: "post",
    logoutRequestSignRequired: false,
    logoutResponseSignRequired: false,
    authRequestSignRequired: true,
    assertionSignRequired: true,
    signingCert: CERT,
    encryptionCert: CERT,
    encryptionAlgo: "aes256-gcm",
    nameid: { format: "emailAddress", value: "email", attribute_type: "identity" },
    attributes: [{ claim_name: "department", attribute_name: "dept", attribute_type: "identity", value_type: "dynamic" }],
    metadata: "<EntityDescriptor/>",
    ...extra,
  },
});


/**
 * Where our SP lives for a community (the URLs an external IdP is configured with):
 * `<public origin>/saml/<communityId>/sp/acs` (AssertionConsumerService, HTTP-POST),
 * `/sp/slo` (SingleLogoutService) and `/sp/metadata`. The routes themselves are the ACS
 * work's (engineer C); CloudCheckr's login uses its own `/v1/auth/saml/acs` and `/sls`
 * (seed 001) instead.
 */
export interface SpEndpoints {
  acsUrl: string;
  sloUrl: string;
  metadataUrl: string;
}

export function communitySpEndpoints(origin: string, communityId: string): SpEndpoints {
  const base = `${origin}/saml/${encodeURIComponent(communityId)}/sp`;
  return { acsUrl: `${base}/acs`, sloUrl: `${base}/slo`, metadataUrl: `${base}/metadata` };
}

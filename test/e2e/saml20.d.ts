/**
 * The part of saml20 0.1.14 (a devDependency without bundled types) that the WS-Fed e2e test
 * uses: validating a SAML 1.1 or 2.0 assertion against a pinned certificate and an audience.
 */
declare module "saml20" {
  export interface Saml20ValidateOptions {
    /** PEM certificate or its bare base64. */
    publicKey?: string;
    thumbprint?: string;
    audience?: string;
    bypassExpiration?: boolean;
  }
  export type Saml20Profile = Record<string, unknown> & { claims?: Record<string, unknown>; issuer?: string };
  export function validate(rawAssertion: string, options: Saml20ValidateOptions, cb: (err: Error | null, profile?: Saml20Profile) => void): void;
  export function parse(rawAssertion: string, cb: (err: Error | null, profile?: Saml20Profile) => void): void;
}

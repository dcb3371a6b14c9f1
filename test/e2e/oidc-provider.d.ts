/**
 * The part of node-oidc-provider 9 (a devDependency without bundled types) that the relying-party
 * e2e test uses: the constructor with its documented configuration, the Node request listener,
 * and Koa's `use` for counting requests.
 */
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  export interface OidcAccount {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  export interface OidcConfiguration {
    clients?: Record<string, unknown>[];
    jwks?: { keys: Record<string, unknown>[] };
    cookies?: { keys?: string[] };
    claims?: Record<string, string[] | null>;
    conformIdTokenClaims?: boolean;
    features?: Record<string, { enabled: boolean }>;
    findAccount?: (ctx: unknown, sub: string) => Promise<OidcAccount | undefined>;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: OidcConfiguration);
    readonly issuer: string;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: (ctx: { path: string; method: string }, next: () => Promise<void>) => Promise<void>): void;
  }
}

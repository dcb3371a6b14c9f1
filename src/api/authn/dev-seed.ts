import { z } from "zod";
import { registerLicenseKey } from "../../core/licenses/licenses";
import type { Env } from "../../env";
import { servicesFor } from "../../http/services";

/**
 * The Authn part of the development seed (POST /dev/seed, `npm run dev`): a system license for
 * the demo tenant under a key the dev script generated (and keeps in .demo-credentials.json),
 * plus the service public key the caller will encrypt to. Development only: the dev routes
 * answer 404 in production.
 */
export const AuthnSeedInput = z.object({ licenseKey: z.string().min(32).max(256) });
export type AuthnSeedInput = z.infer<typeof AuthnSeedInput>;

export interface AuthnSeedOutput {
  licenseId: string;
  authLevel: string;
  communities: string[];
  servicePublicKey: string;
  curve: string;
}

export async function seedAuthnDemo(env: Env, tenantId: string, input: AuthnSeedInput): Promise<AuthnSeedOutput> {
  const platform = servicesFor(env).authn;
  const license = await registerLicenseKey(platform.licenses, input.licenseKey, { tenantId, authLevel: "system", communities: ["*"], name: "demo license (npm run dev)" });
  const key = await platform.keyring.serviceKey();
  return { licenseId: license.id, authLevel: license.authLevel, communities: license.communities, servicePublicKey: key.publicKey, curve: key.curve };
}

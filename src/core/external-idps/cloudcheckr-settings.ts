import { z } from "zod";
import { returnUrlSettingProblem } from "./return-url";

/**
 * The tenant setting that ties CloudCheckr's SAML routes (seed 001 `/v1/auth/saml/*`) to one
 * external IdP: `settings.cloudcheckr.saml = { communityId, externalIdpId, allowedReturnUrls,
 * dashboardUrl }` (core/tenants/settings.ts holds it; docs/api/cloudcheckr.md documents it).
 * CloudCheckr's routes are per host, not per community, so the setting names the community
 * whose external IdP signs the users in, and where they land afterwards.
 */
export const cloudcheckrSamlSchema = z.object({
  communityId: z.string().min(1).max(128),
  externalIdpId: z.string().regex(/^[0-9a-f]{24}$/),
  /** Prefixes (origin + path) a `return_url` or Referer may fall under; nothing else is ever redirected to. */
  allowedReturnUrls: z
    .array(z.string().max(2048).superRefine((v, ctx) => {
      const p = returnUrlSettingProblem(v);
      if (p) ctx.addIssue({ code: "custom", message: p });
    }))
    .max(50)
    .default([]),
  /** Where the ACS sends the user when no return URL was given (also checked like one). */
  dashboardUrl: z.string().max(2048).superRefine((v, ctx) => {
    const p = returnUrlSettingProblem(v.split("?")[0]!);
    if (p) ctx.addIssue({ code: "custom", message: p });
  }),
});

export type CloudCheckrSamlSettings = z.infer<typeof cloudcheckrSamlSchema>;

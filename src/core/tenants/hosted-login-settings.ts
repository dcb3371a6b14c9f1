import { z } from "zod";

/**
 * The tenant settings of the hosted login (src/web): branding and the SSO session's life.
 * Stored under `hostedLogin` in the tenant's settings JSON (core/tenants/settings.ts).
 *
 * Colours must keep the pages WCAG 2.2 AA (SC 1.4.3: 4.5:1 for text, SC 1.4.11: 3:1 for
 * controls): the primary colour fills the buttons under white text and colours links and the
 * focus ring on the white card, so it must reach 4.5:1 against white. A colour that fails is
 * refused when stored (this schema), and a stored one that fails (written before the rule)
 * falls back to the default palette alone (readTenantSettings drops just that field).
 */

/** WCAG 2.x relative luminance of an sRGB colour `#rrggbb`. */
export function relativeLuminance(hex: string): number {
  const n = Number.parseInt(hex.slice(1), 16);
  const channel = (v: number) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel((n >> 16) & 0xff) + 0.7152 * channel((n >> 8) & 0xff) + 0.0722 * channel(n & 0xff);
}

/** WCAG 2.x contrast ratio of two colours, 1 to 21. */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** The default palette; every pair used as text on background reaches AA (tested). */
export const DEFAULT_PALETTE = {
  primary: "#1d4ed8",
  background: "#f3f4f6",
  surface: "#ffffff",
  text: "#1f2937",
  muted: "#4b5563",
  error: "#b91c1c",
} as const;

/** AA for normal text (WCAG SC 1.4.3). */
export const AA_TEXT = 4.5;

const hexColour = z.string().regex(/^#[0-9a-fA-F]{6}$/, "must be a colour #rrggbb").transform((s) => s.toLowerCase());

const httpsUrl = z
  .string()
  .max(2048)
  .refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === "https:" && !u.username && !u.password;
    } catch {
      return false;
    }
  }, "must be an https URL");

export const brandingSchema = z.object({
  /** The name shown on the pages; default: the tenant's name. */
  displayName: z.string().min(1).max(100).optional(),
  /** An https image URL (the tenant's own asset; the page's CSP allows its origin for images only). */
  logoUrl: httpsUrl.optional(),
  /** Buttons, links and the focus ring: at least 4.5:1 against white. */
  primaryColor: hexColour.refine((c) => contrastRatio(c, DEFAULT_PALETTE.surface) >= AA_TEXT, "must reach 4.5:1 contrast against white (WCAG AA)").optional(),
  /** The page around the card (no text is drawn on it). */
  backgroundColor: hexColour.optional(),
});

export const hostedLoginSchema = z.object({
  branding: brandingSchema.default({}),
  /** Absolute lifetime of an SSO session (the `__Host-edge-auth-sso` cookie); default 8 hours. */
  ssoSessionTtlSeconds: z.number().int().min(300).max(30 * 86_400).default(8 * 3600),
  /**
   * Offer "Create a passkey" after a password sign-in of a user without one (web/passkeys.tsx).
   * Off unless the tenant turns it on: an extra page after the password would change every
   * existing tenant's sign-in (and the relying parties' tests that drive it) without notice.
   */
  offerPasskeys: z.boolean().default(false),
});

export type HostedLoginSettings = z.infer<typeof hostedLoginSchema>;
export type Branding = z.infer<typeof brandingSchema>;

/** The hosted login settings of a tenant's parsed settings (defaults when absent). */
export function hostedLoginSettings(settings: { hostedLogin?: HostedLoginSettings | undefined }): HostedLoginSettings {
  return settings.hostedLogin ?? hostedLoginSchema.parse({});
}

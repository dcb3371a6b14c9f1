import { describe, expect, it } from "vitest";
import { AA_TEXT, DEFAULT_PALETTE, contrastRatio, hostedLoginSchema } from "./hosted-login-settings";
import { readTenantSettings } from "./settings";

describe("hosted login branding", () => {
  it("contrast ratios match WCAG's reference values", () => {
    expect(contrastRatio("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(contrastRatio("#ffffff", "#ffffff")).toBeCloseTo(1, 5);
    expect(contrastRatio("#767676", "#ffffff")).toBeGreaterThanOrEqual(4.5);
  });

  it("the default palette reaches AA for every text pair it draws", () => {
    const p = DEFAULT_PALETTE;
    for (const [fg, bg] of [
      [p.text, p.surface],
      [p.muted, p.surface],
      [p.error, p.surface],
      [p.error, "#fef2f2"],
      ["#ffffff", p.primary],
      [p.primary, p.surface],
    ]) expect(contrastRatio(fg!, bg!)).toBeGreaterThanOrEqual(AA_TEXT);
  });

  it("refuses a primary colour that fails AA against white, and non-https logos", () => {
    expect(hostedLoginSchema.safeParse({ branding: { primaryColor: "#ffff00" } }).success).toBe(false);
    expect(hostedLoginSchema.safeParse({ branding: { primaryColor: "#0b5394" } }).success).toBe(true);
    expect(hostedLoginSchema.safeParse({ branding: { primaryColor: "red" } }).success).toBe(false);
    expect(hostedLoginSchema.safeParse({ branding: { logoUrl: "http://cdn.example/logo.png" } }).success).toBe(false);
    expect(hostedLoginSchema.safeParse({ branding: { logoUrl: "javascript:alert(1)" } }).success).toBe(false);
    expect(hostedLoginSchema.safeParse({ branding: { logoUrl: "https://cdn.example/logo.png" } }).success).toBe(true);
  });

  it("a stored failing colour falls back to the default alone; the rest of the branding stays", () => {
    const r = readTenantSettings({ hostedLogin: { branding: { primaryColor: "#eeeeee", displayName: "Acme" } } });
    expect(r.settings.hostedLogin?.branding.displayName).toBe("Acme");
    expect(r.settings.hostedLogin?.branding.primaryColor).toBeUndefined();
    expect(r.replaced.length).toBeGreaterThan(0);
  });
});

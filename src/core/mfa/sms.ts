import type { OtpDeliverySettings } from "../tenants/settings";

/**
 * The SMS provider: an outbound adapter for any HTTP API that sends a text message (issue 11).
 * Configured per tenant (settings `otpDelivery.sms`: URL, auth header and its value, content
 * type, body template); called through `svc.fetch`, so tests stand a local provider in for it.
 * Bodies carry a one-time code: nothing here logs them.
 */
export type SmsProviderSettings = NonNullable<OtpDeliverySettings["sms"]>;

export interface SmsMessage {
  /** E.164 number as the user record holds it. */
  to: string;
  text: string;
  /** The code alone, for providers whose template wants it (`{code}`). */
  code: string;
}

const PLACEHOLDER = /\{(to|text|code)\}/g;

/** The template with `{to}`, `{text}` and `{code}` replaced, escaped for the content type. */
export function renderSmsBody(cfg: Pick<SmsProviderSettings, "bodyTemplate" | "contentType">, m: SmsMessage): string {
  // JSON: the value is inserted inside the template's quotes, so it is escaped as a JSON string
  // body without its own quotes; a number or a text can then never break out of the string.
  const escape = cfg.contentType === "application/json" ? (v: string) => JSON.stringify(v).slice(1, -1) : (v: string) => encodeURIComponent(v);
  return cfg.bodyTemplate.replace(PLACEHOLDER, (_all, k: "to" | "text" | "code") => escape(m[k]));
}

/** Sends one text message; throws on a non-2xx answer or a network failure, so the job is retried. */
export async function sendSms(cfg: SmsProviderSettings, fetcher: typeof fetch, m: SmsMessage): Promise<void> {
  const headers: Record<string, string> = { "content-type": cfg.contentType };
  if (cfg.authSecret) headers[cfg.authHeader.toLowerCase()] = cfg.authSecret;
  const res = await fetcher(cfg.url, { method: "POST", headers, body: renderSmsBody(cfg, m), redirect: "manual" });
  // The body is drained so the connection is released; its content is not trusted or logged.
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status > 299) throw new Error(`SMS provider answered ${res.status}`);
}

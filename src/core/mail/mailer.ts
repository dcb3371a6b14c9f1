import type { Config } from "../../env";
import type { MailMessage, MailStore } from "../../storage/ports";

/** Sends mail. Message bodies may hold reset codes: no implementation logs them. */
export interface Mailer {
  send(m: MailMessage): Promise<void>;
}

/** Development: mail is stored in D1 and listed by the dev-only outbox route. */
export function StoreMailer(store: MailStore): Mailer {
  return { send: (m) => store.save(m) };
}

/** A mail HTTP API: POSTs `{from, to, subject, text}` as JSON with a bearer key. */
export function HttpMailer(cfg: Config["mail"], fetcher: typeof fetch): Mailer {
  return {
    async send(m) {
      if (!cfg.apiUrl) throw new Error("MAIL_API_URL is not set");
      const res = await fetcher(cfg.apiUrl, {
        method: "POST",
        headers: { "content-type": "application/json", ...(cfg.apiKey ? { authorization: `Bearer ${cfg.apiKey}` } : {}) },
        body: JSON.stringify({ from: cfg.from, to: m.to, subject: m.subject, text: m.text }),
      });
      if (!res.ok) throw new Error(`mail API answered ${res.status}`);
    },
  };
}

/** Cloudflare Email Routing's send_email binding, with a plain-text RFC 5322 message. */
export function SendEmailMailer(binding: SendEmail, from: string): Mailer {
  return {
    async send(m) {
      const { EmailMessage } = await import("cloudflare:email");
      const raw = [
        `From: ${from}`,
        `To: ${m.to}`,
        `Subject: ${m.subject.replace(/[\r\n]+/g, " ")}`,
        `Message-ID: <${crypto.randomUUID()}@${from.split("@")[1] ?? "localhost"}>`,
        `Date: ${new Date().toUTCString()}`,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        m.text,
      ].join("\r\n");
      await binding.send(new EmailMessage(from, m.to, raw));
    },
  };
}

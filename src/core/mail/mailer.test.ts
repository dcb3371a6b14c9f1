import { describe, expect, it } from "vitest";
import { HttpMailer, SendEmailMailer } from "./mailer";

const message = { tenantId: "t1", to: "user@example.com", subject: "Your code\r\nBcc: evil@example.com", text: "code 1234" };

describe("HTTP mail transport", () => {
  it("POSTs {from, to, subject, text} as JSON with the bearer key", async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const fetcher = (async (url: RequestInfo | URL, init?: RequestInit) => {
      seen.push({ url: String(url), init: init ?? {} });
      return new Response("{}", { status: 202 });
    }) as typeof fetch;
    await HttpMailer({ transport: "http", from: "no-reply@example.com", apiUrl: "https://mail.example/send", apiKey: "k-123" }, fetcher).send(message);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe("https://mail.example/send");
    expect((seen[0]!.init.headers as Record<string, string>).authorization).toBe("Bearer k-123");
    expect(JSON.parse(String(seen[0]!.init.body))).toEqual({ from: "no-reply@example.com", to: message.to, subject: message.subject, text: message.text });
  });

  it("fails loudly when the API refuses, so the caller's deferred work logs it", async () => {
    const fetcher = (async () => new Response("no", { status: 500 })) as unknown as typeof fetch;
    await expect(HttpMailer({ transport: "http", from: "a@b.c", apiUrl: "https://mail.example/send", apiKey: null }, fetcher).send(message)).rejects.toThrow(/500/);
    await expect(HttpMailer({ transport: "http", from: "a@b.c", apiUrl: null, apiKey: null }, fetcher).send(message)).rejects.toThrow(/MAIL_API_URL/);
  });
});

describe("send_email transport", () => {
  it("hands the binding one message from the configured sender to the recipient", async () => {
    const sent: { from: string; to: string }[] = [];
    const binding = { send: async (m: { from: string; to: string }) => void sent.push({ from: m.from, to: m.to }) } as unknown as SendEmail;
    await SendEmailMailer(binding, "no-reply@example.com").send(message);
    expect(sent).toEqual([{ from: "no-reply@example.com", to: "user@example.com" }]);
  });
});

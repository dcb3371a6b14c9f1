import { and, desc, eq, type SQL } from "drizzle-orm";
import type { MailStore } from "../ports";
import { database } from "./db";
import { mailOutbox } from "./schema";

export function D1MailStore(d1: D1Database): MailStore {
  const db = database(d1);
  return {
    async save(m) {
      await db
        .insert(mailOutbox)
        .values({ tenantId: m.tenantId, recipient: m.to.toLowerCase(), subject: m.subject, body: m.text, createdAt: Date.now() })
        .run();
    },
    async list(opts) {
      const conds: SQL[] = [];
      if (opts.tenantId) conds.push(eq(mailOutbox.tenantId, opts.tenantId));
      if (opts.to) conds.push(eq(mailOutbox.recipient, opts.to.toLowerCase()));
      const rows = await db
        .select()
        .from(mailOutbox)
        .where(conds.length ? and(...conds) : undefined)
        .orderBy(desc(mailOutbox.id))
        .limit(opts.limit ?? 50)
        .all();
      return rows.map((r) => ({ id: r.id, tenantId: r.tenantId, to: r.recipient, subject: r.subject, text: r.body, createdAt: r.createdAt }));
    },
  };
}

import type { Scope, Services } from "../context";
import { recordAudit } from "../audit/audit";
import { enqueueJob } from "../jobs/queue";
import { findOrganisation } from "../tenants/organisation";

/**
 * Username reminder (Sentinel POST /usernameRequest): mails the usernames registered to an
 * email address. Rate limited per address and per client IP whether or not the address is
 * known, then handed to the job queue: the look-up and the mail happen in the consumer
 * (sendUsernameReminder), so the answer and its timing are the same either way. Disabled
 * users are left out.
 */
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export async function requestUsernameReminder(svc: Services, scope: Scope, input: { email: string; corpId?: string | undefined }): Promise<void> {
  const email = String(input.email ?? "").trim().toLowerCase();
  await svc.limiter.limit(`${scope.tenant.id}:username-mail:${email}`, scope.settings.mailPerHour, 3600, scope);
  await svc.limiter.limit(`${scope.tenant.id}:username-mail-ip:${scope.ip}`, scope.settings.mailPerHour * 20, 3600, scope);
  await enqueueJob(svc, scope, { kind: "username_reminder", email: email.slice(0, 512), corpId: input.corpId ? input.corpId.slice(0, 256) : null });
}

/** The job: mails the address the usernames registered to it (in `corpId` when given). */
export async function sendUsernameReminder(svc: Services, scope: Scope, input: { email: string; corpId: string | null }): Promise<void> {
  const email = input.email;
  if (!EMAIL.test(email)) return;
  const org = input.corpId ? await findOrganisation(svc, scope, input.corpId) : null;
  if (input.corpId && !org) return;
  const users = (await svc.users.byEmail(scope.tenant.id, email)).filter((u) => !u.disabled && (!org || u.communityId === org.id));
  if (users.length === 0) return;
  const names = users.map((u) => `  ${u.username}`).join("\n");
  await svc.mailer.send({
    tenantId: scope.tenant.id,
    to: email,
    subject: users.length === 1 ? "Your username" : "Your usernames",
    text: `The following username${users.length === 1 ? " is" : "s are"} registered to this address:\n\n${names}\n\nIf you did not ask for this, ignore this message.`,
  });
  for (const u of users) recordAudit(svc, scope, "username_reminder_sent", { userId: u.uid });
}

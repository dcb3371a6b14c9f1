/** @jsxImportSource hono/jsx */
import { Alert, Hidden, type FormContext } from "./forms";

/**
 * The hosted login's code pages of issue 11 (same HTML contract as forms.tsx): the email code
 * page ("Email code" field, "Verify" button) and the recovery code page ("Recovery code"
 * field, "Verify" button, a way back to the authenticator code).
 */
export function EmailCodePage(props: { f: FormContext; error?: string | undefined }) {
  const described = props.error ? { "aria-describedby": "form-error", "aria-invalid": "true" } : {};
  return (
    <>
      <h1>Check your email</h1>
      <p class="hint">We sent a 6-digit sign-in code to your email address. Enter it below.</p>
      <Alert message={props.error} />
      <form method="post" action={`${props.f.base}/login/email-code`}>
        <Hidden f={props.f} />
        <label for="code">Email code</label>
        <input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength={6} required autofocus {...described} />
        <div class="actions">
          <button type="submit">Verify</button>
        </div>
      </form>
    </>
  );
}

export function RecoveryCodePage(props: { f: FormContext; error?: string | undefined }) {
  const described = props.error ? { "aria-describedby": "form-error", "aria-invalid": "true" } : {};
  return (
    <>
      <h1>Use a recovery code</h1>
      <p class="hint">Enter one of the recovery codes you saved when you set up your authenticator app. Each code works once.</p>
      <Alert message={props.error} />
      <form method="post" action={`${props.f.base}/login/recovery`}>
        <Hidden f={props.f} />
        <label for="recovery_code">Recovery code</label>
        <input type="text" id="recovery_code" name="recovery_code" autocomplete="off" autocapitalize="none" spellcheck={false} maxlength={64} required autofocus {...described} />
        <div class="actions">
          <button type="submit">Verify</button>
        </div>
      </form>
      <p>
        <a href={`${props.f.base}/login/otp?tx=${encodeURIComponent(props.f.tx)}`}>Use your authenticator app instead</a>
      </p>
    </>
  );
}

/** @jsxImportSource hono/jsx */
import { PASSKEY_SCRIPT } from "./passkey-script";

/**
 * The hosted login's pages (HTML contract of issue 8, relied on by the browser tests): an <h1>
 * on every page; the login form's "Username"/"Password" fields and "Sign in" button; the
 * one-time code page's "One-time code" field and "Verify" button; the consent page's scope
 * list and "Allow"/"Deny" buttons (name=decision); errors in a role="alert" paragraph.
 * Every form carries the transaction id and its CSRF token as hidden fields.
 */
export interface FormContext {
  /** The provider's base path, `/oidc/<communityId>`. */
  base: string;
  tx: string;
  csrf: string;
}

export function Hidden(props: { f: FormContext }) {
  return (
    <>
      <input type="hidden" name="tx" value={props.f.tx} />
      <input type="hidden" name="csrf" value={props.f.csrf} />
    </>
  );
}

export function Alert(props: { message: string | undefined }) {
  return props.message ? (
    <p role="alert" id="form-error">
      {props.message}
    </p>
  ) : null;
}

export function LoginPage(props: { f: FormContext; clientName: string; username?: string | undefined; error?: string | undefined; nonce?: string | undefined; passkeyRefused?: boolean | undefined }) {
  // A form error is announced (role=alert) and tied to the fields it is about (WCAG SC 3.3.1).
  const described = props.error ? { "aria-describedby": "form-error", "aria-invalid": "true" } : {};
  return (
    <>
      <h1>Sign in</h1>
      <p class="hint">to continue to {props.clientName}</p>
      <Alert message={props.error} />
      <form method="post" action={`${props.f.base}/login`}>
        <Hidden f={props.f} />
        <label for="username">Username</label>
        {/* "webauthn": the browser may offer passkeys here (conditional mediation, WebAuthn L3 §5.1.4.1). */}
        <input type="text" id="username" name="username" autocomplete="username webauthn" autocapitalize="none" spellcheck={false} required maxlength={256} value={props.username ?? ""} autofocus={!props.username} {...described} />
        <label for="password">Password</label>
        <input type="password" id="password" name="password" autocomplete="current-password" required maxlength={1024} autofocus={!!props.username} {...described} />
        <div class="actions">
          <button type="submit">Sign in</button>
        </div>
      </form>
      {/* Passkeys (web/passkeys.tsx): the button shows only where the script runs and WebAuthn exists. */}
      <form method="post" action={`${props.f.base}/login/passkey`} id="passkey-form" data-options={`${props.f.base}/login/passkey/options`} data-conditional={props.passkeyRefused ? "off" : "on"}>
        <Hidden f={props.f} />
        <input type="hidden" name="assertion" value="" />
        <p class="passkey-status" role="alert" hidden></p>
        <div class="actions">
          <button type="button" id="passkey-button" class="secondary" hidden>
            Sign in with a passkey
          </button>
        </div>
      </form>
      <p>
        <a href={`${props.f.base}/login/forgot?tx=${encodeURIComponent(props.f.tx)}`}>Forgot password?</a>
      </p>
      {props.nonce ? <script nonce={props.nonce} dangerouslySetInnerHTML={{ __html: PASSKEY_SCRIPT }} /> : null}
    </>
  );
}

export function PasskeyOfferPage(props: { f: FormContext; nonce: string; error?: string | undefined }) {
  return (
    <>
      <h1>Create a passkey?</h1>
      <p class="hint">Next time, sign in with your fingerprint, face or screen lock instead of your password. You can skip this.</p>
      <Alert message={props.error} />
      <form method="post" action={`${props.f.base}/login/passkey/register`} id="passkey-register-form" data-options={`${props.f.base}/login/passkey/register/options`}>
        <Hidden f={props.f} />
        <input type="hidden" name="credential" value="" />
        <p class="passkey-status" role="alert" hidden></p>
        <div class="actions">
          <button type="button" id="passkey-create" hidden>
            Create a passkey
          </button>
          <button type="submit" class="secondary">
            Not now
          </button>
        </div>
      </form>
      <script nonce={props.nonce} dangerouslySetInnerHTML={{ __html: PASSKEY_SCRIPT }} />
    </>
  );
}

export function OtpPage(props: { f: FormContext; error?: string | undefined }) {
  return (
    <>
      <h1>Enter your one-time code</h1>
      <p class="hint">Open your authenticator app and enter the 6-digit code it shows.</p>
      <Alert message={props.error} />
      <form method="post" action={`${props.f.base}/login/otp`}>
        <Hidden f={props.f} />
        <label for="otp">One-time code</label>
        <input type="text" id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength={6} required autofocus {...(props.error ? { "aria-describedby": "form-error", "aria-invalid": "true" } : {})} />
        <div class="actions">
          <button type="submit">Verify</button>
        </div>
      </form>
      <p>
        <a href={`${props.f.base}/login/recovery?tx=${encodeURIComponent(props.f.tx)}`}>Use a recovery code</a>
      </p>
    </>
  );
}

export function ConsentPage(props: { f: FormContext; clientName: string; scopes: string[] }) {
  return (
    <>
      <h1>Allow access?</h1>
      <p>{props.clientName} asks for access to:</p>
      <ul class="scopes">
        {props.scopes.map((s) => (
          <li>{s}</li>
        ))}
      </ul>
      <form method="post" action={`${props.f.base}/login/consent`}>
        <Hidden f={props.f} />
        <div class="actions">
          <button type="submit" name="decision" value="allow">
            Allow
          </button>
          <button type="submit" name="decision" value="deny" class="secondary">
            Deny
          </button>
        </div>
      </form>
    </>
  );
}

export function ForgotPage(props: { f: FormContext; error?: string | undefined }) {
  return (
    <>
      <h1>Reset your password</h1>
      <p class="hint">Enter your username. If it belongs to an account with an email address, we will send a link to choose a new password.</p>
      <Alert message={props.error} />
      <form method="post" action={`${props.f.base}/login/forgot`}>
        <Hidden f={props.f} />
        <label for="username">Username</label>
        <input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck={false} required maxlength={256} autofocus />
        <div class="actions">
          <button type="submit">Send reset link</button>
        </div>
      </form>
      <p>
        <a href={`${props.f.base}/login?tx=${encodeURIComponent(props.f.tx)}`}>Back to sign in</a>
      </p>
    </>
  );
}

export function ForgotSentPage(props: { f: FormContext }) {
  return (
    <>
      <h1>Check your email</h1>
      <p>If an account with that username exists and has an email address, we have sent it a link to choose a new password. The link works once and expires soon.</p>
      <p>
        <a href={`${props.f.base}/login?tx=${encodeURIComponent(props.f.tx)}`}>Back to sign in</a>
      </p>
    </>
  );
}

export function MessagePage(props: { title: string; description: string }) {
  return (
    <>
      <h1>{props.title}</h1>
      <p>{props.description}</p>
    </>
  );
}

export function LogoutConfirmPage(props: { base: string; csrf: string; fields: Record<string, string> }) {
  return (
    <>
      <h1>Sign out?</h1>
      <p>Do you want to sign out? You will need to sign in again to use your applications.</p>
      <form method="post" action={`${props.base}/end_session`}>
        <input type="hidden" name="csrf" value={props.csrf} />
        {Object.entries(props.fields).map(([k, v]) => (
          <input type="hidden" name={k} value={v} />
        ))}
        <div class="actions">
          <button type="submit" name="confirm" value="yes">
            Sign out
          </button>
        </div>
      </form>
    </>
  );
}

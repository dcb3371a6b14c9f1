/** @jsxImportSource hono/jsx */
import type { Scope } from "../../core/context";
import type { WebContext } from "../flow";
import { page, sourceOf } from "../render";

/**
 * The auto-submitting form of the HTTP-POST binding (SAML Bindings §3.5.4; WS-Federation's
 * wresult post likewise): one form of hidden fields to the registered endpoint, submitted by
 * one script allowed by the response's CSP nonce, with a "Continue" button inside <noscript>
 * for browsers without script. `form-action` is the endpoint's origin alone, so not even a
 * script injected into the page could send the fields elsewhere; values are attribute-escaped
 * by the JSX renderer (a RelayState of `"><script>` stays a value).
 */
export interface AutoPost {
  /** The registered endpoint (ACS URL, wreply): checked by the caller, never taken from the request unchecked. */
  action: string;
  fields: Record<string, string>;
  title?: string;
}

/** The only script of the hosted login: submits the page's one form. */
const SUBMIT = "document.forms[0].submit();";

export function autoPostPage(c: WebContext, scope: Scope | null, post: AutoPost): Promise<Response> {
  if (!sourceOf(post.action)) throw new Error("auto-post action is not a URL");
  const title = post.title ?? "Signing you in";
  return page(c, scope, { title, formTargets: [post.action], selfForms: false, script: true }, (nonce) => (
    <>
      <h1>{title}</h1>
      <form method="post" action={post.action}>
        {Object.entries(post.fields).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <noscript>
          <p>Your browser does not run scripts: press Continue to go on.</p>
          <button type="submit">Continue</button>
        </noscript>
      </form>
      <script nonce={nonce} dangerouslySetInnerHTML={{ __html: SUBMIT }} />
    </>
  ));
}

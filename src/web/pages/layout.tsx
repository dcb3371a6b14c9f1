/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import { DEFAULT_PALETTE } from "../../core/tenants/hosted-login-settings";

/**
 * The frame of every hosted-login page: one white card on the tenant's background, the
 * tenant's name and logo, inline CSS under a per-response nonce (the CSP allows no other
 * style and no script). Accessibility (WCAG 2.2 AA): `lang`, one <h1>, every field labelled,
 * a visible focus ring (SC 2.4.7, 3px in the primary colour, which reaches 4.5:1 on white),
 * DOM order = visual order = keyboard order, text colours of at least 4.5:1 (SC 1.4.3).
 */
export interface Brand {
  name: string;
  logoUrl: string | null;
  primary: string;
  background: string;
}

function css(b: Brand): string {
  const p = DEFAULT_PALETTE;
  // Colours here are validated #rrggbb values (hosted-login-settings.ts), never free text.
  return `
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:flex-start;justify-content:center;background:${b.background};color:${p.text};font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{background:${p.surface};margin:3rem 1rem;padding:2rem;border-radius:8px;width:100%;max-width:26rem;box-shadow:0 1px 3px rgba(0,0,0,.2)}
.brand{display:flex;align-items:center;gap:.75rem;margin-bottom:1rem;color:${p.muted};font-weight:600}
.brand img{max-height:40px;max-width:160px}
h1{font-size:1.5rem;margin:0 0 1rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input[type=text],input[type=password]{width:100%;padding:.6rem;font-size:1rem;border:1px solid ${p.muted};border-radius:4px;color:${p.text};background:${p.surface}}
button{margin-top:1.25rem;padding:.65rem 1.25rem;font-size:1rem;font-weight:600;border-radius:4px;border:2px solid ${b.primary};background:${b.primary};color:#ffffff;cursor:pointer}
button.secondary{background:${p.surface};color:${b.primary}}
.actions{display:flex;gap:.75rem;flex-wrap:wrap}
a{color:${b.primary}}
:focus-visible{outline:3px solid ${b.primary};outline-offset:2px}
[role=alert]{color:${p.error};border-left:4px solid ${p.error};padding:.5rem .75rem;background:#fef2f2}
.hint{color:${p.muted};font-size:.9rem}
ul.scopes{padding-left:1.25rem}
`;
}

export function Layout(props: { brand: Brand; nonce: string; title: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{`${props.title} - ${props.brand.name}`}</title>
        <style nonce={props.nonce} dangerouslySetInnerHTML={{ __html: css(props.brand) }} />
      </head>
      <body>
        <main>
          <div class="brand">
            {props.brand.logoUrl ? <img src={props.brand.logoUrl} alt={`${props.brand.name} logo`} /> : null}
            <span>{props.brand.name}</span>
          </div>
          {props.children}
        </main>
      </body>
    </html>
  );
}

/**
 * Plays the browser at node-oidc-provider's development interactions (its default, documented
 * `devInteractions` feature): follows redirects from an authorization URL, signs in as `login`
 * on the sign-in form, accepts the consent form, and stops at the first redirect that leaves the
 * provider for `redirectPrefix`, which it returns. Cookies are kept in a jar that ignores paths
 * (all of them belong to the provider's one origin).
 */
class Jar {
  private cookies = new Map<string, string>();
  take(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair!.indexOf("=");
      this.cookies.set(pair!.slice(0, i).trim(), pair!.slice(i + 1));
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

export async function throughProvider(authorizationUrl: string | URL, login: string, redirectPrefix: string): Promise<URL> {
  const jar = new Jar();
  let url = new URL(authorizationUrl);
  let form: URLSearchParams | null = null;
  for (let hop = 0; hop < 20; hop++) {
    const res: Response = await fetch(url, {
      method: form ? "POST" : "GET",
      redirect: "manual",
      headers: { cookie: jar.header(), ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
      ...(form ? { body: form.toString() } : {}),
    });
    jar.take(res);
    form = null;
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get("location")!, url);
      if (next.href.startsWith(redirectPrefix)) return next;
      url = next;
      continue;
    }
    const html: string = await res.text();
    if (res.status !== 200) throw new Error(`the provider answered ${res.status}: ${html.slice(0, 500)}`);
    // The sign-in form, then the consent form, both posted back to the same URL.
    form = html.includes('name="prompt" value="login"') ? new URLSearchParams({ prompt: "login", login, password: "any" }) : new URLSearchParams({ prompt: "consent" });
  }
  throw new Error("too many hops at the provider");
}

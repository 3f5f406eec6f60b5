/**
 * A minimal cookie-keeping browser over fetch, for end-to-end tests that do not need Chromium:
 * signs in through the real login form and answers the real consent form.
 */
export interface ConsentChoice {
  decision?: 'allow' | 'deny';
  access_level?: 'all' | 'organization' | 'project';
  organization_ids?: string[];
  project_ids?: string[];
}

export class UserAgent {
  private readonly cookies = new Map<string, string>();
  constructor(readonly baseUrl: string) {}

  async request(path: string, init: { method?: string; form?: Record<string, string | string[]>; headers?: Record<string, string> } = {}): Promise<Response> {
    const url = new URL(path, this.baseUrl);
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size) headers.cookie = this.cookieHeader();
    let body: string | undefined;
    if (init.form) {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(init.form)) for (const item of [value].flat()) params.append(name, item);
      body = params.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const response = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index);
      const value = pair!.slice(index + 1);
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(cookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** The Cookie header this agent sends (for requests it cannot make itself, such as multipart forms). */
  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  static csrfToken(html: string): string {
    const match = /name="_csrf" value="([^"]+)"/.exec(html);
    if (!match) throw new Error('no CSRF token on the page');
    return match[1]!;
  }

  /** Hidden inputs of the first form on a page (the consent form carries the request in them). */
  static hiddenFields(html: string): Record<string, string> {
    const fields: Record<string, string> = {};
    for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
      fields[match[1]!] = match[2]!.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;/g, "'");
    }
    return fields;
  }

  /** Signs in through the login form; returns the form's CSRF token (its secret cookie outlives the sign-in). */
  async signIn(email: string, password: string): Promise<string> {
    const page = await (await this.request('/login')).text();
    const csrf = UserAgent.csrfToken(page);
    const response = await this.request('/login', { form: { _csrf: csrf, email, password } });
    if (response.status !== 303) throw new Error(`sign-in failed with ${response.status}`);
    return csrf;
  }

  /**
   * Follows an authorization URL through login redirects and the consent page; returns the final
   * redirect to the client (a URL), or the response when there is none.
   */
  async authorize(authorizationUrl: string, choice: ConsentChoice = {}): Promise<URL> {
    const response = await this.request(authorizationUrl);
    if (response.status === 302) return new URL(response.headers.get('location')!, this.baseUrl);
    if (response.status !== 200) throw new Error(`authorize answered ${response.status}: ${await response.text()}`);
    const html = await response.text();
    const form: Record<string, string | string[]> = { ...UserAgent.hiddenFields(html), decision: choice.decision ?? 'allow' };
    if (choice.access_level) form.access_level = choice.access_level;
    if (choice.organization_ids) form.organization_ids = choice.organization_ids;
    if (choice.project_ids) form.project_ids = choice.project_ids;
    const decided = await this.request('/oauth/authorize', { form });
    if (decided.status !== 303) throw new Error(`consent answered ${decided.status}: ${await decided.text()}`);
    return new URL(decided.headers.get('location')!, this.baseUrl);
  }
}

/**
 * A headless browser for tests: a cookie jar that behaves like a real browser's
 * (RFC 6265 / RFC 6265bis), `fetch` with manual redirects, and a driver that follows
 * redirects and submits plain HTML forms (no JavaScript) until a stop condition.
 *
 * Typical use: drive an authorization request through the proxy and the upstream IdP's
 * login page to the client's redirect URI, which nothing has to listen on:
 *
 * ```ts
 * const browser = new HeadlessBrowser();
 * const r = await browser.navigate(authorizeUrl, {
 *   stopAt: redirectUri, fields: { username: 'alice', password: 'alice' }, button: ['Sign in', 'Approve'],
 * });
 * const code = r.stoppedAt?.searchParams.get('code');
 * ```
 *
 * Deliberate simplifications: no public-suffix list (a `Domain` attribute is accepted when
 * it domain-matches the host), the "site" of a host name is its last two labels, a cookie
 * without `SameSite` is treated as `Lax` (Chrome's default), forms are always sent
 * urlencoded.
 *
 * @module
 */

// ---------------------------------------------------------------------------------------
// Cookie jar
// ---------------------------------------------------------------------------------------

/** A cookie as stored by the jar (RFC 6265 §5.3). */
export interface StoredCookie {
  readonly name: string;
  readonly value: string;
  /** Host (host-only) or the `Domain` attribute, lowercase, no leading dot. */
  readonly domain: string;
  /** True without a `Domain` attribute: sent to exactly this host only. */
  readonly hostOnly: boolean;
  readonly path: string;
  readonly secure: boolean;
  readonly httpOnly: boolean;
  /** As sent by the server; `undefined` when absent (enforced as `Lax`). */
  readonly sameSite: 'Strict' | 'Lax' | 'None' | undefined;
  /** Epoch milliseconds; `undefined` for a session cookie. */
  readonly expiresAt: number | undefined;
  readonly creationTime: number;
}

/** A `Set-Cookie` the jar refused, and why. */
export interface RejectedCookie {
  readonly url: string;
  readonly header: string;
  readonly reason: string;
}

/** How a request relates to the page that started it (for `SameSite`). */
export interface CookieRequestContext {
  /** True when the request (or any hop of its redirect chain) is cross-site. Default false. */
  readonly crossSite?: boolean;
  /** A top-level navigation (default true). */
  readonly topLevel?: boolean;
  /** HTTP method (default GET). */
  readonly method?: string;
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

function isIpAddress(host: string): boolean {
  return IPV4.test(host) || host.startsWith('[') || host.includes(':');
}

/** RFC 6265 §5.1.3. */
export function domainMatch(host: string, domain: string): boolean {
  if (host === domain) return true;
  return !isIpAddress(host) && host.endsWith(`.${domain}`);
}

/** RFC 6265 §5.1.4 default-path. */
export function defaultPath(pathname: string): string {
  if (!pathname.startsWith('/')) return '/';
  const last = pathname.lastIndexOf('/');
  return last <= 0 ? '/' : pathname.slice(0, last);
}

/** RFC 6265 §5.1.4 path-match. */
export function pathMatch(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/';
}

function isSecureScheme(url: URL): boolean {
  return url.protocol === 'https:' || url.protocol === 'wss:';
}

/** The "site" of a URL: scheme plus registrable domain (approximated: an IP, or the last two labels). */
export function siteOf(url: URL): string {
  const host = url.hostname.toLowerCase();
  const registrable = isIpAddress(host) ? host : host.split('.').slice(-2).join('.');
  return `${url.protocol}//${registrable}`;
}

interface ParsedSetCookie {
  name: string;
  value: string;
  attributes: Map<string, string>;
}

/** RFC 6265 §5.2: name, value and the last value of each attribute (lowercase names). */
function parseSetCookie(header: string): ParsedSetCookie | undefined {
  const [pair = '', ...rest] = header.split(';');
  const eq = pair.indexOf('=');
  if (eq < 0) return undefined;
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  if (name === '') return undefined;
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const i = part.indexOf('=');
    const key = (i < 0 ? part : part.slice(0, i)).trim().toLowerCase();
    if (key === '') continue;
    attributes.set(key, i < 0 ? '' : part.slice(i + 1).trim());
  }
  return { name, value, attributes };
}

function parseMaxAge(raw: string): number | undefined {
  return /^-?\d+$/.test(raw) ? Number(raw) : undefined;
}

/** An RFC 6265bis cookie jar. Cookies are not isolated by port, as in every browser. */
export class CookieJar {
  private store: StoredCookie[] = [];
  /** Every refused `Set-Cookie`, oldest first. */
  readonly rejected: RejectedCookie[] = [];
  private clock = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Monotonic creation times, so sorting is stable even within one millisecond. */
  private tick(): number {
    this.clock = Math.max(this.clock + 1e-3, this.now());
    return this.clock;
  }

  private reject(url: URL, header: string, reason: string): undefined {
    this.rejected.push({ url: url.href, header, reason });
    return undefined;
  }

  /** Stores one `Set-Cookie` header received from `url`; returns the cookie, or undefined if refused/deleted. */
  setCookie(header: string, url: string | URL): StoredCookie | undefined {
    const from = new URL(url);
    const parsed = parseSetCookie(header);
    if (!parsed) return this.reject(from, header, 'no name=value pair');
    const { name, value, attributes } = parsed;
    const host = from.hostname.toLowerCase();
    const now = this.now();

    let expiresAt: number | undefined;
    const maxAge = attributes.has('max-age') ? parseMaxAge(attributes.get('max-age')!) : undefined;
    if (maxAge !== undefined) expiresAt = maxAge <= 0 ? -Infinity : now + maxAge * 1000;
    else if (attributes.has('expires')) {
      const date = Date.parse(attributes.get('expires')!);
      if (!Number.isNaN(date)) expiresAt = date;
    }

    let domain = (attributes.get('domain') ?? '').toLowerCase();
    if (domain.startsWith('.')) domain = domain.slice(1);
    const hostOnly = domain === '';
    if (!hostOnly && !domainMatch(host, domain)) {
      return this.reject(from, header, `Domain=${domain} does not domain-match ${host}`);
    }
    const pathAttr = attributes.get('path') ?? '';
    const path = pathAttr.startsWith('/') ? pathAttr : defaultPath(from.pathname);
    const secure = attributes.has('secure');
    const sameSiteRaw = attributes.get('samesite')?.toLowerCase();
    const sameSite =
      sameSiteRaw === 'strict' ? 'Strict' : sameSiteRaw === 'lax' ? 'Lax' : sameSiteRaw === 'none' ? 'None' : undefined;

    if (secure && !isSecureScheme(from)) return this.reject(from, header, 'Secure cookie set from an insecure origin');
    if (sameSite === 'None' && !secure) return this.reject(from, header, 'SameSite=None without Secure');
    const lower = name.toLowerCase();
    if (lower.startsWith('__secure-') && !secure) return this.reject(from, header, '__Secure- prefix without Secure');
    if (lower.startsWith('__host-') && (!secure || !hostOnly || path !== '/')) {
      return this.reject(from, header, '__Host- prefix requires Secure, no Domain and Path=/');
    }
    // RFC 6265bis: an insecure origin may not overwrite (or shadow) a Secure cookie.
    if (!isSecureScheme(from)) {
      const shadows = this.store.some(
        (c) =>
          c.secure &&
          c.name === name &&
          (domainMatch(c.domain, hostOnly ? host : domain) || domainMatch(hostOnly ? host : domain, c.domain)) &&
          pathMatch(path, c.path),
      );
      if (shadows) return this.reject(from, header, 'would overwrite a Secure cookie from an insecure origin');
    }

    const cookieDomain = hostOnly ? host : domain;
    const index = this.store.findIndex(
      (c) => c.name === name && c.domain === cookieDomain && c.hostOnly === hostOnly && c.path === path,
    );
    const old = index >= 0 ? this.store[index] : undefined;
    if (index >= 0) this.store.splice(index, 1);
    if (expiresAt !== undefined && expiresAt <= now) return undefined; // deletion
    const cookie: StoredCookie = {
      name,
      value,
      domain: cookieDomain,
      hostOnly,
      path,
      secure,
      httpOnly: attributes.has('httponly'),
      sameSite,
      expiresAt,
      creationTime: old?.creationTime ?? this.tick(),
    };
    this.store.push(cookie);
    return cookie;
  }

  private evictExpired(): void {
    const now = this.now();
    this.store = this.store.filter((c) => c.expiresAt === undefined || c.expiresAt > now);
  }

  /** Cookies that would be sent to `url` (RFC 6265 §5.4 order), honouring SameSite for `context`. */
  cookiesFor(url: string | URL, context: CookieRequestContext = {}): StoredCookie[] {
    this.evictExpired();
    const target = new URL(url);
    const host = target.hostname.toLowerCase();
    const method = (context.method ?? 'GET').toUpperCase();
    const safe = method === 'GET' || method === 'HEAD';
    return this.store
      .filter((c) => (c.hostOnly ? c.domain === host : domainMatch(host, c.domain)))
      .filter((c) => pathMatch(target.pathname || '/', c.path))
      .filter((c) => !c.secure || isSecureScheme(target))
      .filter((c) => {
        if (!context.crossSite) return true;
        const policy = c.sameSite ?? 'Lax';
        if (policy === 'None') return true;
        if (policy === 'Strict') return false;
        return (context.topLevel ?? true) && safe;
      })
      .sort((a, b) => b.path.length - a.path.length || a.creationTime - b.creationTime);
  }

  /** The `Cookie` header for a request to `url` ('' when none). */
  cookieHeader(url: string | URL, context: CookieRequestContext = {}): string {
    return this.cookiesFor(url, context)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** Every live cookie, whatever its host. */
  all(): StoredCookie[] {
    this.evictExpired();
    return [...this.store];
  }

  /** Forgets every cookie. */
  clear(): void {
    this.store = [];
  }

  /** An independent copy (same cookies, same clock). */
  clone(): CookieJar {
    const copy = new CookieJar(this.now);
    copy.store = [...this.store];
    copy.clock = this.clock;
    return copy;
  }
}

// ---------------------------------------------------------------------------------------
// HTML form parsing (dependency-free, regex based)
// ---------------------------------------------------------------------------------------

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  copy: '\u00a9',
  hellip: '\u2026',
  mdash: '\u2014',
  ndash: '\u2013',
};

/** Decodes named (common ones) and numeric character references. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#[xX][0-9a-fA-F]+|#\d+|[A-Za-z][A-Za-z0-9]*);?/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[ref] ?? whole;
  });
}

const ATTRIBUTE = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
const TAG = /<(\/?)([A-Za-z][A-Za-z0-9:-]*)((?:[^"'>]|"[^"]*"|'[^']*')*)>/g;
/** An `<option>` and its text (up to the next option, its end tag or the end of the select). */
const OPTION = /<option\b((?:[^"'>]|"[^"]*"|'[^']*')*)>([\s\S]*?)(?=<option\b|<\/option\s*>|<\/select|$)/gi;

/** Attributes of a start tag (lowercase names, decoded values, first occurrence wins). */
export function parseAttributes(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const m of source.matchAll(ATTRIBUTE)) {
    const name = m[1]!.toLowerCase();
    if (name === '/' || attributes.has(name)) continue;
    attributes.set(name, decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return attributes;
}

function textContent(html: string): string {
  return decodeEntities(html.replace(/<[^>]*>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}

/** A successful-control candidate of a form. */
export interface FormControl {
  readonly kind: 'input' | 'button' | 'select' | 'textarea';
  /** Lowercase `type` (inputs default to `text`, buttons to `submit`). */
  readonly type: string;
  readonly name: string | undefined;
  readonly value: string;
  readonly checked: boolean;
  readonly disabled: boolean;
  /** Visible label of a submit button (text content, or an input's value/alt). */
  readonly label: string;
  readonly formAction: string | undefined;
  readonly formMethod: string | undefined;
}

/** A parsed `<form>`. */
export interface ParsedForm {
  readonly id: string | undefined;
  /** Resolved against the page URL (the page URL itself when absent). */
  readonly action: URL;
  readonly method: 'GET' | 'POST';
  readonly controls: readonly FormControl[];
}

function isSubmitButton(control: FormControl): boolean {
  return (
    (control.kind === 'button' && control.type === 'submit') ||
    (control.kind === 'input' && (control.type === 'submit' || control.type === 'image'))
  );
}

/** The enabled submit buttons of a form, in document order. */
export function submitButtons(form: ParsedForm): FormControl[] {
  return form.controls.filter((c) => isSubmitButton(c) && !c.disabled);
}

function methodOf(raw: string | undefined): 'GET' | 'POST' {
  return raw?.toLowerCase() === 'post' ? 'POST' : 'GET';
}

/** Parses the forms of an HTML page (including controls associated through `form="id"`). */
export function parseForms(html: string, pageUrl: string | URL): ParsedForm[] {
  const base = new URL(pageUrl);
  const doc = html.replace(/<!--[\s\S]*?-->/g, '').replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, '');
  interface Draft {
    id: string | undefined;
    action: URL;
    method: 'GET' | 'POST';
    controls: FormControl[];
  }
  const forms: Draft[] = [];
  const orphans: Array<{ formId: string; control: FormControl }> = [];
  let current: Draft | undefined;

  const add = (control: FormControl, attrs: Map<string, string>): void => {
    const formId = attrs.get('form');
    if (formId !== undefined) orphans.push({ formId, control });
    else current?.controls.push(control);
  };
  const common = (attrs: Map<string, string>) => ({
    name: attrs.get('name'),
    disabled: attrs.has('disabled'),
    formAction: attrs.get('formaction'),
    formMethod: attrs.get('formmethod'),
  });

  TAG.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = TAG.exec(doc)) !== null) {
    const closing = m[1] === '/';
    const tag = m[2]!.toLowerCase();
    const attrs = closing ? new Map<string, string>() : parseAttributes(m[3] ?? '');
    if (tag === 'form') {
      if (closing) current = undefined;
      else if (!current) {
        const action = attrs.get('action');
        current = {
          id: attrs.get('id'),
          action: new URL(action === undefined || action === '' ? base.href : action, base),
          method: methodOf(attrs.get('method')),
          controls: [],
        };
        forms.push(current);
      }
      continue;
    }
    if (closing) continue;
    const contentEnd = (name: string): { inner: string; end: number } => {
      const close = new RegExp(`</${name}\\s*>`, 'ig');
      close.lastIndex = TAG.lastIndex;
      const found = close.exec(doc);
      const end = found ? found.index : doc.length;
      const inner = doc.slice(TAG.lastIndex, end);
      TAG.lastIndex = found ? close.lastIndex : doc.length;
      return { inner, end };
    };
    if (tag === 'input') {
      const type = (attrs.get('type') ?? 'text').toLowerCase();
      const value = attrs.get('value') ?? (type === 'checkbox' || type === 'radio' ? 'on' : '');
      const defaultLabel = type === 'submit' ? 'Submit' : '';
      const label = type === 'image' ? (attrs.get('alt') ?? '') : (attrs.get('value') ?? defaultLabel);
      add({ kind: 'input', type, value, checked: attrs.has('checked'), label, ...common(attrs) }, attrs);
    } else if (tag === 'button') {
      const { inner } = contentEnd('button');
      const type = (attrs.get('type') ?? 'submit').toLowerCase();
      add(
        {
          kind: 'button',
          type,
          value: attrs.get('value') ?? '',
          checked: false,
          label: textContent(inner),
          ...common(attrs),
        },
        attrs,
      );
    } else if (tag === 'textarea') {
      const { inner } = contentEnd('textarea');
      const value = decodeEntities(inner.replace(/^\r?\n/, ''));
      add({ kind: 'textarea', type: 'textarea', value, checked: false, label: '', ...common(attrs) }, attrs);
    } else if (tag === 'select') {
      const { inner } = contentEnd('select');
      const options = [...inner.matchAll(OPTION)].map((o) => {
        const optionAttrs = parseAttributes(o[1] ?? '');
        return { value: optionAttrs.get('value') ?? textContent(o[2] ?? ''), selected: optionAttrs.has('selected') };
      });
      const chosen = options.find((o) => o.selected) ?? options[0];
      add(
        {
          kind: 'select',
          type: 'select-one',
          value: chosen?.value ?? '',
          checked: chosen !== undefined,
          label: '',
          ...common(attrs),
        },
        attrs,
      );
    }
  }
  for (const { formId, control } of orphans) forms.find((f) => f.id === formId)?.controls.push(control);
  return forms;
}

/**
 * The form a page submits by itself when it loads, as the form_post response mode and
 * oidc-provider's account-switch page do (`document.forms[0].submit()` in a script or a
 * `<body onload>`). This idiom is the only JavaScript the driver "runs".
 */
export function autoSubmittedForm(html: string, forms: readonly ParsedForm[]): ParsedForm | undefined {
  const code = [
    ...[...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script\s*>/gi)].map((m) => m[1] ?? ''),
    ...[...html.matchAll(/<body\b((?:[^"'>]|"[^"]*"|'[^']*')*)>/gi)].map((m) => parseAttributes(m[1] ?? '').get('onload') ?? ''),
  ];
  for (const source of code) {
    const byIndex = /document\.forms\[\s*(\d+)\s*\]\.submit\(\s*\)/.exec(source);
    if (byIndex) return forms[Number(byIndex[1])];
    const byId = /getElementById\(\s*(['"])([^'"]+)\1\s*\)\.submit\(\s*\)/.exec(source);
    if (byId) return forms.find((f) => f.id === byId[2]);
    if (/\.submit\(\s*\)/.test(source)) return forms[0];
  }
  return undefined;
}

/**
 * The form data set of `form` (HTML "constructing the entry list"): named, enabled controls;
 * checkboxes and radios only when checked; only the chosen submit button. `fields` override
 * the values of the controls with those names (checkbox/radio: checked iff the value matches).
 */
export function formData(
  form: ParsedForm,
  fields: Readonly<Record<string, string>> = {},
  submitter?: FormControl,
): URLSearchParams {
  const data = new URLSearchParams();
  for (const control of form.controls) {
    if (!control.name || control.disabled) continue;
    const override = Object.hasOwn(fields, control.name) ? fields[control.name] : undefined;
    if (isSubmitButton(control) || control.type === 'button' || control.type === 'reset') {
      if (control === submitter) data.append(control.name, control.value);
      continue;
    }
    if (control.type === 'file') continue;
    if (control.type === 'checkbox' || control.type === 'radio') {
      const on = override === undefined ? control.checked : override === control.value;
      if (on) data.append(control.name, control.value);
      continue;
    }
    if (control.kind === 'select' && !control.checked && override === undefined) continue;
    data.append(control.name, override ?? control.value);
  }
  return data;
}

// ---------------------------------------------------------------------------------------
// Browser
// ---------------------------------------------------------------------------------------

/** One request of the browser. */
export interface TraceEntry {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  /** The absolute `Location` of a redirect. */
  readonly location?: string;
}

/** Options of {@link HeadlessBrowser.request}. */
export interface BrowserRequestInit {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | URLSearchParams;
  /** The page the request comes from (sets `Origin` on POST, `Sec-Fetch-Site` and SameSite). */
  readonly initiator?: string | URL;
  /** True when a redirect hop before this request was cross-site. */
  readonly crossSiteChain?: boolean;
  /**
   * The referrer policy of the page the request comes from (its `Referrer-Policy` header or
   * `<meta name="referrer">`); it decides whether a POST carries the initiator's origin or
   * `null` (default `strict-origin-when-cross-origin`, browsers' default).
   */
  readonly referrerPolicy?: string;
}

/**
 * The `Origin` a browser sends on a POST (Fetch, "serializing a request origin"): `null`
 * under `no-referrer`, under `same-origin` to another origin, and under the `strict-*`
 * policies from https to http; the initiator's origin otherwise.
 */
function serializedOrigin(initiator: URL, target: URL, policy = 'strict-origin-when-cross-origin'): string {
  switch (policy) {
    case 'no-referrer':
      return 'null';
    case 'same-origin':
      return initiator.origin === target.origin ? initiator.origin : 'null';
    case 'no-referrer-when-downgrade':
    case 'strict-origin':
    case 'strict-origin-when-cross-origin':
      return initiator.protocol === 'https:' && target.protocol === 'http:' ? 'null' : initiator.origin;
    default:
      return initiator.origin;
  }
}

/** A page's referrer policy: its `<meta name="referrer">` wins over its header (the last valid token counts). */
function referrerPolicyOf(headers: Headers, body: string): string | undefined {
  const meta = /<meta\s+name=["']?referrer["']?\s+content=["']?([\w-]+)/i.exec(body)?.[1];
  const header = headers.get('referrer-policy')?.split(',').map((t) => t.trim()).filter(Boolean).at(-1);
  return (meta ?? header)?.toLowerCase();
}

/** A stop condition: a predicate, or a URL whose origin and path must match. */
export type StopAt = ((url: URL) => boolean) | string | URL;

/** Options of {@link HeadlessBrowser.navigate}. */
export interface NavigateOptions {
  /**
   * Checked on every redirect `Location` and form action before it is requested; a match
   * is returned, never requested.
   */
  readonly stopAt?: StopAt;
  /** Values for named form controls, e.g. `{ username: 'alice', password: 'alice' }`. */
  readonly fields?: Readonly<Record<string, string>>;
  /**
   * The submit button to press, by its visible text; a list is tried in order on every form
   * (e.g. `['Sign in', 'Approve']`). Without it the first submit button is pressed.
   */
  readonly button?: string | readonly string[];
  /** Maximum number of requests (default 25). */
  readonly maxSteps?: number;
  /** Method and body of the first request (default GET). */
  readonly method?: string;
  readonly body?: string | URLSearchParams;
  /** The page the navigation starts from (default: none, like typing the URL). */
  readonly initiator?: string | URL;
}

/** Why a navigation ended. */
export type NavigationEnd =
  | 'stopAt' // a redirect Location or form action matched stopAt (not requested)
  | 'page' // a 2xx/1xx page without a form, or not HTML
  | 'http-error' // a 4xx/5xx response
  | 'form-repeated' // the same form (method, action, field names) came back: e.g. a rejected login
  | 'redirect-without-location';

/** The outcome of {@link HeadlessBrowser.navigate}. */
export interface NavigationResult {
  /** The last URL requested. */
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  /** The body of the last response ('' when stopped at a redirect). */
  readonly body: string;
  /** The `Location` of the last response, absolute. */
  readonly location?: string;
  /** The URL that matched `stopAt`. */
  readonly stoppedAt?: URL;
  /** When stopped at a form action: the data that would have been submitted. */
  readonly formData?: URLSearchParams;
  readonly reason: NavigationEnd;
  /** The requests of this navigation. */
  readonly trace: readonly TraceEntry[];
}

/** A navigation that could not finish (too many steps, missing button, network error). */
export class NavigationError extends Error {
  constructor(
    message: string,
    readonly trace: readonly TraceEntry[],
    options?: { cause?: unknown },
  ) {
    const lines = trace.map((t) => `  ${t.method} ${t.url} -> ${t.status}${t.location ? ` ${t.location}` : ''}`);
    super(`${message}\ntrace:\n${lines.join('\n')}`, options);
    this.name = 'NavigationError';
  }
}

/** Options of {@link HeadlessBrowser}. */
export interface HeadlessBrowserOptions {
  readonly jar?: CookieJar;
  readonly userAgent?: string;
  /** Defaults merged into every {@link HeadlessBrowser.navigate} call. */
  readonly defaults?: Pick<NavigateOptions, 'fields' | 'button' | 'maxSteps'>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function stopPredicate(stopAt: StopAt | undefined): (url: URL) => boolean {
  if (stopAt === undefined) return () => false;
  if (typeof stopAt === 'function') return stopAt;
  const target = new URL(stopAt);
  return (url) => url.origin === target.origin && url.pathname === target.pathname;
}

function normalizeLabel(label: string): string {
  return label.replace(/\s+/g, ' ').trim();
}

function chooseSubmission(
  forms: readonly ParsedForm[],
  button: string | readonly string[] | undefined,
): { form: ParsedForm; submitter: FormControl | undefined } | string {
  const first = forms[0]!;
  if (button === undefined) return { form: first, submitter: submitButtons(first)[0] };
  const wanted = (typeof button === 'string' ? [button] : button).map(normalizeLabel);
  const exact = (a: string, b: string): boolean => a === b;
  const caseless = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
  for (const compare of [exact, caseless]) {
    for (const label of wanted) {
      for (const form of forms) {
        const submitter = submitButtons(form).find((b) => compare(normalizeLabel(b.label), label));
        if (submitter) return { form, submitter };
      }
    }
  }
  const available = forms.flatMap((f) => submitButtons(f).map((b) => JSON.stringify(b.label)));
  if (available.length === 0) return { form: first, submitter: undefined }; // an auto-submit form
  const labels = wanted.map((w) => JSON.stringify(w)).join(' or ');
  return `no submit button labelled ${labels}; the page has ${available.join(', ')}`;
}

function isHtml(headers: Headers): boolean {
  const type = headers.get('content-type') ?? '';
  return /text\/html|application\/xhtml\+xml/i.test(type);
}

/** A headless browser: cookie jar, manual redirects, plain HTML forms, no JavaScript. */
export class HeadlessBrowser {
  readonly jar: CookieJar;
  /** Every request this browser made, oldest first. */
  readonly history: TraceEntry[] = [];
  private readonly userAgent: string;
  private readonly defaults: NonNullable<HeadlessBrowserOptions['defaults']>;

  constructor(options: HeadlessBrowserOptions = {}) {
    this.jar = options.jar ?? new CookieJar();
    this.userAgent = options.userAgent ?? 'flowgate-headless-browser/1.0';
    this.defaults = options.defaults ?? {};
  }

  /** A second browser with a copy of this one's cookies (and an empty history). */
  clone(): HeadlessBrowser {
    return new HeadlessBrowser({ jar: this.jar.clone(), userAgent: this.userAgent, defaults: this.defaults });
  }

  /** The cookies this browser would send to `url` on a same-site navigation. */
  cookies(url: string | URL): StoredCookie[] {
    return this.jar.cookiesFor(url);
  }

  /** One request: `redirect: 'manual'`, cookies sent and stored, recorded in {@link history}. */
  async request(url: string | URL, init: BrowserRequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const method = (init.method ?? 'GET').toUpperCase();
    const initiator = init.initiator === undefined ? undefined : new URL(init.initiator);
    const crossSite = init.crossSiteChain === true || (initiator !== undefined && siteOf(initiator) !== siteOf(target));
    const headers: Record<string, string> = {
      'user-agent': this.userAgent,
      accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'document',
      'sec-fetch-site':
        initiator === undefined
          ? 'none'
          : crossSite
            ? 'cross-site'
            : initiator.origin === target.origin && !init.crossSiteChain
              ? 'same-origin'
              : 'same-site',
    };
    if (method !== 'GET' && method !== 'HEAD' && initiator) headers.origin = serializedOrigin(initiator, target, init.referrerPolicy);
    const cookie = this.jar.cookieHeader(target, { crossSite, method, topLevel: true });
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.body !== undefined) {
      body = init.body.toString();
      if (init.body instanceof URLSearchParams) headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;

    const response = await fetch(target, { method, headers, body, redirect: 'manual' });
    for (const setCookie of response.headers.getSetCookie()) this.jar.setCookie(setCookie, target);
    const location = response.headers.get('location');
    this.history.push({
      method,
      url: target.href,
      status: response.status,
      ...(location === null ? {} : { location: new URL(location, target).href }),
    });
    return response;
  }

  /**
   * Follows redirects and submits forms from `url` until `stopAt` matches a redirect
   * `Location` (or a form action), or a page without a form, an error status, or a
   * re-rendered form (a rejected submission) ends the walk.
   */
  async navigate(url: string | URL, options: NavigateOptions = {}): Promise<NavigationResult> {
    const fields = { ...this.defaults.fields, ...options.fields };
    const button = options.button ?? this.defaults.button;
    const maxSteps = options.maxSteps ?? this.defaults.maxSteps ?? 25;
    const stop = stopPredicate(options.stopAt);
    const trace: TraceEntry[] = [];
    const submitted = new Set<string>();

    let next: {
      url: URL;
      method: string;
      body?: string | URLSearchParams | undefined;
      initiator?: URL | undefined;
      referrerPolicy?: string | undefined;
    } = {
      url: new URL(url),
      method: (options.method ?? 'GET').toUpperCase(),
      body: options.body,
      initiator: options.initiator === undefined ? undefined : new URL(options.initiator),
    };
    let crossSiteChain = false;

    for (let step = 0; step < maxSteps; step += 1) {
      let response: Response;
      try {
        response = await this.request(next.url, {
          method: next.method,
          ...(next.body === undefined ? {} : { body: next.body }),
          ...(next.initiator === undefined ? {} : { initiator: next.initiator }),
          ...(next.referrerPolicy === undefined ? {} : { referrerPolicy: next.referrerPolicy }),
          crossSiteChain,
        });
      } catch (error) {
        throw new NavigationError(`request to ${next.url.href} failed: ${String(error)}`, trace, { cause: error });
      }
      const entry = this.history[this.history.length - 1]!;
      trace.push(entry);
      const base = { url: next.url.href, status: response.status, headers: response.headers, trace };

      if (REDIRECTS.has(response.status)) {
        await response.arrayBuffer();
        if (entry.location === undefined) return { ...base, body: '', reason: 'redirect-without-location' };
        const location = new URL(entry.location);
        if (stop(location)) {
          return { ...base, body: '', location: location.href, stoppedAt: location, reason: 'stopAt' };
        }
        if (next.initiator && siteOf(next.initiator) !== siteOf(location)) crossSiteChain = true;
        // Fetch §4.4: 303 becomes GET (except HEAD), 301/302 turn POST into GET, 307/308 keep everything.
        const toGet =
          (response.status === 303 && next.method !== 'HEAD') ||
          ((response.status === 301 || response.status === 302) && next.method === 'POST');
        next = {
          url: location,
          method: toGet ? 'GET' : next.method,
          body: toGet ? undefined : next.body,
          initiator: next.initiator,
          // Fetch §4.4: a redirect response's Referrer-Policy header applies to the next hop.
          referrerPolicy: referrerPolicyOf(response.headers, '') ?? next.referrerPolicy,
        };
        continue;
      }

      const body = await response.text();
      const page = { ...base, body, ...(entry.location === undefined ? {} : { location: entry.location }) };
      const forms = isHtml(response.headers) ? parseForms(body, next.url) : [];
      // A self-submitting form is submitted whatever the status (form_post errors come as 400).
      const auto = autoSubmittedForm(body, forms);
      if (!auto && response.status >= 400) return { ...page, reason: 'http-error' };
      if (forms.length === 0) return { ...page, reason: 'page' };

      const choice = auto ? { form: auto, submitter: undefined } : chooseSubmission(forms, button);
      if (typeof choice === 'string') throw new NavigationError(`${choice} (at ${next.url.href})`, trace);
      const { form, submitter } = choice;
      const action = submitter?.formAction ? new URL(submitter.formAction, next.url) : form.action;
      const method = submitter?.formMethod ? methodOf(submitter.formMethod) : form.method;
      const data = formData(form, fields, submitter);
      const signature = `${method} ${action.origin}${action.pathname} ${[...new Set(data.keys())].sort().join(',')}`;
      if (submitted.has(signature)) return { ...page, reason: 'form-repeated' };
      submitted.add(signature);
      if (stop(action)) return { ...page, stoppedAt: action, formData: data, reason: 'stopAt' };

      crossSiteChain = false;
      if (method === 'GET') {
        const target = new URL(action);
        target.search = data.toString();
        next = { url: target, method: 'GET', initiator: next.url };
      } else {
        next = { url: action, method: 'POST', body: data, initiator: next.url, referrerPolicy: referrerPolicyOf(response.headers, body) };
      }
    }
    throw new NavigationError(`navigation did not finish within ${maxSteps} requests`, trace);
  }
}

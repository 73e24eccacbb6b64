/**
 * The headless browser's own rules: cookie jar (RFC 6265/6265bis), HTML form parsing and
 * the navigation driver (against a tiny local server).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CookieJar,
  decodeEntities,
  defaultPath,
  formData,
  HeadlessBrowser,
  NavigationError,
  parseForms,
  pathMatch,
  submitButtons,
} from '../support/browser.js';

describe('CookieJar', () => {
  it('keeps host-only cookies to their host and domain cookies to the domain', () => {
    const jar = new CookieJar();
    jar.setCookie('host=1', 'http://a.example.test/');
    jar.setCookie('dom=1; Domain=.Example.TEST', 'http://a.example.test/');
    expect(jar.cookieHeader('http://a.example.test/')).toBe('host=1; dom=1');
    expect(jar.cookieHeader('http://b.example.test/')).toBe('dom=1');
    expect(jar.cookieHeader('http://x.a.example.test/')).toBe('dom=1');
    expect(jar.cookieHeader('http://example.org/')).toBe('');
    expect(jar.setCookie('evil=1; Domain=other.test', 'http://a.example.test/')).toBeUndefined();
    expect(jar.rejected.at(-1)?.reason).toMatch(/does not domain-match/);
  });

  it('treats IP hosts as exact and does not isolate ports', () => {
    const jar = new CookieJar();
    jar.setCookie('a=1', 'http://127.0.0.1:1000/');
    expect(jar.setCookie('b=1; Domain=0.0.1', 'http://127.0.0.1:1000/')).toBeUndefined();
    expect(jar.setCookie('c=1; Domain=127.0.0.1', 'http://127.0.0.1:1000/')?.hostOnly).toBe(false);
    expect(jar.cookieHeader('http://127.0.0.1:2000/')).toBe('a=1; c=1');
    expect(jar.cookieHeader('http://localhost:1000/')).toBe('');
  });

  it('matches paths by prefix at segment boundaries, default path from the request', () => {
    expect(defaultPath('/a/b/c')).toBe('/a/b');
    expect(defaultPath('/a')).toBe('/');
    expect(pathMatch('/a/b/x', '/a/b')).toBe(true);
    expect(pathMatch('/a/bc', '/a/b')).toBe(false);
    expect(pathMatch('/a/bc', '/a/')).toBe(true);
    const jar = new CookieJar();
    jar.setCookie('d=1', 'http://h.test/a/b/c');
    jar.setCookie('root=1; Path=/', 'http://h.test/a/b/c');
    jar.setCookie('rel=1; Path=relative', 'http://h.test/x/y');
    expect(jar.cookieHeader('http://h.test/a/b/zzz')).toBe('d=1; root=1');
    expect(jar.cookieHeader('http://h.test/a/bc')).toBe('root=1');
    expect(jar.cookiesFor('http://h.test/x/q').map((c) => `${c.name}:${c.path}`)).toEqual(['rel:/x', 'root:/']);
  });

  it('sends Secure cookies to https only and refuses them from http', () => {
    const jar = new CookieJar();
    expect(jar.setCookie('s=1; Secure', 'http://h.test/')).toBeUndefined();
    jar.setCookie('s=2; Secure', 'https://h.test/');
    expect(jar.cookieHeader('https://h.test/')).toBe('s=2');
    expect(jar.cookieHeader('http://h.test/')).toBe('');
    // An insecure origin may not overwrite it.
    expect(jar.setCookie('s=3', 'http://h.test/')).toBeUndefined();
    expect(jar.cookieHeader('https://h.test/')).toBe('s=2');
  });

  it('expires with Max-Age (preferred over Expires) and Expires, and deletes', () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const jar = new CookieJar(() => now);
    jar.setCookie('m=1; Max-Age=10; Expires=Wed, 01 Jan 2020 00:00:00 GMT', 'http://h.test/');
    jar.setCookie('e=1; Expires=Tue, 01 Jan 2030 00:00:20 GMT', 'http://h.test/');
    jar.setCookie('s=1', 'http://h.test/');
    expect(jar.cookieHeader('http://h.test/')).toBe('m=1; e=1; s=1');
    now += 11_000;
    expect(jar.cookieHeader('http://h.test/')).toBe('e=1; s=1');
    jar.setCookie('s=; Max-Age=0', 'http://h.test/');
    jar.setCookie('e=; Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'http://h.test/');
    expect(jar.all()).toEqual([]);
  });

  it('enforces the __Host- and __Secure- prefixes', () => {
    const jar = new CookieJar();
    expect(jar.setCookie('__Host-a=1; Secure; Path=/', 'https://h.test/x')).toBeDefined();
    expect(jar.setCookie('__Host-b=1; Secure; Path=/; Domain=h.test', 'https://h.test/')).toBeUndefined();
    expect(jar.setCookie('__Host-c=1; Secure', 'https://h.test/x/y')).toBeUndefined(); // default path /x
    expect(jar.setCookie('__Host-d=1; Path=/', 'http://h.test/')).toBeUndefined();
    expect(jar.setCookie('__Secure-e=1', 'https://h.test/')).toBeUndefined();
    expect(jar.setCookie('__secure-f=1; Secure', 'https://h.test/')).toBeDefined();
    expect(jar.all().map((c) => c.name)).toEqual(['__Host-a', '__secure-f']);
  });

  it('records SameSite and withholds Strict/Lax cookies from cross-site requests', () => {
    const jar = new CookieJar();
    expect(jar.setCookie('n=1; SameSite=None', 'http://h.test/')).toBeUndefined(); // None needs Secure
    jar.setCookie('st=1; SameSite=Strict', 'https://h.test/');
    jar.setCookie('lx=1; SameSite=lax', 'https://h.test/');
    jar.setCookie('df=1', 'https://h.test/');
    jar.setCookie('no=1; SameSite=None; Secure', 'https://h.test/');
    expect(jar.all().map((c) => c.sameSite)).toEqual(['Strict', 'Lax', undefined, 'None']);
    expect(jar.cookieHeader('https://h.test/')).toBe('st=1; lx=1; df=1; no=1');
    expect(jar.cookieHeader('https://h.test/', { crossSite: true })).toBe('lx=1; df=1; no=1');
    expect(jar.cookieHeader('https://h.test/', { crossSite: true, method: 'POST' })).toBe('no=1');
  });

  it('replaces a cookie with the same name, domain and path, keeping its position', () => {
    const jar = new CookieJar();
    jar.setCookie('a=1', 'http://h.test/');
    jar.setCookie('b=1', 'http://h.test/');
    jar.setCookie('a=2', 'http://h.test/');
    expect(jar.cookieHeader('http://h.test/')).toBe('a=2; b=1');
    const copy = jar.clone();
    copy.setCookie('a=3', 'http://h.test/');
    expect(jar.cookieHeader('http://h.test/')).toBe('a=2; b=1');
  });
});

describe('HTML form parsing', () => {
  const page = `<!doctype html><html><body>
    <!-- <form action="/commented"><input name="x"></form> -->
    <script>const s = '<form action="/script">';</script>
    <form id="f1" method="POST" action="/submit?x=1">
      <input type=hidden name=csrf value='a&amp;b&#39;c&#x3e;'>
      <input name="username" value="">
      <input type="password" name="password">
      <input type="checkbox" name="remember" checked>
      <input type="checkbox" name="other" value="o">
      <input name="disabled" value="d" disabled>
      <select name="lang"><option value="en">English<option value="fr" selected>French</select>
      <textarea name="note">
line &lt;1&gt;</textarea>
      <button type="submit" name="decision" value="approve"><span>Approve</span> &amp; continue</button>
      <button name="decision" value="deny" formaction="/deny">Deny</button>
      <button type="button" name="noop">No-op</button>
      <input type="submit" value="Sign in" name="go">
    </form>
    <button form="f1" name="outside" value="1">Outside</button>
    <form action=""><input name="q" value="a > b"></form>
  </body></html>`;

  it('parses forms, controls, labels and entities', () => {
    const forms = parseForms(page, 'http://h.test/login/page');
    expect(forms).toHaveLength(2);
    const [f1, f2] = forms as [ReturnType<typeof parseForms>[number], ReturnType<typeof parseForms>[number]];
    expect(f1.method).toBe('POST');
    expect(f1.action.href).toBe('http://h.test/submit?x=1');
    expect(f2.method).toBe('GET');
    expect(f2.action.href).toBe('http://h.test/login/page');
    expect(submitButtons(f1).map((b) => b.label)).toEqual(['Approve & continue', 'Deny', 'Sign in', 'Outside']);
    expect(formData(f2).toString()).toBe('q=a+%3E+b');
    expect(decodeEntities('&lt;&#x1F600;&unknown;&amp')).toBe('<\u{1F600}&unknown;&');
  });

  it('builds the entry list: fields override, checked boxes, one submitter', () => {
    const [f1] = parseForms(page, 'http://h.test/');
    const deny = submitButtons(f1!).find((b) => b.label === 'Deny');
    const data = formData(f1!, { username: 'alice', password: 'pw', other: 'o', absent: 'ignored' }, deny);
    expect([...data]).toEqual([
      ['csrf', "a&b'c>"],
      ['username', 'alice'],
      ['password', 'pw'],
      ['remember', 'on'],
      ['other', 'o'],
      ['lang', 'fr'],
      ['note', 'line <1>'],
      ['decision', 'deny'],
    ]);
    expect(deny?.formAction).toBe('/deny');
  });
});

describe('HeadlessBrowser.navigate', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ method: string; url: string; cookie?: string; origin?: string; body: string; fetchSite?: string }> = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const url = new URL(req.url ?? '/', base);
    seen.push({
      method: req.method ?? '',
      url: url.pathname + url.search,
      body,
      ...(req.headers.cookie ? { cookie: req.headers.cookie } : {}),
      ...(req.headers.origin ? { origin: req.headers.origin } : {}),
      ...(typeof req.headers['sec-fetch-site'] === 'string' ? { fetchSite: req.headers['sec-fetch-site'] } : {}),
    });
    const html = (s: string, status = 200) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
      res.end(s);
    };
    switch (url.pathname) {
      case '/start':
        res.writeHead(302, { location: '/login', 'set-cookie': ['sid=abc; Path=/; HttpOnly'] });
        return void res.end();
      case '/login':
        if (req.method === 'POST') {
          const form = new URLSearchParams(body);
          if (form.get('password') !== 'pw') return html('<p>Invalid username or password</p><form method=post><input name=username><input name=password type=password><button>Sign in</button></form>');
          res.writeHead(303, { location: '/consent' });
          return void res.end();
        }
        return html('<form method=post><input name=username><input name=password type=password><button>Sign in</button><button name=cancel value=1>Cancel</button></form>');
      case '/consent':
        return html('<form method=post action="/decide"><input type=hidden name=t value=tok><button name=d value=yes>Approve</button><button name=d value=no>Deny</button></form>');
      case '/decide':
        res.writeHead(307, { location: '/decide2' });
        return void res.end();
      case '/decide2':
        res.writeHead(302, { location: `http://127.0.0.1:9/cb?d=${new URLSearchParams(body).get('d')}` });
        return void res.end();
      case '/formpost':
        return html(
          `<html><head><script>document.addEventListener('DOMContentLoaded', function () { document.forms[0].submit() });</script></head>
           <body><form method="post" action="/decide2"><input type="hidden" name="d" value="auto"/>
           <noscript><button autofocus type="submit">Continue</button></noscript></form></body></html>`,
          400,
        );
      case '/search':
        return html('<form action="/results"><input name=q><button>Go</button></form>');
      case '/results':
        return html(`<p>results for ${url.searchParams.get('q')}</p>`);
      case '/loop':
        res.writeHead(302, { location: '/loop' });
        return void res.end();
      default:
        return html('<p>not found</p>', 404);
    }
  }

  beforeAll(async () => {
    server = createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('follows redirects, submits forms with the chosen buttons, stops before the stop URL', async () => {
    seen.length = 0;
    const browser = new HeadlessBrowser();
    const result = await browser.navigate(`${base}/start`, {
      stopAt: 'http://127.0.0.1:9/cb',
      fields: { username: 'alice', password: 'pw' },
      button: ['Sign in', 'Approve'],
    });
    expect(result.reason).toBe('stopAt');
    expect(result.stoppedAt?.href).toBe('http://127.0.0.1:9/cb?d=yes');
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /start',
      'GET /login',
      'POST /login',
      'GET /consent',
      'POST /decide',
      'POST /decide2', // 307 keeps method and body
    ]);
    expect(seen[2]).toMatchObject({ body: 'username=alice&password=pw', cookie: 'sid=abc', origin: base, fetchSite: 'same-origin' });
    expect(seen[0]?.fetchSite).toBe('none');
    expect(seen[5]?.body).toBe('t=tok&d=yes');
    expect(result.trace.map((t) => t.status)).toEqual([302, 200, 303, 200, 307, 302]);
  });

  it('returns a re-rendered form (rejected submission) instead of looping', async () => {
    const result = await new HeadlessBrowser().navigate(`${base}/login`, { fields: { username: 'a', password: 'bad' } });
    expect(result.reason).toBe('form-repeated');
    expect(result.body).toContain('Invalid username or password');
  });

  it('submits GET forms into the query, returns pages without forms and error pages', async () => {
    const result = await new HeadlessBrowser().navigate(`${base}/search`, { fields: { q: 'a b' } });
    expect(result).toMatchObject({ reason: 'page', status: 200, url: `${base}/results?q=a+b` });
    expect(result.body).toContain('results for a b');
    expect(await new HeadlessBrowser().navigate(`${base}/nope`)).toMatchObject({ reason: 'http-error', status: 404 });
  });

  it('fails loudly on a missing button and on endless redirects', async () => {
    await expect(new HeadlessBrowser().navigate(`${base}/consent`, { button: 'Maybe' })).rejects.toThrow(
      /no submit button labelled "Maybe"; the page has "Approve", "Deny"/,
    );
    await expect(new HeadlessBrowser().navigate(`${base}/loop`, { maxSteps: 3 })).rejects.toBeInstanceOf(NavigationError);
  });

  it('submits a self-submitting (form_post style) page whatever its status and button option', async () => {
    const result = await new HeadlessBrowser().navigate(`${base}/formpost`, {
      stopAt: 'http://127.0.0.1:9/cb',
      button: 'Sign in',
    });
    expect(result.stoppedAt?.searchParams.get('d')).toBe('auto');
    expect(result.trace.map((t) => `${t.method} ${new URL(t.url).pathname} ${t.status}`)).toEqual([
      'GET /formpost 400',
      'POST /decide2 302',
    ]);
  });

  it('stopAt also matches a form action (the data is returned, not sent)', async () => {
    const result = await new HeadlessBrowser().navigate(`${base}/consent`, {
      stopAt: (url) => url.pathname === '/decide',
      button: 'Deny',
    });
    expect(result.reason).toBe('stopAt');
    expect(result.formData?.toString()).toBe('t=tok&d=no');
  });

  it('clone() copies cookies; a new browser has none', async () => {
    const browser = new HeadlessBrowser();
    await browser.request(`${base}/start`);
    expect(browser.clone().cookies(base).map((c) => c.name)).toEqual(['sid']);
    expect(new HeadlessBrowser().cookies(base)).toEqual([]);
    expect(browser.history).toHaveLength(1);
  });
});

/**
 * The newcomer's path, end to end: `npm start` (the compiled `flowgate demo`) in a temp data
 * directory on a free port, then
 *
 * 1. the start page and its built-in demo client in a headless browser: "Start a flow",
 *    Approve, the IdP login as alice/alice, and the result page with `whoami` and the flow's
 *    timeline from the event log; "Refresh tokens" shows the grant's new events;
 * 2. the consent page names the client, the scope and the IdP (its `displayName`); a wrong
 *    password shows the IdP's error; Deny shows the access_denied page;
 * 3. the official MCP SDK client registers, authorizes and calls `whoami` and `echo`;
 * 4. a second demo on the same port fails with one clear line;
 * 5. SIGINT stops it: exit 0, nothing left listening (SIGTERM: npm-sigterm.e2e.test.ts).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVALID_LOGIN_MESSAGE } from '../../src/demo/upstream-idp.js';
import { decodeEntities, HeadlessBrowser, type NavigationResult } from '../support/browser.js';
import { flowgate } from '../support/cli.js';
import { HeadlessOAuthProvider } from '../support/mcp/headless-provider.js';
import { commandLine, descendants, killGroup, refused, spawnNpmStart, type SpawnedDemo } from './spawn-demo.js';

const FLOW_EVENTS = [
  'flow.started',
  'consent.shown',
  'consent.approved',
  'upstream.redirected',
  'upstream.callback_accepted',
  'upstream.tokens_received',
  'code.issued',
  'code.redeemed',
];

/** `text` contains every string of `expected`, in this order. */
function expectInOrder(text: string, expected: readonly string[]): void {
  let at = 0;
  for (const item of expected) {
    const found = text.indexOf(item, at);
    expect(found, `"${item}" after position ${at}`).toBeGreaterThanOrEqual(0);
    at = found + item.length;
  }
}

function visibleText(html: string): string {
  return decodeEntities(html.replace(/<(style|script)\b[\s\S]*?<\/\1>/gi, '').replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ');
}

describe('npm start: flowgate demo', { timeout: 30_000 }, () => {
  let dir: string;
  let demo: SpawnedDemo;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-demo-'));
    demo = await spawnNpmStart({ PORT: '0', FLOWGATE_DATA_DIR: dir, FLOWGATE_DB: join(dir, 'log', 'events.db'), FLOWGATE_ACCESS_TOKEN_TTL: '30' });
  }, 60_000);

  afterAll(() => {
    killGroup(demo);
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (demo) console.log(`npm start: ready after ${demo.readyMs} ms`);
  });

  it('prints the URLs, the demo users, how to connect a real MCP client, then ready', () => {
    const out = demo.output.stdout;
    expect(demo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(demo.mcpUrl).toBe(`${demo.url}/mcp`);
    expect(demo.idpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(demo.idpUrl).not.toBe(demo.url);
    expect(out).toContain('alice/alice');
    expect(out).toContain('bob/bob');
    expect(out).toContain('npx @modelcontextprotocol/inspector');
    expect(out).toContain('Streamable HTTP');
    expect(out).toContain(`claude mcp add --transport http demo ${demo.url}/mcp`);
    expect(out).toContain(join(dir, 'log', 'events.db'));
    expect(out).toMatch(/Access tokens +expire after 30 s \(FLOWGATE_ACCESS_TOKEN_TTL\)/);
    expect(out.trimEnd().split('\n').at(-1)).toMatch(/ready/);
    expect(existsSync(join(dir, 'log', 'events.db'))).toBe(true);
    expect(existsSync(join(dir, 'master.key'))).toBe(true);
    // The development-key warning, once, phrased for the demo; no pino JSON noise.
    expect(demo.output.stderr.match(/master key/g)).toHaveLength(1);
    expect(demo.output.stderr).toContain('demo master key');
    expect(demo.output.stderr).not.toMatch(/^\{/m);
  });

  it('serves a self-contained start page with the security headers of flowgate pages', async () => {
    const response = await fetch(`${demo.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('same-origin');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const html = await response.text();
    expect(html).toContain('Start a flow');
    expect(html).not.toMatch(/<script|src="http|href="http/);
    // /mcp is behind flowgate's bearer guard; the challenge names the scope its tools need.
    const mcp = await fetch(demo.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(mcp.status).toBe(401);
    expect(mcp.headers.get('www-authenticate')).toBe(`Bearer scope="mcp:tools", resource_metadata="${demo.url}/.well-known/oauth-protected-resource/mcp"`);
  });

  it('the built-in demo client: Start a flow, Approve, alice logs in, whoami answers and the timeline shows the flow; refresh adds grant events; whoami again', async () => {
    const browser = new HeadlessBrowser();
    const atRefresh = (u: URL) => u.origin === demo.url && u.pathname === '/demo/refresh';
    const result = await browser.navigate(`${demo.url}/`, {
      fields: { username: 'alice', password: 'alice' },
      button: ['Start a flow', 'Approve', 'Sign in', 'Refresh tokens'],
      stopAt: atRefresh,
    });
    const trace = result.trace.map((t) => `${t.method} ${new URL(t.url).origin === demo.url ? '' : 'idp '}${new URL(t.url).pathname} ${t.status}`);
    expect(result.reason, trace.join('\n')).toBe('stopAt');
    expect(result.url).toBe(`${demo.url}/demo/result`);
    expect(trace.some((t) => t.startsWith('POST /consent'))).toBe(true);
    expect(trace.some((t) => t.startsWith('POST idp /interaction/'))).toBe(true);
    expect(trace).toContain('GET /demo/callback 303');

    const text = visibleText(result.body);
    expect(result.body).toMatch(/<strong id="whoami-subject">alice<\/strong>/);
    expect(text).toContain('mcp:tools');
    expectInOrder(text, FLOW_EVENTS);
    expectInOrder(text, ['grant.created', 'access_token.issued']);
    expect(text).toContain('authorization_code');
    expect(text).toContain('expires_in 30 s'); // FLOWGATE_ACCESS_TOKEN_TTL
    // Tokens are described, never shown: no JWT and no refresh token on the page.
    expect(result.body).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
    expect(result.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(result.headers.get('x-frame-options')).toBe('DENY');

    const refreshed = await browser.navigate(`${demo.url}/demo/refresh`, {
      method: 'POST',
      initiator: `${demo.url}/demo/result`,
      button: ['Refresh tokens'],
      stopAt: atRefresh,
    });
    expect(refreshed.reason).toBe('stopAt');
    expect(refreshed.body).toMatch(/<strong id="whoami-subject">alice<\/strong>/);
    const after = visibleText(refreshed.body);
    expectInOrder(after, ['grant.created', 'access_token.issued', 'refresh_token.rotated', 'access_token.issued']);
    expect(refreshed.body).toMatch(/<strong>refresh_token\.rotated<\/strong><span class="tag">new<\/span>/);
    expect(refreshed.body).not.toMatch(/<strong>grant\.created<\/strong><span class="tag">new/);

    // "Call whoami again" uses the current access token.
    const called = await browser.navigate(`${demo.url}/demo/call`, {
      method: 'POST',
      initiator: `${demo.url}/demo/result`,
      button: ['Refresh tokens'],
      stopAt: atRefresh,
    });
    expect(called.reason).toBe('stopAt');
    expect(called.body).toMatch(/<strong id="whoami-subject">alice<\/strong>/);
    expectInOrder(visibleText(called.body), ['3. whoami call at', 'Earlier steps', '1. code exchange', '2. refresh']);
  });

  it("flowgate's consent page names the demo client, the scope and the upstream by its display name", async () => {
    const result = await new HeadlessBrowser().navigate(`${demo.url}/`, {
      button: ['Start a flow', 'Approve'],
      // Stop at the consent form's submission: the page is the consent page.
      stopAt: (u) => u.origin === demo.url && u.pathname === '/consent' && !u.searchParams.has('flow'),
    });
    expect(result.reason).toBe('stopAt');
    const text = visibleText(result.body);
    expect(text).toContain('flowgate demo client');
    expect(text).toContain('you will sign in with the demo IdP and');
    expect(text).toContain('mcp:tools');
  });

  it('a wrong password shows the IdP’s error on its login form', async () => {
    const result: NavigationResult = await new HeadlessBrowser().navigate(`${demo.url}/`, {
      fields: { username: 'alice', password: 'not-alice' },
      button: ['Start a flow', 'Approve', 'Sign in'],
    });
    expect(result.reason).toBe('form-repeated');
    expect(new URL(result.url).origin).toBe(demo.idpUrl);
    expect(result.body).toContain(INVALID_LOGIN_MESSAGE);
    expect(result.body).toMatch(/name="username"/);
    expect(result.body).toMatch(/name="password"/);
  });

  it('Deny shows a page that explains access_denied', async () => {
    const result = await new HeadlessBrowser().navigate(`${demo.url}/demo/start`, {
      method: 'POST',
      initiator: `${demo.url}/`,
      button: ['Deny', 'Start a flow'],
      stopAt: (u) => u.pathname === '/demo/start',
    });
    expect(result.url).toMatch(/\/demo\/callback\?/);
    expect(new URL(result.url).searchParams.get('error')).toBe('access_denied');
    expect(visibleText(result.body)).toContain('You denied access');
    expect(result.body).toContain('<code>error=access_denied</code>');
  });

  it('the official MCP SDK client connects to /mcp: registers, authorizes, calls whoami and echo', async () => {
    const provider = new HeadlessOAuthProvider({ browser: new HeadlessBrowser(), clientName: 'demo e2e (MCP SDK client)' });
    const connect = () => {
      const client = new Client({ name: 'demo-e2e', version: '0.0.0' });
      return { client, transport: new StreamableHTTPClientTransport(new URL(demo.mcpUrl), { authProvider: provider }) };
    };
    const first = connect();
    await expect(first.client.connect(first.transport)).rejects.toBeInstanceOf(UnauthorizedError);
    await first.transport.finishAuth(provider.takeAuthorizationCode());
    await first.client.close();

    const { client, transport } = connect();
    await client.connect(transport);
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
      const who = await client.callTool({ name: 'whoami', arguments: {} });
      const answer = JSON.parse((who.content as Array<{ text: string }>)[0]!.text) as { subject: string; clientId: string; scopes: string[]; resource: string };
      expect(answer).toMatchObject({ subject: 'alice', clientId: provider.clientInformation()!.client_id, scopes: ['mcp:tools'], resource: demo.mcpUrl });
      const echoed = await client.callTool({ name: 'echo', arguments: { text: 'hello, flowgate' } });
      expect(echoed.content).toEqual([{ type: 'text', text: 'hello, flowgate' }]);
    } finally {
      await client.close();
    }
    expect(provider.browserRuns).toHaveLength(1);
    // The client asked for mcp:tools (what /mcp's challenge and its metadata name).
    expect(provider.browserRuns[0]!.authorizationUrl.searchParams.get('scope')).toBe('mcp:tools');
    expect(provider.savedClients).toHaveLength(1);
  });

  it('a busy port: one clear line, exit 1', () => {
    const port = new URL(demo.url).port;
    const run = flowgate(['demo'], { PORT: port, FLOWGATE_DATA_DIR: join(dir, 'second') });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      `flowgate: port ${port} on 127.0.0.1 is already in use (is another demo still running?); stop it, or pick another port: PORT=8788 npm start`,
    ]);
  });

  it('SIGINT stops the demo: exit 0, flowgate and the IdP no longer listen', async () => {
    const npmPid = demo.child.pid!;
    // npm runs the script through `sh -c`; the demo is the node process below it. (Ctrl-C in
    // a terminal signals the whole group; `sh` then dies of the SIGINT too, and npm says so.)
    const node = descendants(npmPid).find((pid) => /^\S*node\S* \S*bin\.js demo$/.test(commandLine(pid)));
    if (node) process.kill(node, 'SIGINT');
    else process.kill(-npmPid, 'SIGINT');
    const { code, signal } = await demo.exited;
    expect(demo.output.stderr).toContain('flowgate demo: stopped');
    expect(demo.output.stderr).not.toMatch(/^\{/m); // no log lines at warn level through every flow above
    if (node) expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(await refused(`${demo.url}/healthz`)).toBe(true);
    expect(await refused(`${demo.idpUrl}/.well-known/openid-configuration`)).toBe(true);
    expect(descendants(npmPid)).toEqual([]);
  });
});

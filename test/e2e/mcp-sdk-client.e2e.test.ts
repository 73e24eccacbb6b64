/**
 * The official MCP TypeScript SDK client (`Client` + `StreamableHTTPClientTransport`, pinned
 * ~1.32.2) against flowgate and an SDK `McpServer` behind flowgate's bearer guard, all on one
 * origin with a real upstream IdP:
 *
 * 1. cold start: 401 → PRM → AS metadata → dynamic registration → browser (consent,
 *    upstream login) → code → token → `tools/call whoami` as alice;
 * 2. the access token expires → 401 → the client refreshes by itself (no browser);
 * 3. the refresh token is revoked → 401 → refresh gets `invalid_grant` → the client
 *    re-authorizes through the browser, with the same registration;
 * 4. a second connection reuses the stored tokens (no browser, no token request);
 * 5. `mcpTokenVerifier` behind the SDK's own `requireBearerAuth`: 401 (never 500) for every
 *    refused token;
 * 6. parallel calls when the access token has expired: the SDK refreshes once per failed
 *    request, unsynchronised, so flowgate sees concurrent uses of one refresh token.
 *
 * Every SDK request is traced; the trace is printed when a test fails (and always with
 * FLOWGATE_TEST_TRACE=1).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mcpTokenVerifier } from '../../src/resource/mcp-sdk.js';
import { HeadlessBrowser } from '../support/browser.js';
import { runRequireBearerAuth } from '../support/mcp/bearer-auth.js';
import { HeadlessOAuthProvider, redactUrl } from '../support/mcp/headless-provider.js';
import { HttpTrace } from '../support/mcp/http-trace.js';
import { startMcpStack, type McpStack } from '../support/mcp/server.js';

interface Who {
  subject: string;
  clientId: string;
  scopes: string[];
  resource: string;
  expiresAt: number;
  grantId: string;
}

/** `lines` contains `expected` in this order (other lines may come between). */
function expectInOrder(lines: readonly string[], expected: readonly string[]): void {
  let at = 0;
  for (const line of lines) if (at < expected.length && line === expected[at]) at += 1;
  expect(at, `expected, in order:\n  ${expected.join('\n  ')}\ngot:\n  ${lines.join('\n  ')}`).toBe(expected.length);
}

describe('the MCP SDK client against flowgate (one origin, real upstream IdP)', () => {
  let stack: McpStack;
  let provider: HeadlessOAuthProvider;
  const trace = new HttpTrace();
  const timings: Record<string, number> = {};
  const open: Client[] = [];
  let client: Client;
  let transport: StreamableHTTPClientTransport;
  let first: Who;

  /** A new transport and client on the shared provider (a transport cannot start twice). */
  function connection(): { client: Client; transport: StreamableHTTPClientTransport } {
    const t = new StreamableHTTPClientTransport(new URL(stack.mcpUrl), { authProvider: provider, fetch: trace.fetch });
    const c = new Client({ name: 'flowgate-e2e', version: '0.0.0' });
    open.push(c);
    return { client: c, transport: t };
  }

  async function whoami(c: Client): Promise<Who> {
    const result = await c.callTool({ name: 'whoami', arguments: {} });
    expect(result.isError ?? false, JSON.stringify(result)).toBe(false);
    const content = result.content as Array<{ type: string; text: string }>;
    return JSON.parse(content[0]!.text) as Who;
  }

  async function phase<T>(name: string, run: () => Promise<T>): Promise<T> {
    trace.phase = name;
    const started = performance.now();
    try {
      return await run();
    } finally {
      timings[name] = Math.round(performance.now() - started);
    }
  }

  function report(): string {
    const browser = provider?.browserRuns
      .map((r, i) => `browser run ${i + 1}:\n${r.result.trace.map((t) => `  ${t.method} ${redactUrl(t.url)} -> ${t.status}`).join('\n')}`)
      .join('\n');
    const server = stack?.serverLog.map((e) => `  ${e.method} ${e.path} -> ${e.status}`).join('\n');
    return [
      'SDK client requests:',
      trace.format(),
      browser ?? '',
      `invalidateCredentials calls: ${JSON.stringify(provider?.invalidations ?? [])}`,
      `timings (ms): ${JSON.stringify(timings)}`,
      `flowgate clock offset: ${stack?.clock.offsetSeconds ?? 0} s; upstream token requests: ${JSON.stringify(stack?.idp.stats.tokenRequests)}`,
      'server log (every caller):',
      server ?? '',
    ].join('\n');
  }

  beforeAll(async () => {
    stack = await startMcpStack({ config: () => ({ tokens: { accessTokenTtlSeconds: 60 } }) });
    provider = new HeadlessOAuthProvider({ browser: new HeadlessBrowser() });
  });

  beforeEach((context) => {
    context.onTestFailed(() => console.error(`\n${context.task.name} FAILED\n${report()}\n`));
  });

  afterAll(async () => {
    if (process.env.FLOWGATE_TEST_TRACE) console.log(report());
    await Promise.allSettled(open.map((c) => c.close()));
    await stack?.close();
  });

  it('cold start: discovery, dynamic registration, browser authorization, then tools/call whoami as alice', async () => {
    first = await phase('cold', async () => {
      ({ client, transport } = connection());
      await expect(client.connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
      expect(provider.browserRuns).toHaveLength(1);
      await transport.finishAuth(provider.takeAuthorizationCode());
      await client.close();
      ({ client, transport } = connection());
      await client.connect(transport);
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
      return whoami(client);
    });

    const registered = provider.clientInformation()!;
    expect(first.subject).toBe('alice');
    expect(first.clientId).toBe(registered.client_id);
    expect(first.scopes).toEqual(['mcp:tools']);
    expect(first.resource).toBe(stack.mcpUrl);
    expect(provider.browserRuns).toHaveLength(1);
    expect(provider.savedClients).toHaveLength(1);
    // The SDK stamps what it stores with the AS it used; the provider kept it unchanged.
    expect(provider.savedClients[0]).toMatchObject({ issuer: stack.url, client_id: registered.client_id });
    expect(provider.tokens()).toMatchObject({ issuer: stack.url, token_type: expect.stringMatching(/^bearer$/i), scope: 'mcp:tools' });
    expect(provider.tokens()!.refresh_token).toEqual(expect.any(String));

    const lines = trace.lines('cold');
    expectInOrder(lines, [
      'POST /mcp 401',
      'GET /.well-known/oauth-protected-resource/mcp 200',
      'GET /.well-known/oauth-authorization-server 200',
      'POST /register 201',
      'POST /token 200',
      'POST /mcp 200',
    ]);
    expect(lines.filter((l) => l.startsWith('POST /register'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('POST /token'))).toHaveLength(1);
    // The authorization request carried the resource and scope from the PRM.
    const authorizeUrl = provider.browserRuns[0]!.authorizationUrl;
    expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(`${stack.url}/authorize`);
    expect(authorizeUrl.searchParams.get('resource')).toBe(stack.mcpUrl);
    expect(authorizeUrl.searchParams.get('scope')).toBe('mcp:tools');
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    // The token request named the resource too.
    expect(trace.of('cold').find((e) => e.path === '/token')?.note).toContain(`resource=${stack.mcpUrl}`);
  });

  it('an expired access token: 401, the client refreshes by itself, the call succeeds without the browser', async () => {
    const before = provider.tokens()!;
    const runs = provider.browserRuns.length;
    await trace.idle(); // the SDK's GET probe runs after connect() returned
    stack.expireAccessTokens();
    const who = await phase('refresh', () => whoami(client));

    expect(who).toMatchObject({ subject: 'alice', clientId: first.clientId, grantId: first.grantId });
    expect(provider.browserRuns).toHaveLength(runs);
    expect(trace.lines('refresh')).toEqual(['POST /mcp 401', 'POST /token 200', 'POST /mcp 200']);
    expect(trace.of('refresh')[0]!.note).toMatch(/error="invalid_token"/);
    expect(trace.of('refresh')[1]!.note).toContain('grant_type=refresh_token');
    const after = provider.tokens()!;
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    const events = await stack.flowgate.store.readStream(`grant:${first.grantId}`);
    expect(events.map((e) => e.type)).toContain('refresh_token.rotated');
  });

  it('a revoked refresh token: 401, refresh gets invalid_grant, the client re-authorizes through the browser', async () => {
    const registered = provider.clientInformation()!;
    const runs = provider.browserRuns.length;
    const revoked = await fetch(`${stack.url}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: provider.tokens()!.refresh_token!, token_type_hint: 'refresh_token', client_id: registered.client_id }),
    });
    expect(revoked.status).toBe(200);

    const who = await phase('revoked', async () => {
      await expect(whoami(client)).rejects.toBeInstanceOf(UnauthorizedError);
      await transport.finishAuth(provider.takeAuthorizationCode());
      return whoami(client);
    });

    expect(provider.browserRuns).toHaveLength(runs + 1);
    expect(provider.invalidations).toContain('tokens');
    expect(provider.invalidations).not.toContain('client');
    expect(provider.savedClients).toHaveLength(1); // the registration was reused
    expect(who).toMatchObject({ subject: 'alice', clientId: registered.client_id });
    expect(who.grantId).not.toBe(first.grantId);
    const lines = trace.lines('revoked');
    expectInOrder(lines, ['POST /mcp 401', 'POST /token 400', 'POST /token 200', 'POST /mcp 200']);
    expect(trace.of('revoked').find((e) => e.status === 400)?.note).toContain('error="invalid_grant"');
    expect(lines.some((l) => l.startsWith('POST /register'))).toBe(false);
  });

  it('a second connection reuses the stored tokens: no browser, no token request', async () => {
    const runs = provider.browserRuns.length;
    const who = await phase('second', async () => {
      const second = connection();
      await second.client.connect(second.transport);
      const echoed = await second.client.callTool({ name: 'echo', arguments: { text: 'hello' } });
      expect(echoed.content).toEqual([{ type: 'text', text: 'hello' }]);
      return whoami(second.client);
    });
    expect(who).toMatchObject({ subject: 'alice', clientId: provider.clientInformation()!.client_id });
    expect(provider.browserRuns).toHaveLength(runs);
    const lines = trace.lines('second');
    expect(lines[0]).toBe('POST /mcp 200');
    expect(lines.every((l) => / \/mcp /.test(l))).toBe(true);
    expect(lines.filter((l) => l.endsWith(' 401'))).toEqual([]);
  });

  describe("mcpTokenVerifier behind the SDK's requireBearerAuth", () => {
    const options = () => ({
      verifier: mcpTokenVerifier((token, o) => stack.flowgate.verifyAccessToken(token, o), { resource: stack.mcpUrl }),
      resourceMetadataUrl: stack.resourceMetadataUrl,
      expectedResource: new URL(stack.mcpUrl),
    });

    it('accepts a live token and hands the tools the caller', async () => {
      const token = provider.tokens()!.access_token;
      const outcome = await runRequireBearerAuth(options(), `Bearer ${token}`);
      expect(outcome.passed, JSON.stringify(outcome.body)).toBe(true);
      expect(outcome.auth).toMatchObject({
        token,
        clientId: provider.clientInformation()!.client_id,
        scopes: ['mcp:tools'],
        resource: new URL(stack.mcpUrl),
        extra: { subject: 'alice', grantId: expect.any(String) },
      });
      expect(outcome.auth!.expiresAt).toBeGreaterThan(stack.clock.now() / 1000);
    });

    it('answers 401 invalid_token (never 500) for junk, another resource and an expired token', async () => {
      const token = provider.tokens()!.access_token;
      const junk = await runRequireBearerAuth(options(), 'Bearer not-a-jwt');
      expect(junk).toMatchObject({ status: 401, passed: false, body: { error: 'invalid_token' } });
      expect(junk.wwwAuthenticate).toMatch(/^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="/);

      const elsewhere = await runRequireBearerAuth(
        { ...options(), verifier: mcpTokenVerifier((t, o) => stack.flowgate.verifyAccessToken(t, o), { resource: 'https://elsewhere.example/mcp' }) },
        `Bearer ${token}`,
      );
      expect(elsewhere).toMatchObject({ status: 401, body: { error: 'invalid_token' } });

      await trace.idle();
      stack.expireAccessTokens();
      const expired = await runRequireBearerAuth(options(), `Bearer ${token}`);
      expect(expired).toMatchObject({ status: 401, body: { error: 'invalid_token', error_description: 'the access token has expired' } });
    });

    it('answers 401 for a revoked access token, and 500 (not 401) when verification itself breaks', async () => {
      // The client refreshes by itself (its token expired above), then that token is revoked.
      trace.phase = 'verifier';
      await whoami(open.at(-1)!);
      const token = provider.tokens()!.access_token;
      expect((await runRequireBearerAuth(options(), `Bearer ${token}`)).passed).toBe(true);
      const revoked = await fetch(`${stack.url}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token', client_id: provider.clientInformation()!.client_id }),
      });
      expect(revoked.status).toBe(200);
      const outcome = await runRequireBearerAuth(options(), `Bearer ${token}`);
      expect(outcome).toMatchObject({ status: 401, body: { error: 'invalid_token', error_description: 'the access token was revoked' } });

      const broken = mcpTokenVerifier(async () => {
        throw new Error('database is down');
      });
      const failed = await runRequireBearerAuth({ ...options(), verifier: broken }, `Bearer ${token}`);
      expect(failed).toMatchObject({ status: 500, passed: false, body: { error: 'server_error' } });
    });
  });
  describe('parallel tool calls when the access token has expired', () => {
    /** A fresh stack and client, authorized, then two calls at once after the token expired. */
    async function parallelAtExpiry(refreshGraceSeconds: number) {
      const own = await startMcpStack({ config: () => ({ tokens: { accessTokenTtlSeconds: 60, refreshGraceSeconds } }) });
      const p = new HeadlessOAuthProvider({ browser: new HeadlessBrowser() });
      const t = new HttpTrace();
      try {
        let conn = { transport: new StreamableHTTPClientTransport(new URL(own.mcpUrl), { authProvider: p, fetch: t.fetch }), client: new Client({ name: 'e2e', version: '0' }) };
        await expect(conn.client.connect(conn.transport)).rejects.toBeInstanceOf(UnauthorizedError);
        await conn.transport.finishAuth(p.takeAuthorizationCode());
        conn = { transport: new StreamableHTTPClientTransport(new URL(own.mcpUrl), { authProvider: p, fetch: t.fetch }), client: new Client({ name: 'e2e', version: '0' }) };
        await conn.client.connect(conn.transport);
        const who = await whoami(conn.client);
        await t.idle();
        own.expireAccessTokens();
        t.phase = 'parallel';
        t.holdUntilConcurrent('/token', 2); // both refreshes reach flowgate together
        const results = await Promise.allSettled([whoami(conn.client), whoami(conn.client)]);
        await t.idle();
        const tokenStatuses = t.of('parallel').filter((e) => e.path === '/token').map((e) => e.status).sort();
        const events = (await own.flowgate.store.readStream(`grant:${who.grantId}`)).map((e) => e.type);
        await conn.client.close();
        return { results, tokenStatuses, events, browserRuns: p.browserRuns.length, trace: t.format() };
      } finally {
        await own.close();
      }
    }

    it('with refreshGraceSeconds 0 (the default) the second concurrent refresh counts as reuse: the grant is revoked', async () => {
      const outcome = await parallelAtExpiry(0);
      if (process.env.FLOWGATE_TEST_TRACE) console.log(`parallel, grace 0:\n${outcome.trace}`);
      expect(outcome.tokenStatuses, outcome.trace).toEqual([200, 400]);
      expect(outcome.events).toContain('refresh_token.reuse_detected');
      expect(outcome.events).toContain('grant.revoked');
      // The winner's fresh access token died with the family: the SDK cannot recover on this transport.
      expect(outcome.results.some((r) => r.status === 'rejected'), outcome.trace).toBe(true);
    });

    it('with refreshGraceSeconds 10 both concurrent refreshes succeed and both calls return', async () => {
      const outcome = await parallelAtExpiry(10);
      if (process.env.FLOWGATE_TEST_TRACE) console.log(`parallel, grace 10:\n${outcome.trace}`);
      expect(outcome.tokenStatuses, outcome.trace).toEqual([200, 200]);
      expect(outcome.results.map((r) => r.status), outcome.trace).toEqual(['fulfilled', 'fulfilled']);
      expect(outcome.events).not.toContain('grant.revoked');
      expect(outcome.browserRuns).toBe(1);
    });
  });
});

/**
 * One of the examples (examples/*.ts, started exactly as the docs show) in front of a real
 * upstream IdP on 127.0.0.1, and the client-side helpers the adapter tests share: the
 * official MCP SDK client's cold start, a plain JSON-RPC `tools/call whoami`, revocation and
 * registration from a chosen loopback source address.
 */
import { request as httpRequest } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { expect } from 'vitest';
import type { FlowgateConfigInput } from '../../../src/config/schema.js';
import { generateMasterKeyText } from '../../../src/crypto/master-key.js';
import { startUpstreamIdp, type UpstreamIdp } from '../../../src/demo/upstream-idp.js';
import type { RunningExample, StartOptions } from '../../../examples/support/listen.js';
import type { Whoami } from '../../../examples/support/whoami-server.js';
import { HeadlessBrowser } from '../../support/browser.js';
import { HeadlessOAuthProvider } from '../../support/mcp/headless-provider.js';
import { HttpTrace } from '../../support/mcp/http-trace.js';
import { testLogger, type TestProxy } from '../../support/proxy.js';

/** An example's `start`. */
export type StartExample = (options: StartOptions) => Promise<RunningExample>;

/** Path prefixes flowgate's upstream callback may sit under in these tests (the IdP matches loopback URIs on any port). */
const CALLBACK_PREFIXES = ['', '/api', '/api/v1/tools', '/oauth'];

const UPSTREAM_SECRET = 'flowgate-upstream-secret';

/** A running example with its IdP. */
export interface ExampleStack {
  readonly example: RunningExample;
  readonly idp: UpstreamIdp;
  /** The example as test/support's token helpers see it: `url` is where flowgate's endpoints are. */
  readonly proxy: TestProxy;
  close(): Promise<void>;
}

/** Starts the IdP, then the example with flowgate configured for it (plus `config(url)`). */
export async function startExample(
  start: StartExample,
  options: { readonly config?: (url: string) => Partial<FlowgateConfigInput>; readonly endpointsAt?: (url: string) => string } = {},
): Promise<ExampleStack> {
  const idp = await startUpstreamIdp({
    mode: 'oidc',
    clients: [{ client_id: 'flowgate', client_secret: UPSTREAM_SECRET, redirect_uris: CALLBACK_PREFIXES.map((p) => `http://127.0.0.1${p}/auth/callback`) }],
  });
  let used: FlowgateConfigInput | undefined;
  let example: RunningExample;
  try {
    example = await start({
      config: (url) => {
        const extra = options.config?.(url) ?? {};
        used = {
          masterKey: generateMasterKeyText(),
          store: { sqlitePath: ':memory:', synchronous: 'NORMAL' },
          upstream: { kind: 'oidc', issuer: idp.issuer, clientId: 'flowgate', clientSecret: UPSTREAM_SECRET, scopes: ['openid', 'email', 'profile', 'offline_access'] },
          ...extra,
        };
        return used;
      },
      flowgate: { logger: testLogger() },
    });
  } catch (error) {
    await idp.close();
    throw error;
  }
  const close = async () => {
    await example.close();
    await idp.close();
  };
  return {
    example,
    idp,
    proxy: { url: options.endpointsAt?.(example.url) ?? example.url, config: used!, idp, flowgate: example.flowgate, close },
    close,
  };
}

/** `lines` contains `expected` in this order (other lines may come between). */
export function expectInOrder(lines: readonly string[], expected: readonly string[]): void {
  let at = 0;
  for (const line of lines) if (at < expected.length && line === expected[at]) at += 1;
  expect(at, `expected, in order:\n  ${expected.join('\n  ')}\ngot:\n  ${lines.join('\n  ')}`).toBe(expected.length);
}

/** What the official MCP SDK client saw on a cold start. */
export interface SdkRun {
  readonly who: Whoami;
  readonly provider: HeadlessOAuthProvider;
  readonly trace: HttpTrace;
}

/**
 * The official MCP SDK client's cold start against `mcpUrl`: 401 → discovery → dynamic
 * registration → browser (consent, upstream login as alice) → token → `tools/call whoami`.
 */
export async function sdkClientWhoami(mcpUrl: string): Promise<SdkRun> {
  const provider = new HeadlessOAuthProvider({ browser: new HeadlessBrowser() });
  const trace = new HttpTrace();
  const connection = () => ({
    client: new Client({ name: 'flowgate-adapter-test', version: '0.0.0' }),
    transport: new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider, fetch: trace.fetch }),
  });
  const first = connection();
  try {
    await expect(first.client.connect(first.transport)).rejects.toBeInstanceOf(UnauthorizedError);
    await first.transport.finishAuth(provider.takeAuthorizationCode());
  } catch (error) {
    throw new Error(`${(error as Error).message}\nSDK client requests:\n${trace.format()}`, { cause: error });
  } finally {
    await first.client.close();
  }
  const second = connection();
  try {
    await second.client.connect(second.transport);
    const result = await second.client.callTool({ name: 'whoami', arguments: {} });
    expect(result.isError ?? false, JSON.stringify(result)).toBe(false);
    const content = result.content as Array<{ type: string; text: string }>;
    return { who: JSON.parse(content[0]!.text) as Whoami, provider, trace };
  } finally {
    await trace.idle();
    await second.client.close();
  }
}

/** The answer to a plain JSON-RPC `tools/call whoami` POST. */
export interface PlainCall {
  readonly status: number;
  readonly wwwAuthenticate: string | null;
  readonly body: any;
}

/** POSTs `tools/call whoami` to `mcpUrl` as JSON-RPC, with `Authorization: Bearer <token>` when given. */
export async function postWhoami(mcpUrl: string, token?: string): Promise<PlainCall> {
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, wwwAuthenticate: response.headers.get('www-authenticate'), body };
}

/** The caller `whoami` reported in a successful plain call. */
export function whoOf(call: PlainCall): Whoami {
  expect(call.status, JSON.stringify(call.body)).toBe(200);
  return JSON.parse(call.body.result.content[0].text) as Whoami;
}

/** Revokes a token at flowgate (RFC 7009) as a public client. */
export async function revoke(endpointsUrl: string, token: string, clientId: string): Promise<number> {
  const response = await fetch(`${endpointsUrl}/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, token_type_hint: 'access_token', client_id: clientId }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Registers a client (RFC 7591) from the loopback address `localAddress` (127.0.0.0/8); resolves to the status. */
export function registerFrom(registrationUrl: string, localAddress: string): Promise<number> {
  const body = JSON.stringify({
    client_name: 'adapter test',
    redirect_uris: ['http://127.0.0.1:53682/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      registrationUrl,
      { method: 'POST', localAddress, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

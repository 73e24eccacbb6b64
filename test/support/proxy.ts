/**
 * flowgate in front of a real upstream IdP, both on 127.0.0.1, for end-to-end tests: the
 * proxy listens first (its issuer needs the port), then the IdP starts with the proxy's
 * callback registered, then flowgate is created and starts answering.
 */
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { randomToken } from '../../src/crypto/random.js';
import { startUpstreamIdp, type UpstreamIdp, type UpstreamIdpOptions } from '../../src/demo/upstream-idp.js';
import { createFlowgate, type Flowgate, type FlowgateOptions } from '../../src/flowgate.js';
import type { FlowgateConfigInput } from '../../src/config/schema.js';
import { s256Challenge } from '../../src/oauth/pkce.js';
import { HeadlessBrowser, type NavigationResult } from './browser.js';
import { freshSchema, dropSchema, pgUrl } from './stores.js';

/** A running proxy + IdP pair. */
export interface TestProxy {
  readonly url: string;
  /** The configuration flowgate was created with (for a second instance on the same store). */
  readonly config: FlowgateConfigInput;
  readonly idp: UpstreamIdp;
  readonly flowgate: Flowgate;
  close(): Promise<void>;
}

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  readonly mode?: 'oidc' | 'github';
  readonly database?: 'sqlite' | 'postgres';
  /** A SQLite file instead of an in-memory database (for several processes on one store). */
  readonly sqlitePath?: string;
  readonly config?: (base: { url: string; idp: UpstreamIdp }) => Partial<FlowgateConfigInput>;
  readonly idp?: Partial<UpstreamIdpOptions>;
  readonly flowgate?: FlowgateOptions;
}

/** A silent logger (set FLOWGATE_TEST_LOG=1 to see flowgate's logs). */
export function testLogger() {
  return pino({ level: process.env.FLOWGATE_TEST_LOG ? 'debug' : 'silent' });
}

/** Starts the IdP and flowgate on 127.0.0.1. */
export async function startProxy(options: ProxyOptions = {}): Promise<TestProxy> {
  let handler: (request: Request, env: unknown) => Promise<Response> = async () => new Response('starting', { status: 503 });
  const server: ServerType = await new Promise((resolve) => {
    // overrideGlobalObjects: false — @hono/node-server would otherwise replace the global
    // Request/Response, and an MCP SDK client in the same process could no longer recognise them.
    const s = serve({ fetch: (request, env) => handler(request, env), port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const mode = options.mode ?? 'oidc';
  const idp = await startUpstreamIdp({
    mode,
    clients: [{ client_id: 'flowgate', client_secret: 'flowgate-upstream-secret', redirect_uris: [`${url}/auth/callback`] }],
    ...options.idp,
  });
  const schema = options.database === 'postgres' ? freshSchema() : undefined;
  const store =
    options.database === 'postgres'
      ? { databaseUrl: pgUrl()!, postgresSchema: schema }
      : { sqlitePath: options.sqlitePath ?? ':memory:', synchronous: 'NORMAL' as const };
  const upstream =
    mode === 'oidc'
      ? { kind: 'oidc' as const, issuer: idp.issuer, clientId: 'flowgate', clientSecret: 'flowgate-upstream-secret', scopes: ['openid', 'email', 'profile', 'offline_access'] }
      : {
          kind: 'oauth2' as const,
          issuer: idp.issuer,
          authorizationEndpoint: idp.endpoints.authorization,
          tokenEndpoint: idp.endpoints.token,
          userinfoEndpoint: idp.endpoints.user!,
          clientId: 'flowgate',
          clientSecret: 'flowgate-upstream-secret',
          scopes: ['read:user', 'user:email'],
        };
  const base: FlowgateConfigInput = {
    dataDir: '.flowgate-test-unused',
    masterKey: generateMasterKeyText(),
    server: { issuer: url },
    store,
    upstream,
  };
  const extra = options.config?.({ url, idp }) ?? {};
  const config = { ...base, ...extra, server: { ...(extra.server ?? {}), issuer: url } } as FlowgateConfigInput;
  const flowgate = await createFlowgate(config, { logger: testLogger(), ...options.flowgate });
  handler = (request, env) => flowgate.fetch(request, env);
  return {
    url,
    config,
    idp,
    flowgate,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await idp.close();
      await flowgate.close();
      if (schema) await dropSchema(pgUrl()!, schema);
    },
  };
}

/** An MCP client's side: its registration, PKCE pair and state. */
export interface TestClient {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly redirectUri: string;
}

/** Registers a client with `POST /register`. */
export async function registerClient(
  proxy: TestProxy,
  metadata: Record<string, unknown> = {},
): Promise<TestClient & { response: Record<string, unknown> }> {
  const redirectUri = (metadata.redirect_uris as string[] | undefined)?.[0] ?? 'http://127.0.0.1:53682/callback';
  const response = await fetch(`${proxy.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'e2e client',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...metadata,
    }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 201) throw new Error(`registration failed: ${response.status} ${JSON.stringify(body)}`);
  return {
    clientId: body.client_id as string,
    ...(typeof body.client_secret === 'string' ? { clientSecret: body.client_secret } : {}),
    redirectUri,
    response: body,
  };
}

/** The parameters of one authorization request. */
export interface AuthorizationRequest {
  readonly url: string;
  readonly verifier: string;
  readonly state: string;
}

/** Builds an `/authorize` URL with a fresh PKCE pair and state. */
export function authorizationRequest(proxy: TestProxy, client: TestClient, extra: Record<string, string> = {}): AuthorizationRequest {
  const verifier = randomToken(32);
  const state = randomToken(16);
  const url = new URL(`${proxy.url}/authorize`);
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    code_challenge: s256Challenge(verifier),
    code_challenge_method: 'S256',
    state,
    scope: 'mcp:tools',
    resource: `${proxy.url}/mcp`,
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) if (v !== '') url.searchParams.set(k, v);
  return { url: url.toString(), verifier, state };
}

/** Drives a browser from `/authorize` through consent and the upstream login to the client's redirect URI. */
export async function authorizeInBrowser(
  browser: HeadlessBrowser,
  client: TestClient,
  request: AuthorizationRequest,
  options: { user?: string; password?: string; button?: string } = {},
): Promise<NavigationResult> {
  return browser.navigate(request.url, {
    stopAt: (u) => u.origin + u.pathname === new URL(client.redirectUri).origin + new URL(client.redirectUri).pathname,
    fields: { username: options.user ?? 'alice', password: options.password ?? options.user ?? 'alice' },
    button: [options.button ?? 'Approve', 'Sign in'],
  });
}

/** Exchanges a code at `/token`. */
export async function exchangeCode(
  proxy: TestProxy,
  client: TestClient,
  code: string,
  verifier: string,
  extra: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, any>; headers: Headers }> {
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: client.redirectUri,
    client_id: client.clientId,
    ...extra,
  });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (client.clientSecret) form.set('client_secret', client.clientSecret);
  const response = await fetch(`${proxy.url}/token`, { method: 'POST', headers, body: form });
  return { status: response.status, body: (await response.json()) as Record<string, any>, headers: response.headers };
}

export { HeadlessBrowser };

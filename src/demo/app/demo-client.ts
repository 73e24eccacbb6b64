/**
 * The start page and the built-in demo client, which works without JavaScript:
 *
 * - `POST /demo/start`: registers (once per process) a confidential client through
 *   flowgate's own `/register`, keeps the PKCE verifier and `state` server-side under a
 *   random session id (an `HttpOnly` cookie), and redirects to `/authorize`;
 * - flowgate's consent page and the upstream login follow;
 * - `GET /demo/callback`: checks `state` and `iss`, exchanges the code at `/token`, calls
 *   the demo MCP server's `whoami` with the access token (a real MCP `tools/call` over
 *   HTTP through `/mcp`), finds the flow from the code's hash, then redirects to
 *   `GET /demo/result`, which shows it all with the timelines replayed from the log;
 * - `POST /demo/refresh`: uses the refresh token and shows the grant's new events;
 * - `POST /demo/call`: calls `whoami` again with the current access token (after its
 *   lifetime, flowgate's bearer guard answers 401).
 *
 * Tokens stay in this process's memory; pages show only their length and first characters.
 *
 * @module
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { randomToken, sha256Base64Url } from '../../crypto/random.js';
import type { Flowgate } from '../../flowgate.js';
import { s256Challenge } from '../../oauth/pkce.js';
import { findCodeByHash } from '../../projections/client-codes.js';
import type { ExtraRoute } from '../../server/serve.js';
import type { DemoSdk } from './dependencies.js';
import { htmlResponse, seeOther } from './html.js';
import { MCP_SCOPE, type WhoamiAnswer } from './mcp-server.js';
import { deniedPage, errorPage, resultPage, startPage, type DemoInfo, type FlowStep, type TokenSnapshot, type WhoamiOutcome } from './pages.js';
import { readTimeline } from './timeline.js';

/** The demo client's session cookie (path-scoped to /demo; flowgate's and the IdP's cookies have other names). */
export const DEMO_COOKIE = 'flowgate_demo';
const SESSION_TTL_MS = 60 * 60 * 1000;
const MAX_SESSIONS = 1000;
const MAX_PENDING = 5;
const PENDING_TTL_MS = 15 * 60 * 1000;

interface Registration {
  readonly clientId: string;
  readonly clientSecret: string;
}

interface Pending {
  readonly verifier: string;
  readonly createdAt: number;
}

interface Outcome {
  readonly clientId: string;
  readonly flowId: string;
  readonly grantId: string;
  readonly steps: FlowStep[];
  newAfterGrantVersion?: number;
  accessToken: string | null;
  refreshToken: string | null;
}

interface Session {
  readonly id: string;
  lastSeen: number;
  readonly pending: Map<string, Pending>;
  outcome?: Outcome;
}

/** What the demo client needs. */
export interface DemoClientOptions {
  readonly info: DemoInfo;
  readonly sdk: DemoSdk;
  readonly flowgate: () => Flowgate | undefined;
  /** Milliseconds since the epoch. */
  readonly clock?: () => number;
}

interface TokenResponse {
  access_token?: string;
  token_type?: string;
  expires_in?: number;
  refresh_token?: string;
  scope?: string;
  error?: string;
  error_description?: string;
}

function previewOf(secret: string): { length: number; prefix: string } {
  return { length: secret.length, prefix: secret.slice(0, 8) };
}

function snapshotOf(body: TokenResponse): TokenSnapshot {
  const access = body.access_token ?? '';
  let header: Record<string, unknown> = {};
  let claims: Record<string, unknown> = {};
  try {
    header = { ...decodeProtectedHeader(access) };
    claims = { ...decodeJwt(access) };
  } catch {
    // not a JWT: shown without its content
  }
  return {
    tokenType: body.token_type ?? '?',
    expiresIn: typeof body.expires_in === 'number' ? body.expires_in : null,
    scope: body.scope ?? null,
    accessToken: previewOf(access),
    refreshToken: body.refresh_token ? previewOf(body.refresh_token) : null,
    header,
    claims,
  };
}

function cookieOf(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function describeError(error: unknown): string {
  const e = error as { message?: unknown; code?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(error);
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}

/** The start page, the demo client's routes, and nothing else. */
export class DemoClient {
  readonly #options: DemoClientOptions;
  readonly #info: DemoInfo;
  readonly #origin: URL;
  readonly #clock: () => number;
  readonly #sessions = new Map<string, Session>();
  #registration: Promise<Registration> | undefined;

  constructor(options: DemoClientOptions) {
    this.#options = options;
    this.#info = options.info;
    this.#origin = new URL(options.info.url);
    this.#clock = options.clock ?? Date.now;
  }

  /** The redirect URI the demo client registers. */
  get redirectUri(): string {
    return `${this.#info.url}/demo/callback`;
  }

  /** The route for `startServer`'s `routes`. */
  readonly route: ExtraRoute = (request, url) => {
    if (url.pathname !== '/' && url.pathname !== '/demo' && !url.pathname.startsWith('/demo/')) return undefined;
    return this.#handle(request, url);
  };

  async #handle(request: Request, url: URL): Promise<Response> {
    // One host for the whole flow: cookies of localhost and 127.0.0.1 are different jars.
    if (url.host !== this.#origin.host) {
      return seeOther(request.method === 'GET' || request.method === 'HEAD' ? `${this.#info.url}${url.pathname}${url.search}` : `${this.#info.url}/`);
    }
    const method = request.method;
    const route = `${method} ${url.pathname}`;
    try {
      switch (route) {
        case 'GET /':
        case 'HEAD /':
          return htmlResponse(startPage(this.#info));
        case 'POST /demo/start':
          return this.#refuseCrossSite(request) ?? (await this.#start(request));
        case 'GET /demo/callback':
          return await this.#callback(request, url);
        case 'GET /demo/result':
          return await this.#result(request);
        case 'POST /demo/refresh':
          return this.#refuseCrossSite(request) ?? (await this.#refresh(request));
        case 'POST /demo/call':
          return this.#refuseCrossSite(request) ?? (await this.#call(request));
        case 'GET /demo':
        case 'GET /demo/start':
          return seeOther('/');
        case 'GET /demo/refresh':
        case 'GET /demo/call':
          return seeOther('/demo/result');
        default:
          if (url.pathname === '/') return new Response(null, { status: 405, headers: { Allow: 'GET, HEAD' } });
          return htmlResponse(errorPage('Not found', `There is no demo page at ${url.pathname}.`), 404);
      }
    } catch (error) {
      return htmlResponse(errorPage('Something went wrong', describeError(error)), 500);
    }
  }

  /** Forms are only accepted from the demo's own pages (SameSite=Lax covers the cookie; this covers /demo/start). */
  #refuseCrossSite(request: Request): Response | undefined {
    const site = request.headers.get('sec-fetch-site');
    const origin = request.headers.get('origin');
    const foreignOrigin = origin !== null && origin !== 'null' && origin !== this.#origin.origin;
    if ((site !== null && site !== 'same-origin' && site !== 'none') || foreignOrigin) {
      return htmlResponse(errorPage('Refused', 'This form must be submitted from the demo\'s own pages.'), 403);
    }
    return undefined;
  }

  #flowgate(): Flowgate {
    const flowgate = this.#options.flowgate();
    if (!flowgate) throw new Error('the demo is still starting; try again in a moment');
    return flowgate;
  }

  #session(request: Request): Session | undefined {
    const now = this.#clock();
    for (const [id, s] of this.#sessions) if (now - s.lastSeen > SESSION_TTL_MS) this.#sessions.delete(id);
    const id = cookieOf(request, DEMO_COOKIE);
    const session = id === undefined ? undefined : this.#sessions.get(id);
    if (session) session.lastSeen = now;
    return session;
  }

  #newSession(): Session {
    while (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    const session: Session = { id: randomToken(24), lastSeen: this.#clock(), pending: new Map() };
    this.#sessions.set(session.id, session);
    return session;
  }

  #cookie(session: Session): Record<string, string> {
    return { 'Set-Cookie': `${DEMO_COOKIE}=${session.id}; Path=/demo; HttpOnly; SameSite=Lax; Max-Age=${SESSION_TTL_MS / 1000}` };
  }

  /** Registers the demo client at flowgate's `/register` once per process (retried after a failure). */
  #register(): Promise<Registration> {
    this.#registration ??= (async () => {
      const response = await fetch(`${this.#info.url}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({
          client_name: 'flowgate demo client',
          redirect_uris: [this.redirectUri],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
          scope: MCP_SCOPE,
        }),
      });
      const body = (await response.json().catch(() => ({}))) as { client_id?: string; client_secret?: string; error?: string; error_description?: string };
      if (response.status !== 201 || !body.client_id || !body.client_secret) {
        throw new Error(`registration at /register failed: HTTP ${response.status} ${body.error ?? ''} ${body.error_description ?? ''}`.trim());
      }
      return { clientId: body.client_id, clientSecret: body.client_secret };
    })();
    this.#registration.catch(() => {
      this.#registration = undefined;
    });
    return this.#registration;
  }

  async #start(request: Request): Promise<Response> {
    const registration = await this.#register();
    const session = this.#session(request) ?? this.#newSession();
    const now = this.#clock();
    for (const [state, p] of session.pending) if (now - p.createdAt > PENDING_TTL_MS) session.pending.delete(state);
    while (session.pending.size >= MAX_PENDING) session.pending.delete(session.pending.keys().next().value!);
    const state = randomToken(16);
    const verifier = randomToken(32);
    session.pending.set(state, { verifier, createdAt: now });
    const authorize = new URL(`${this.#info.url}/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: registration.clientId,
      redirect_uri: this.redirectUri,
      scope: MCP_SCOPE,
      state,
      code_challenge: s256Challenge(verifier),
      code_challenge_method: 'S256',
      resource: this.#info.mcpUrl,
    }).toString();
    return seeOther(authorize.href, this.#cookie(session));
  }

  async #token(registration: Registration, form: Record<string, string>): Promise<{ ok: boolean; body: TokenResponse; status: number }> {
    const basic = Buffer.from(`${encodeURIComponent(registration.clientId)}:${encodeURIComponent(registration.clientSecret)}`).toString('base64');
    const response = await fetch(`${this.#info.url}/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({ ...form, resource: this.#info.mcpUrl }),
    });
    const body = (await response.json().catch(() => ({}))) as TokenResponse;
    return { ok: response.ok && typeof body.access_token === 'string', body, status: response.status };
  }

  /** `tools/call whoami` through `/mcp` with the MCP SDK client and this access token. */
  async #whoami(accessToken: string): Promise<WhoamiOutcome> {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    const { Client, StreamableHTTPClientTransport } = this.#options.sdk;
    const client = new Client({ name: 'flowgate-demo-client', version: this.#info.version });
    const transport = new StreamableHTTPClientTransport(new URL(this.#info.mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${accessToken}` } },
    });
    try {
      await client.connect(transport);
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      const content = result.content as Array<{ type: string; text?: string }> | undefined;
      const text = content?.find((c) => c.type === 'text')?.text;
      if (result.isError || text === undefined) return { ok: false, error: text ?? 'the tool returned no text', ms: ms() };
      return { ok: true, answer: JSON.parse(text) as WhoamiAnswer, ms: ms() };
    } catch (error) {
      return { ok: false, error: describeError(error), ms: ms() };
    } finally {
      await client.close().catch(() => {});
    }
  }

  async #callback(request: Request, url: URL): Promise<Response> {
    const params = url.searchParams;
    const session = this.#session(request);
    const state = params.get('state');
    const pending = session && state !== null ? session.pending.get(state) : undefined;
    if (!session || state === null || !pending) {
      return htmlResponse(
        errorPage(
          'Unknown flow',
          'This callback does not belong to a flow started in this browser (its state is unknown, or the demo restarted). A real client refuses it the same way: the state check is its CSRF protection.',
        ),
        400,
      );
    }
    session.pending.delete(state);
    const error = params.get('error');
    if (error === 'access_denied') return htmlResponse(deniedPage(params.get('error_description')));
    if (error !== null) {
      return htmlResponse(errorPage('The authorization failed', 'flowgate redirected back with an error.', { error, error_description: params.get('error_description') }), 400);
    }
    const iss = params.get('iss');
    if (iss !== null && iss !== this.#info.url) {
      return htmlResponse(errorPage('Wrong issuer', 'The authorization response names another issuer (RFC 9207); the code is not used.', { iss }), 400);
    }
    const code = params.get('code');
    if (!code) return htmlResponse(errorPage('No code', 'The authorization response carries neither a code nor an error.'), 400);

    const registration = await this.#register();
    const at = this.#clock();
    const exchange = await this.#token(registration, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.redirectUri,
      code_verifier: pending.verifier,
    });
    if (!exchange.ok) {
      return htmlResponse(
        errorPage('The code exchange failed', `POST /token answered ${exchange.status}.`, { error: exchange.body.error, error_description: exchange.body.error_description }),
        502,
      );
    }
    const flowgate = this.#flowgate();
    const issued = await findCodeByHash(flowgate.store.db, sha256Base64Url(code));
    if (!issued) throw new Error('the redeemed code is not in the client_codes view');
    const whoami = await this.#whoami(exchange.body.access_token!);
    session.outcome = {
      clientId: registration.clientId,
      flowId: issued.flowId,
      grantId: issued.grantId,
      steps: [{ kind: 'authorization_code', at, tokens: snapshotOf(exchange.body), tokenError: null, whoami }],
      accessToken: exchange.body.access_token!,
      refreshToken: exchange.body.refresh_token ?? null,
    };
    return seeOther('/demo/result');
  }

  async #result(request: Request): Promise<Response> {
    const outcome = this.#session(request)?.outcome;
    if (!outcome) return seeOther('/');
    const store = this.#flowgate().store;
    const [flow, grant] = await Promise.all([readTimeline(store, `flow:${outcome.flowId}`), readTimeline(store, `grant:${outcome.grantId}`)]);
    return htmlResponse(
      resultPage({
        info: this.#info,
        clientId: outcome.clientId,
        flowId: outcome.flowId,
        grantId: outcome.grantId,
        steps: outcome.steps,
        flow,
        grant,
        ...(outcome.newAfterGrantVersion === undefined ? {} : { newAfterGrantVersion: outcome.newAfterGrantVersion }),
        canRefresh: outcome.refreshToken !== null,
        canCall: outcome.accessToken !== null,
      }),
    );
  }

  async #refresh(request: Request): Promise<Response> {
    const outcome = this.#session(request)?.outcome;
    if (!outcome) return seeOther('/');
    if (outcome.refreshToken === null) return seeOther('/demo/result');
    const registration = await this.#register();
    const before = await this.#flowgate().store.streamVersion(`grant:${outcome.grantId}`);
    const at = this.#clock();
    const refreshed = await this.#token(registration, { grant_type: 'refresh_token', refresh_token: outcome.refreshToken });
    let step: FlowStep;
    if (refreshed.ok) {
      outcome.refreshToken = refreshed.body.refresh_token ?? outcome.refreshToken;
      outcome.accessToken = refreshed.body.access_token!;
      step = { kind: 'refresh_token', at, tokens: snapshotOf(refreshed.body), tokenError: null, whoami: await this.#whoami(refreshed.body.access_token!) };
    } else {
      if (refreshed.body.error === 'invalid_grant') outcome.refreshToken = null;
      const why = [refreshed.body.error, refreshed.body.error_description].filter(Boolean).join(': ');
      step = { kind: 'refresh_token', at, tokens: null, tokenError: `POST /token answered ${refreshed.status} ${why}`, whoami: null };
    }
    this.#record(outcome, step, before);
    return seeOther('/demo/result');
  }

  /** `whoami` again with the current access token (after its lifetime: flowgate's 401). */
  async #call(request: Request): Promise<Response> {
    const outcome = this.#session(request)?.outcome;
    if (!outcome) return seeOther('/');
    if (outcome.accessToken === null) return seeOther('/demo/result');
    const before = await this.#flowgate().store.streamVersion(`grant:${outcome.grantId}`);
    const at = this.#clock();
    this.#record(outcome, { kind: 'call', at, tokens: null, tokenError: null, whoami: await this.#whoami(outcome.accessToken) }, before);
    return seeOther('/demo/result');
  }

  #record(outcome: Outcome, step: FlowStep, grantVersionBefore: number): void {
    outcome.steps.push(step);
    if (outcome.steps.length > 50) outcome.steps.splice(1, outcome.steps.length - 50);
    outcome.newAfterGrantVersion = grantVersionBefore;
  }

  /** Forgets every session (at shutdown). */
  clear(): void {
    this.#sessions.clear();
  }
}

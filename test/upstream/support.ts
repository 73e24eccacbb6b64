/**
 * Helpers for the upstream client's tests: a client configured for the loopback IdP, a
 * real browser sign-in that stops at flowgate's callback, and a recording `fetch`.
 */
import { expect } from 'vitest';
import type { UpstreamConfigInput } from '../../src/config/schema.js';
import { randomToken } from '../../src/crypto/random.js';
import type { UpstreamIdp } from '../../src/demo/upstream-idp.js';
import { s256Challenge } from '../../src/oauth/pkce.js';
import { createUpstreamClient, UpstreamError, type UpstreamClient, type UpstreamClientOptions } from '../../src/upstream/index.js';
import { HeadlessBrowser } from '../support/browser.js';
import { TEST_REDIRECT_URI } from '../support/idp.js';

export { TEST_REDIRECT_URI };

/** The path of TEST_REDIRECT_URI, as `upstream.redirectPath`. */
export const REDIRECT_PATH = new URL(TEST_REDIRECT_URI).pathname;

/** The IdP's static clients (see test/support/idp.ts `testClients`). */
export const CLIENTS = {
  basic: { clientId: 'test-client', clientSecret: 'test-secret', clientAuthMethod: 'client_secret_basic' },
  post: { clientId: 'gh-client', clientSecret: 'gh-secret', clientAuthMethod: 'client_secret_post' },
  none: { clientId: 'public-client', clientAuthMethod: 'none' },
} as const satisfies Record<string, Partial<UpstreamConfigInput>>;

/** An `oidc` upstream section for the IdP. */
export function oidcConfig(idp: UpstreamIdp, overrides: Partial<UpstreamConfigInput> = {}): UpstreamConfigInput {
  const credentials = overrides.clientId === undefined ? CLIENTS.basic : {};
  return { kind: 'oidc', issuer: idp.issuer, ...credentials, redirectPath: REDIRECT_PATH, ...overrides } as UpstreamConfigInput;
}

/** An `oauth2` (GitHub-like) upstream section for an IdP in `github` mode. */
export function githubConfig(idp: UpstreamIdp, overrides: Partial<UpstreamConfigInput> = {}): UpstreamConfigInput {
  return {
    kind: 'oauth2',
    authorizationEndpoint: idp.endpoints.authorization,
    tokenEndpoint: idp.endpoints.token,
    userinfoEndpoint: idp.endpoints.user!,
    emailsEndpoint: idp.endpoints.userEmails!,
    ...(overrides.clientId === undefined ? CLIENTS.post : {}),
    scopes: ['repo', 'read:user', 'user:email'],
    redirectPath: REDIRECT_PATH,
    ...overrides,
  } as UpstreamConfigInput;
}

/** One request seen by {@link recordingFetch}. */
export interface RecordedRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: string;
}

/** Rewrites a response before the client sees it (return it unchanged to pass through). */
export type ResponseRewrite = (request: RecordedRequest, response: Response) => Response | Promise<Response>;

/** A `fetch` that records every request and may rewrite responses. */
export function recordingFetch(rewrite?: ResponseRewrite): { fetch: typeof fetch; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const wrapped = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    const body = init?.body === undefined || init.body === null ? '' : String(init.body);
    const request: RecordedRequest = { url, method: init?.method ?? 'GET', headers: new Headers(init?.headers), body };
    requests.push(request);
    const response = await fetch(input, init);
    return rewrite ? rewrite(request, response) : response;
  }) as typeof fetch;
  return { fetch: wrapped, requests };
}

/** A JSON response. */
export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** What a browser sign-in at the upstream produced, and the flow's secrets. */
export interface UpstreamSignInAttempt {
  readonly callbackUrl: URL;
  readonly state: string;
  readonly codeVerifier: string;
  readonly nonce: string;
  readonly authorizationUrl: URL;
}

/**
 * Sends a real browser through `upstream.authorizationUrl(...)` and the IdP's login form,
 * stopping at flowgate's callback (nothing listens there).
 */
export async function signInAtUpstream(
  upstream: UpstreamClient,
  options: { user?: string; button?: 'Sign in' | 'Cancel'; scopes?: readonly string[] } = {},
): Promise<UpstreamSignInAttempt> {
  const state = randomToken(32);
  const codeVerifier = randomToken(32);
  const nonce = randomToken(24);
  const user = options.user ?? 'alice';
  const authorizationUrl = await upstream.authorizationUrl({
    state,
    codeChallenge: s256Challenge(codeVerifier),
    nonce,
    redirectUri: TEST_REDIRECT_URI,
    ...(options.scopes ? { scopes: options.scopes } : {}),
  });
  const result = await new HeadlessBrowser().navigate(authorizationUrl, {
    stopAt: TEST_REDIRECT_URI,
    fields: { username: user, password: user },
    button: options.button ?? 'Sign in',
  });
  expect(result.reason, `the sign-in did not reach the callback: ${result.status} ${result.body.slice(0, 300)}`).toBe('stopAt');
  return { callbackUrl: result.stoppedAt!, state, codeVerifier, nonce, authorizationUrl };
}

/** Signs in and exchanges the code with the same client. */
export async function signInAndExchange(upstream: UpstreamClient, options: Parameters<typeof signInAtUpstream>[1] = {}) {
  const attempt = await signInAtUpstream(upstream, options);
  const signIn = await upstream.exchangeCode({
    callbackUrl: attempt.callbackUrl,
    expectedState: attempt.state,
    codeVerifier: attempt.codeVerifier,
    nonce: attempt.nonce,
    redirectUri: TEST_REDIRECT_URI,
  });
  return { attempt, signIn };
}

/** The exchange parameters of an attempt. */
export function exchangeParams(attempt: UpstreamSignInAttempt) {
  return {
    callbackUrl: attempt.callbackUrl,
    expectedState: attempt.state,
    codeVerifier: attempt.codeVerifier,
    nonce: attempt.nonce,
    redirectUri: TEST_REDIRECT_URI,
  };
}

/** Awaits a rejection that must be an {@link UpstreamError}. */
export async function upstreamFailure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected the upstream call to fail').toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

/** A client for the IdP (shorthand). */
export function client(config: UpstreamConfigInput, options?: UpstreamClientOptions): UpstreamClient {
  return createUpstreamClient(config, options);
}

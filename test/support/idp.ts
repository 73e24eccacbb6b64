/**
 * Test helpers around the loopback upstream IdP (`src/demo/upstream-idp.ts`): start one
 * with automatic cleanup, PKCE, client authentication and token-endpoint calls.
 */
import { afterAll, onTestFinished } from 'vitest';
import { randomToken, sha256Base64Url } from '../../src/crypto/random.js';
import {
  startUpstreamIdp,
  type UpstreamIdp,
  type UpstreamIdpClient,
  type UpstreamIdpOptions,
} from '../../src/demo/upstream-idp.js';

const open = new Set<UpstreamIdp>();

// IdPs started outside a test (in beforeAll, or at collection time) close with the file.
// Outside a vitest run (a bench script importing the helpers) there is no suite: skip.
try {
  afterAll(async () => {
    await Promise.all([...open].map((idp) => idp.close()));
    open.clear();
  });
} catch {
  // not collected by vitest
}

/**
 * Starts an upstream IdP that closes by itself: at the end of the current test when called
 * inside one, otherwise after the test file.
 */
export async function withIdp(options: UpstreamIdpOptions): Promise<UpstreamIdp> {
  const idp = await startUpstreamIdp(options);
  try {
    onTestFinished(async () => {
      await idp.close();
    });
  } catch {
    open.add(idp);
  }
  return idp;
}

/** A redirect URI nothing listens on (loopback: the IdP's native clients accept any port). */
export const TEST_REDIRECT_URI = 'http://127.0.0.1:9/callback';

/** The clients most tests need: confidential (basic), confidential (post), public. */
export function testClients(redirectUri: string = TEST_REDIRECT_URI): UpstreamIdpClient[] {
  return [
    { client_id: 'test-client', client_secret: 'test-secret', redirect_uris: [redirectUri] },
    {
      client_id: 'gh-client',
      client_secret: 'gh-secret',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'client_secret_post',
    },
    { client_id: 'public-client', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' },
  ];
}

/** A PKCE S256 pair (RFC 7636). */
export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
  readonly method: 'S256';
}

/** A fresh PKCE S256 pair: 43-character verifier, base64url SHA-256 challenge. */
export function pkcePair(): Pkce {
  const verifier = randomToken(32);
  return { verifier, challenge: sha256Base64Url(verifier), method: 'S256' };
}

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 §2.3.1, Appendix B). */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/** `Basic …` for client_secret_basic: id and secret are form-encoded before base64. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;
}

/** How a test client authenticates at the token, introspection and revocation endpoints. */
export interface TestClientAuth {
  readonly client_id: string;
  readonly client_secret?: string;
  readonly method: 'client_secret_basic' | 'client_secret_post' | 'none';
}

/** A JSON response of an OAuth endpoint. */
export interface OAuthResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly json: T;
}

/** POSTs urlencoded `params` to an OAuth endpoint with client authentication. */
export async function clientPost<T = Record<string, unknown>>(
  url: string,
  params: Readonly<Record<string, string>>,
  client: TestClientAuth,
  init: { signal?: AbortSignal } = {},
): Promise<OAuthResponse<T>> {
  const body = new URLSearchParams(params);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (client.method === 'client_secret_basic') {
    headers.authorization = basicAuthorization(client.client_id, client.client_secret ?? '');
  } else {
    body.set('client_id', client.client_id);
    if (client.method === 'client_secret_post') body.set('client_secret', client.client_secret ?? '');
  }
  const response = await fetch(url, { method: 'POST', headers, body, ...init });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: response.status, headers: response.headers, json: json as T };
}

/** Parameters of {@link authorizationUrl} (PKCE S256 is always used). */
export interface AuthorizationRequest {
  readonly client_id: string;
  readonly redirect_uri?: string;
  readonly scope: string;
  readonly pkce: Pkce;
  readonly state?: string;
  readonly nonce?: string;
  readonly extra?: Readonly<Record<string, string>>;
}

/** The IdP's `/auth` URL for an authorization-code request. */
export function authorizationUrl(idp: Pick<UpstreamIdp, 'endpoints'>, request: AuthorizationRequest): URL {
  const url = new URL(idp.endpoints.authorization);
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: request.client_id,
    redirect_uri: request.redirect_uri ?? TEST_REDIRECT_URI,
    scope: request.scope,
    code_challenge: request.pkce.challenge,
    code_challenge_method: request.pkce.method,
    ...(request.state === undefined ? {} : { state: request.state }),
    ...(request.nonce === undefined ? {} : { nonce: request.nonce }),
    ...request.extra,
  };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url;
}

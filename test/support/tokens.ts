/** Getting flowgate tokens through the whole flow, and calling the token-side endpoints. */
import { authorizationRequest, authorizeInBrowser, exchangeCode, HeadlessBrowser, registerClient, type TestClient, type TestProxy } from './proxy.js';

/** A client with flowgate tokens. */
export interface ClientTokens {
  readonly client: TestClient;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly body: Record<string, any>;
}

/** Registers a client (unless given) and runs a full authorization for it. */
export async function tokensFor(proxy: TestProxy, options: { client?: TestClient; user?: string; extra?: Record<string, string> } = {}): Promise<ClientTokens> {
  const client = options.client ?? (await registerClient(proxy));
  const request = authorizationRequest(proxy, client, options.extra);
  const result = await authorizeInBrowser(new HeadlessBrowser(), client, request, options.user ? { user: options.user } : {});
  const code = result.stoppedAt?.searchParams.get('code');
  if (!code) throw new Error(`no code: ${JSON.stringify(result.trace)}`);
  const exchanged = await exchangeCode(proxy, client, code, request.verifier);
  if (exchanged.status !== 200) throw new Error(`token exchange failed: ${JSON.stringify(exchanged.body)}`);
  return { client, accessToken: exchanged.body.access_token, refreshToken: exchanged.body.refresh_token, body: exchanged.body };
}

/** POSTs a form to a flowgate endpoint. */
export async function postForm(
  proxy: TestProxy,
  path: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, any>; headers: Headers }> {
  const response = await fetch(`${proxy.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : {}, headers: response.headers };
}

/** Uses a refresh token. */
export function refresh(proxy: TestProxy, client: TestClient, refreshToken: string, extra: Record<string, string> = {}) {
  return postForm(proxy, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.clientId, ...extra });
}

/** HTTP Basic credentials. */
export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

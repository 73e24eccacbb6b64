/**
 * Error mapping against the real IdP with injected token-endpoint faults: definitive
 * rejections end a grant, transient failures do not, and the MCP client's error never
 * carries the upstream's text (fastmcp maps everything to invalid_grant and leaks the
 * description, its #5002).
 *
 * Protection checks, each tried once and then restored: with the upstream's
 * `error_description` passed into `UpstreamError.detail` (src/upstream/classify.ts), the
 * "no upstream text" assertions fail; with `reasonForStatus` answering `invalid_grant` for
 * everything (fastmcp's behaviour), the transient cases fail. With `invalid_client` during a
 * refresh made definitive again (`defaultKind` in src/upstream/upstream-error.ts), the
 * "flowgate's own credentials" case fails: the client would get `invalid_grant`.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TokenFault, UpstreamIdp } from '../../src/demo/upstream-idp.js';
import type { OAuthError } from '../../src/oauth/errors.js';
import { clientErrorForAuthorizationError, type UpstreamClient, type UpstreamError } from '../../src/upstream/index.js';
import { testClients, withIdp } from '../support/idp.js';
import { client, exchangeParams, oidcConfig, signInAndExchange, signInAtUpstream, upstreamFailure } from './support.js';

const SECRET = 'SECRET-UPSTREAM-DETAIL';

/** Nothing the MCP client or the logs get may repeat the upstream's description. */
function expectNoUpstreamText(error: UpstreamError, clientError: OAuthError): void {
  const everything = [
    JSON.stringify(clientError),
    JSON.stringify(clientError.toJSON()),
    clientError.message,
    clientError.description,
    clientError.detail ?? '',
    error.message,
    error.detail,
    String(error),
    JSON.stringify(error),
  ].join('\n');
  expect(everything).not.toContain(SECRET);
  expect(Object.keys(clientError.toJSON()).sort()).toEqual(['error', 'error_description']);
}

describe('upstream error mapping', () => {
  let idp: UpstreamIdp;
  let upstream: UpstreamClient;
  let tokenSet: Awaited<ReturnType<typeof signInAndExchange>>['signIn']['tokenSet'];

  beforeAll(async () => {
    idp = await withIdp({ clients: testClients(), rotateRefreshToken: false });
    upstream = client(oidcConfig(idp, { timeoutMs: 300 }));
    tokenSet = (await signInAndExchange(upstream)).signIn.tokenSet;
  });

  afterEach(() => idp.setTokenFault(null));

  async function refreshWith(fault: TokenFault): Promise<{ error: UpstreamError; clientError: OAuthError }> {
    idp.setTokenFault({ grantType: 'refresh_token', ...fault });
    const error = await upstreamFailure(upstream.refresh(tokenSet));
    const clientError = error.toClientError();
    expectNoUpstreamText(error, clientError);
    return { error, clientError };
  }

  it.each([
    ['invalid_grant', 400, 'invalid_grant'],
    ['invalid_scope', 400, 'request_refused'],
  ] as const)('refresh: %s (%i) is definitive → invalid_grant', async (code, status, reason) => {
    const { error, clientError } = await refreshWith({ kind: 'error', status, error: code, error_description: SECRET });
    expect(error).toMatchObject({ kind: 'definitive', reason, operation: 'refresh', status, upstreamError: code });
    expect(clientError.code).toBe('invalid_grant');
  });

  it.each([
    ['invalid_client', 401],
    ['unauthorized_client', 400],
  ] as const)("refresh: %s (%i) refuses flowgate's own credentials, not the grant → temporarily_unavailable", async (code, status) => {
    const { error, clientError } = await refreshWith({ kind: 'error', status, error: code, error_description: SECRET });
    expect(error).toMatchObject({ kind: 'transient', reason: 'invalid_client', operation: 'refresh', status, upstreamError: code });
    expect(clientError.code).toBe('temporarily_unavailable');
  });

  it.each([
    ['temporarily_unavailable', 503, 'unavailable'],
    ['server_error', 500, 'unavailable'],
    ['temporarily_unavailable', 400, 'unavailable'], // the code says "not now" even with a 400
    ['slow_down', 429, 'rate_limited'],
    ['invalid_grant', 502, 'unavailable'], // a 5xx is never a verdict on the grant
  ] as const)('refresh: %s (%i) is transient → temporarily_unavailable', async (code, status, reason) => {
    const { error, clientError } = await refreshWith({ kind: 'error', status, error: code, error_description: SECRET });
    expect(error).toMatchObject({ kind: 'transient', reason, operation: 'refresh', status });
    expect(error.transient).toBe(true);
    expect(clientError.code).toBe('temporarily_unavailable');
    expect(clientError.status).toBe(503);
  });

  it('refresh: a dropped connection is transient', async () => {
    const { error, clientError } = await refreshWith({ kind: 'drop' });
    expect(error).toMatchObject({ kind: 'transient', reason: 'network' });
    expect(clientError.code).toBe('temporarily_unavailable');
  });

  it('refresh: no answer within timeoutMs is transient, and the call gives up on time', async () => {
    const started = performance.now();
    const { error, clientError } = await refreshWith({ kind: 'delay', ms: 2000 });
    expect(performance.now() - started).toBeLessThan(1500);
    expect(error).toMatchObject({ kind: 'transient', reason: 'timeout' });
    expect(clientError.code).toBe('temporarily_unavailable');
  });

  it('refresh: the grant survives transient failures', async () => {
    idp.setTokenFault({ kind: 'error', status: 503, error: 'temporarily_unavailable', grantType: 'refresh_token', times: 1 });
    await upstreamFailure(upstream.refresh(tokenSet));
    const refreshed = await upstream.refresh(tokenSet);
    expect(refreshed.refreshable).toBe(true);
  });

  it.each([
    [{ kind: 'error', status: 400, error: 'invalid_grant', error_description: SECRET }, 'definitive', 'access_denied'],
    [{ kind: 'error', status: 401, error: 'invalid_client', error_description: SECRET }, 'definitive', 'server_error'],
    [{ kind: 'error', status: 400, error: 'unsupported_grant_type', error_description: SECRET }, 'definitive', 'server_error'],
    [{ kind: 'error', status: 503, error: 'temporarily_unavailable', error_description: SECRET }, 'transient', 'temporarily_unavailable'],
    [{ kind: 'drop' }, 'transient', 'temporarily_unavailable'],
    [{ kind: 'delay', ms: 2000 }, 'transient', 'temporarily_unavailable'],
  ] as const)('code exchange: %j is %s → %s', async (fault, kind, code) => {
    const attempt = await signInAtUpstream(upstream);
    idp.setTokenFault({ grantType: 'authorization_code', ...fault } as TokenFault);
    const error = await upstreamFailure(upstream.exchangeCode(exchangeParams(attempt)));
    expect(error).toMatchObject({ kind, operation: 'exchange' });
    const clientError = error.toClientError();
    expect(clientError.code).toBe(code);
    expectNoUpstreamText(error, clientError);
  });

  it('a 5xx HTML page from the token endpoint is transient', async () => {
    const html = client(oidcConfig(idp), {
      fetch: (async (input: string | URL | Request, init?: RequestInit) =>
        String(input) === idp.endpoints.token
          ? new Response(`<h1>${SECRET}</h1>`, { status: 502, headers: { 'content-type': 'text/html' } })
          : fetch(input, init)) as typeof fetch,
    });
    const error = await upstreamFailure(html.refresh(tokenSet));
    expect(error).toMatchObject({ kind: 'transient', reason: 'unavailable', status: 502 });
    expectNoUpstreamText(error, error.toClientError());
  });

  it('an unreachable upstream is transient at discovery, and discovery is retried afterwards', async () => {
    let down = true;
    const flaky = client(oidcConfig(idp), {
      fetch: (async (input: string | URL | Request, init?: RequestInit) => {
        if (down) throw new TypeError('fetch failed');
        return fetch(input, init);
      }) as typeof fetch,
    });
    const error = await upstreamFailure(flaky.metadata());
    expect(error).toMatchObject({ kind: 'transient', reason: 'network', operation: 'discovery' });
    expect(error.toClientError().code).toBe('temporarily_unavailable');
    down = false;
    expect((await flaky.metadata()).issuer).toBe(idp.issuer);
  });

  it('an upstream authorization error: access_denied stays access_denied, without the upstream text', async () => {
    const attempt = await signInAtUpstream(upstream, { button: 'Cancel' });
    expect(attempt.callbackUrl.searchParams.get('error')).toBe('access_denied');
    expect(attempt.callbackUrl.searchParams.get('error_description')).toBeTruthy();
    const error = await upstreamFailure(upstream.exchangeCode(exchangeParams(attempt)));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'authorization_error', operation: 'authorization', upstreamError: 'access_denied' });
    const clientError = error.toClientError();
    expect(clientError.code).toBe('access_denied');
    expect(JSON.stringify(clientError)).not.toContain(attempt.callbackUrl.searchParams.get('error_description')!);
  });

  it('an upstream authorization error with a forged state is a state mismatch, not an error to forward', async () => {
    const attempt = await signInAtUpstream(upstream, { button: 'Cancel' });
    const error = await upstreamFailure(upstream.exchangeCode({ ...exchangeParams(attempt), expectedState: 'another-state' }));
    expect(error.reason).toBe('state_mismatch');
  });

  it.each([
    ['access_denied', 'access_denied'],
    ['login_required', 'access_denied'],
    ['consent_required', 'access_denied'],
    ['temporarily_unavailable', 'temporarily_unavailable'],
    ['server_error', 'temporarily_unavailable'],
    ['invalid_scope', 'server_error'],
    ['unauthorized_client', 'server_error'],
    ['something_new', 'server_error'],
    [undefined, 'server_error'],
  ])('authorization error %s → %s', (upstreamCode, expected) => {
    const clientError = clientErrorForAuthorizationError(upstreamCode);
    expect(clientError.code).toBe(expected);
    expect(clientError.description).not.toContain(String(upstreamCode));
  });

  it('a hostile callback error code is reduced to a token before it is kept', async () => {
    const attempt = await signInAtUpstream(upstream);
    const callback = new URL(attempt.callbackUrl);
    callback.searchParams.delete('code');
    callback.searchParams.set('error', `access_denied\n${SECRET}<script>`);
    callback.searchParams.set('error_description', SECRET);
    const error = await upstreamFailure(upstream.exchangeCode({ ...exchangeParams(attempt), callbackUrl: callback }));
    expect(error.upstreamError).toBe('access_denied');
    expectNoUpstreamText(error, error.toClientError());
  });
});

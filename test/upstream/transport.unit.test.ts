/**
 * The customFetch wrapper: timeouts, transport failures as transient errors, the body cap,
 * and GitHub's token endpoint quirks (form-encoded bodies, errors with status 200).
 */
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, upstreamFetch } from '../../src/upstream/transport.js';
import { UpstreamError, type UpstreamOperation } from '../../src/upstream/index.js';

const INIT = { body: undefined, headers: { accept: 'application/json', 'User-Agent': 'oauth4webapi/v3' }, method: 'GET', redirect: 'manual' as const };

function wrap(fake: (url: string, init: RequestInit) => Promise<Response>, operation: UpstreamOperation = 'exchange', timeoutMs = 200) {
  return upstreamFetch({ fetch: fake as typeof fetch, timeoutMs, operation });
}

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe('upstream transport', () => {
  it("sends flowgate's User-Agent and an abort signal", async () => {
    let seen: RequestInit | undefined;
    await wrap(async (_url, init) => ((seen = init), new Response('{}', { headers: { 'content-type': 'application/json' } })))('https://idp.example', INIT);
    expect(seen!.headers).toEqual({ accept: 'application/json', 'user-agent': 'flowgate' });
    expect(seen!.signal).toBeInstanceOf(AbortSignal);
  });

  it('turns a form-encoded token response into JSON', async () => {
    const response = await wrap(async () =>
      new Response('access_token=gho_x&scope=repo%2Cuser&token_type=bearer', { headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } }),
    )('https://github.com/login/oauth/access_token', INIT);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ access_token: 'gho_x', scope: 'repo,user', token_type: 'bearer' });
  });

  it('turns an error answered with 200 into a 400 at the token endpoint only', async () => {
    const githubError = async () => new Response('{"error":"bad_verification_code"}', { headers: { 'content-type': 'application/json' } });
    expect((await wrap(githubError, 'refresh')('https://github.com/t', INIT)).status).toBe(400);
    expect((await wrap(githubError, 'userinfo')('https://api.github.com/user', INIT)).status).toBe(200);
  });

  it('a refused connection is transient (network), with the system code for logs', async () => {
    const error = await failure(
      wrap(async () => {
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) });
      })('https://idp.example', INIT),
    );
    expect(error).toMatchObject({ kind: 'transient', reason: 'network', operation: 'exchange' });
    expect(error.detail).toContain('ECONNREFUSED');
  });

  it('a slow answer is transient (timeout), also while the body is read', async () => {
    const hang = (_url: string, init: RequestInit) =>
      new Promise<Response>((_resolve, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason)));
    expect(await failure(wrap(hang)('https://idp.example', INIT))).toMatchObject({ kind: 'transient', reason: 'timeout' });

    const slowBody = async (_url: string, init: RequestInit) =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"a":'));
            init.signal!.addEventListener('abort', () => controller.error(init.signal!.reason));
          },
        }),
      );
    expect(await failure(wrap(slowBody)('https://idp.example', INIT))).toMatchObject({ kind: 'transient', reason: 'timeout' });
  });

  it('refuses a body larger than the cap', async () => {
    const huge = async () => new Response(new Uint8Array(MAX_BODY_BYTES + 1));
    expect(await failure(wrap(huge)('https://idp.example', INIT))).toMatchObject({ kind: 'definitive', reason: 'invalid_response' });
  });
});

/**
 * Client authentication at the upstream token endpoint (RFC 6749 §2.3.1) as configured:
 * `client_secret_basic`, `client_secret_post`, `none`. oidc-provider 9 accepts basic and
 * post interchangeably, so the wire form is asserted on the recorded request too.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamIdp } from '../../src/demo/upstream-idp.js';
import { basicAuthorization, testClients, withIdp } from '../support/idp.js';
import { client, CLIENTS, oidcConfig, recordingFetch, signInAndExchange, upstreamFailure } from './support.js';

describe('upstream client authentication', () => {
  let idp: UpstreamIdp;

  beforeAll(async () => {
    idp = await withIdp({ clients: testClients() });
  });

  async function tokenRequest(config: Parameters<typeof oidcConfig>[1]) {
    const recorder = recordingFetch();
    const { signIn } = await signInAndExchange(client(oidcConfig(idp, config), { fetch: recorder.fetch }));
    const request = recorder.requests.find((r) => r.url === idp.endpoints.token)!;
    return { signIn, headers: request.headers, body: new URLSearchParams(request.body) };
  }

  it('client_secret_basic: form-encoded credentials in Authorization, none in the body', async () => {
    const { signIn, headers, body } = await tokenRequest(CLIENTS.basic);
    expect(signIn.subject).toBe('alice');
    expect(headers.get('authorization')).toBe(basicAuthorization('test-client', 'test-secret'));
    expect(body.has('client_secret')).toBe(false);
  });

  it('client_secret_post: client_id and client_secret in the body, no Authorization', async () => {
    const { signIn, headers, body } = await tokenRequest(CLIENTS.post);
    expect(signIn.subject).toBe('alice');
    expect(headers.get('authorization')).toBeNull();
    expect(body.get('client_id')).toBe('gh-client');
    expect(body.get('client_secret')).toBe('gh-secret');
  });

  it('none: client_id only (PKCE protects the code)', async () => {
    const { signIn, headers, body } = await tokenRequest(CLIENTS.none);
    expect(signIn.subject).toBe('alice');
    expect(headers.get('authorization')).toBeNull();
    expect(body.get('client_id')).toBe('public-client');
    expect(body.has('client_secret')).toBe(false);
    expect(body.get('code_verifier')).toBeTruthy();
  });

  it('a wrong secret is a definitive invalid_client, shown to the MCP client as server_error', async () => {
    const error = await upstreamFailure(signInAndExchange(client(oidcConfig(idp, { ...CLIENTS.basic, clientSecret: 'wrong' }))));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'invalid_client', operation: 'exchange', status: 401 });
    expect(error.toClientError().code).toBe('server_error');
  });

  it('extra token parameters are sent, and cannot replace core ones', async () => {
    const { body } = await tokenRequest({ ...CLIENTS.basic, extraTokenParams: { audience: 'https://api.example' } });
    expect(body.get('audience')).toBe('https://api.example');
    expect(body.getAll('grant_type')).toEqual(['authorization_code']);
  });
});

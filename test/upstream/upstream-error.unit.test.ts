/**
 * Pure pieces of the upstream client: status/code classification, the client error
 * matrix, error-code reduction, and HTTP Basic encoding of the client credentials.
 *
 * Checked once and restored: with `invalid_client` during a refresh made definitive again
 * (`defaultKind` in src/upstream/upstream-error.ts), "refresh / invalid_client" and
 * "invalid_client is transient during a refresh only" fail.
 */
import { describe, expect, it } from 'vitest';
import { upstreamConfigSchema } from '../../src/config/schema.js';
import { reasonForStatus } from '../../src/upstream/classify.js';
import { clientAuthentication } from '../../src/upstream/context.js';
import { clientErrorFor, UpstreamError, upstreamErrorToken, type UpstreamErrorReason, type UpstreamOperation } from '../../src/upstream/index.js';

describe('UpstreamError', () => {
  it.each([
    [503, undefined, 'unavailable'],
    [500, 'invalid_grant', 'unavailable'],
    [408, undefined, 'unavailable'],
    [429, 'invalid_grant', 'rate_limited'],
    [400, 'temporarily_unavailable', 'unavailable'],
    [400, 'invalid_grant', 'invalid_grant'],
    [400, 'bad_refresh_token', 'invalid_grant'],
    [401, 'invalid_client', 'invalid_client'],
    [400, 'incorrect_client_credentials', 'invalid_client'],
    [400, 'invalid_request', 'request_refused'],
    [401, undefined, 'invalid_client'],
    [404, undefined, 'invalid_response'],
  ] as const)('status %i with %s is %s', (status, code, reason) => {
    expect(reasonForStatus(status, code, 'refresh')).toBe(reason);
  });

  it('a bare 401 from an API is the token, not the client', () => {
    expect(reasonForStatus(401, undefined, 'userinfo')).toBe('invalid_grant');
  });

  it.each<[UpstreamOperation, UpstreamErrorReason, string]>([
    ['refresh', 'network', 'temporarily_unavailable'],
    ['refresh', 'timeout', 'temporarily_unavailable'],
    ['exchange', 'rate_limited', 'temporarily_unavailable'],
    ['refresh', 'invalid_grant', 'invalid_grant'],
    ['refresh', 'invalid_client', 'temporarily_unavailable'], // flowgate's credentials, not the grant
    ['refresh', 'id_token_invalid', 'invalid_grant'],
    ['exchange', 'invalid_grant', 'access_denied'],
    ['exchange', 'id_token_invalid', 'access_denied'],
    ['userinfo', 'subject_missing', 'access_denied'],
    ['authorization', 'state_mismatch', 'access_denied'],
    ['authorization', 'issuer_mismatch', 'access_denied'],
    ['exchange', 'invalid_client', 'server_error'],
    ['exchange', 'invalid_response', 'server_error'],
    ['exchange', 'request_refused', 'server_error'],
    ['discovery', 'issuer_mismatch', 'server_error'],
    ['revocation', 'invalid_grant', 'server_error'],
  ])('%s / %s → %s', (operation, reason, code) => {
    const error = new UpstreamError({ operation, reason, detail: 'private' });
    const clientError = clientErrorFor(error);
    expect(clientError.code).toBe(code);
    expect(clientError.detail).toContain('private');
    expect(clientError.description).not.toContain('private');
    expect(error.toClientError().code).toBe(code);
  });

  it("invalid_client is transient during a refresh only (flowgate's configuration, not the user's grant)", () => {
    expect(new UpstreamError({ operation: 'refresh', reason: 'invalid_client' }).kind).toBe('transient');
    expect(new UpstreamError({ operation: 'exchange', reason: 'invalid_client' }).kind).toBe('definitive');
    expect(new UpstreamError({ operation: 'refresh', reason: 'invalid_grant' }).kind).toBe('definitive');
  });

  it('reduces upstream error codes to a token', () => {
    expect(upstreamErrorToken('invalid_grant')).toBe('invalid_grant');
    expect(upstreamErrorToken('Access_Denied extra words')).toBe('access_denied');
    expect(upstreamErrorToken('<script>')).toBeUndefined();
    expect(upstreamErrorToken(42)).toBeUndefined();
    expect(new UpstreamError({ operation: 'refresh', reason: 'request_refused', upstreamError: 'x_y z"<' }).upstreamError).toBe('x_y');
  });

  it('is a FlowgateError with a stable code and a safe message', () => {
    const error = new UpstreamError({ operation: 'refresh', reason: 'invalid_grant', status: 400, upstreamError: 'invalid_grant' });
    expect(error.code).toBe('ERR_UPSTREAM');
    expect(error.name).toBe('UpstreamError');
    expect(error.message).toBe('upstream refresh failed, definitive: invalid_grant invalid_grant (HTTP 400)');
    expect(error.cause).toBeUndefined();
  });
});

describe('client_secret_basic', () => {
  it('form-encodes id and secret like a browser (RFC 6749 §2.3.1), leaving - . _ alone', async () => {
    const config = upstreamConfigSchema.parse({
      kind: 'oidc',
      issuer: 'https://idp.example',
      clientId: '1234-abc.apps.example_1',
      clientSecret: 'a b:c%d+é',
    });
    const headers = new Headers();
    await clientAuthentication(config)({ issuer: 'https://idp.example' }, { client_id: config.clientId }, new URLSearchParams(), headers);
    const decoded = Buffer.from(headers.get('authorization')!.replace(/^Basic /, ''), 'base64').toString('utf8');
    expect(decoded).toBe('1234-abc.apps.example_1:a+b%3Ac%25d%2B%C3%A9');
  });
});

/**
 * OAuth errors: RFC codes, statuses, the public/private split and the JSON response.
 */
import { describe, expect, it } from 'vitest';
import { FlowgateError } from '../../src/errors/flowgate-error.js';
import {
  AccessDenied,
  InsufficientScope,
  InvalidClient,
  InvalidClientMetadata,
  InvalidGrant,
  InvalidRedirectUri,
  InvalidRequest,
  InvalidScope,
  InvalidTarget,
  InvalidToken,
  OAuthError,
  ServerError,
  TemporarilyUnavailable,
  UnauthorizedClient,
  UnsupportedGrantType,
  UnsupportedResponseType,
  UnsupportedTokenType,
  oauthErrorResponse,
  toOAuthError,
} from '../../src/oauth/errors.js';
import type { OAuthErrorCode } from '../../src/oauth/errors.js';

const TABLE: ReadonlyArray<[new () => OAuthError, OAuthErrorCode, number, boolean]> = [
  [InvalidRequest, 'invalid_request', 400, true],
  [InvalidClient, 'invalid_client', 401, false],
  [InvalidGrant, 'invalid_grant', 400, false],
  [UnauthorizedClient, 'unauthorized_client', 400, true],
  [UnsupportedGrantType, 'unsupported_grant_type', 400, false],
  [InvalidScope, 'invalid_scope', 400, true],
  [AccessDenied, 'access_denied', 400, true],
  [UnsupportedResponseType, 'unsupported_response_type', 400, true],
  [ServerError, 'server_error', 500, true],
  [TemporarilyUnavailable, 'temporarily_unavailable', 503, true],
  [InvalidTarget, 'invalid_target', 400, true],
  [InvalidRedirectUri, 'invalid_redirect_uri', 400, false],
  [InvalidClientMetadata, 'invalid_client_metadata', 400, false],
  [InvalidToken, 'invalid_token', 401, false],
  [InsufficientScope, 'insufficient_scope', 403, false],
  [UnsupportedTokenType, 'unsupported_token_type', 400, false],
];

describe('OAuthError subclasses', () => {
  it.each(TABLE)('%o has code, status and redirect policy', (Ctor, code, status, allowRedirect) => {
    const error = new Ctor();
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toBeInstanceOf(FlowgateError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.allowRedirect).toBe(allowRedirect);
    expect(error.name).toBe(Ctor.name);
    expect(error.description.length).toBeGreaterThan(5);
    expect(error.message).toBe(error.description);
  });

  it('covers every code exactly once', () => {
    expect(new Set(TABLE.map(([, code]) => code)).size).toBe(16);
  });

  it('never allows redirecting errors about the client or the redirect URI', () => {
    expect(new InvalidClient().allowRedirect).toBe(false);
    expect(new InvalidRedirectUri().allowRedirect).toBe(false);
    expect(new InvalidClientMetadata().allowRedirect).toBe(false);
  });

  it('lets a redirectable error be downgraded, never the reverse', () => {
    expect(new InvalidRequest('redirect_uri is missing', { allowRedirect: false }).allowRedirect).toBe(false);
    expect(new InvalidRequest('code_challenge is missing').allowRedirect).toBe(true);
  });
});

describe('toJSON', () => {
  it('is exactly { error, error_description } and leaves detail and cause out', () => {
    const error = new InvalidGrant('the authorization code has expired', {
      detail: 'code hash abc expired at 2026-01-01; secret=hunter2',
      cause: new Error('db row'),
    });
    expect(error.toJSON()).toStrictEqual({ error: 'invalid_grant', error_description: 'the authorization code has expired' });
    expect(JSON.stringify(error)).toBe('{"error":"invalid_grant","error_description":"the authorization code has expired"}');
    expect(JSON.stringify(error)).not.toContain('hunter2');
    expect(error.detail).toContain('hunter2');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('keeps error_description within the RFC 6749 §5.2 character set', () => {
    const error = new InvalidRequest('bad "value" \\ é\n<x>');
    expect(error.description).toBe('bad ?value? ? ??<x>');
    expect(error.description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/);
  });
});

describe('toOAuthError', () => {
  it('passes OAuth errors through unchanged', () => {
    const error = new InvalidScope();
    expect(toOAuthError(error)).toBe(error);
  });

  it.each([new Error('upstream said: client_secret=s3cr3t'), new TypeError('x is undefined'), 'a string', undefined, { message: 'obj' }])(
    'turns %o into a generic server_error',
    (thrown) => {
      const error = toOAuthError(thrown);
      expect(error).toBeInstanceOf(ServerError);
      expect(error.code).toBe('server_error');
      expect(error.status).toBe(500);
      expect(error.description).toBe('the server encountered an unexpected error');
      expect(JSON.stringify(error)).not.toMatch(/s3cr3t|undefined|string|obj/);
      expect(error.cause).toBe(thrown);
    },
  );
});

describe('oauthErrorResponse', () => {
  it('answers with the JSON body, status and no-store headers', async () => {
    const response = oauthErrorResponse(new InvalidGrant('the code was already used'));
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    expect(response.headers.has('www-authenticate')).toBe(false);
    expect(await response.json()).toStrictEqual({ error: 'invalid_grant', error_description: 'the code was already used' });
  });

  it('adds the Basic challenge to a 401 invalid_client only when asked', () => {
    expect(oauthErrorResponse(new InvalidClient()).headers.has('www-authenticate')).toBe(false);
    const challenged = oauthErrorResponse(new InvalidClient(), { basicChallenge: true });
    expect(challenged.status).toBe(401);
    expect(challenged.headers.get('www-authenticate')).toBe('Basic realm="flowgate"');
    expect(oauthErrorResponse(new InvalidGrant(), { basicChallenge: true }).headers.has('www-authenticate')).toBe(false);
  });

  it('keeps its own Content-Type and cache headers over caller headers', () => {
    const response = oauthErrorResponse(new InvalidRequest(), {
      headers: { 'Content-Type': 'text/html', 'Cache-Control': 'max-age=60', 'X-Request-Id': 'r1' },
    });
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-request-id')).toBe('r1');
  });

  it('answers a non-OAuth error with a generic 500 server_error', async () => {
    const response = oauthErrorResponse(new Error('ECONNREFUSED 10.0.0.5:5432 password=pw'));
    expect(response.status).toBe(500);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toStrictEqual({ error: 'server_error', error_description: 'the server encountered an unexpected error' });
  });

  it('uses 403 for insufficient_scope and 503 for temporarily_unavailable', () => {
    expect(oauthErrorResponse(new InsufficientScope()).status).toBe(403);
    expect(oauthErrorResponse(new TemporarilyUnavailable()).status).toBe(503);
  });
});

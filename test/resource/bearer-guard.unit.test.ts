/**
 * The bearer guard's answers (RFC 6750 §3, RFC 9728 §5.1): 401 with
 * `WWW-Authenticate: Bearer resource_metadata="…"` (and `error="invalid_token"` when a
 * token was sent), 403 `insufficient_scope` naming the scope, no token in the query.
 */
import { describe, expect, it } from 'vitest';
import { InvalidToken } from '../../src/oauth/errors.js';
import { bearerGuard } from '../../src/resource/bearer-guard.js';
import type { VerifiedAccess } from '../../src/resource/verify-access-token.js';

const METADATA = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
const good: VerifiedAccess = {
  subject: 'alice',
  clientId: 'c',
  scopes: ['mcp:tools'],
  resource: 'https://mcp.example.com/mcp',
  expiresAt: 2e9,
  jti: 'j',
  grantId: 'g',
  upstreamAccessToken: async () => 'never',
};

const guard = (requiredScopes: string[] = []) =>
  bearerGuard({
    verify: async (token) => {
      if (token !== 'good-token') throw new InvalidToken('the access token has expired');
      return good;
    },
    resourceMetadataUrl: METADATA,
    requiredScopes,
  });

const request = (headers: Record<string, string> = {}, url = 'https://mcp.example.com/mcp') => new Request(url, { method: 'POST', headers });

describe('bearer guard', () => {
  it('answers a request without a token with 401 and the metadata URL, no error code', async () => {
    const outcome = await guard()(request());
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.response.status).toBe(401);
    expect(outcome.response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${METADATA}"`);
  });

  it('answers a refused token with 401 invalid_token', async () => {
    const outcome = await guard()(request({ authorization: 'Bearer bad-token' }));
    if (outcome.ok) throw new Error('accepted');
    expect(outcome.response.status).toBe(401);
    expect(outcome.response.headers.get('www-authenticate')).toBe(
      `Bearer error="invalid_token", error_description="the access token has expired", resource_metadata="${METADATA}"`,
    );
  });

  it('answers a missing scope with 403 insufficient_scope naming it', async () => {
    const outcome = await guard(['mcp:tools', 'mcp:admin'])(request({ authorization: 'Bearer good-token' }));
    if (outcome.ok) throw new Error('accepted');
    expect(outcome.response.status).toBe(403);
    expect(outcome.response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(outcome.response.headers.get('www-authenticate')).toContain('scope="mcp:admin"');
  });

  it('never takes a token from the query string', async () => {
    const outcome = await guard()(request({}, 'https://mcp.example.com/mcp?access_token=good-token'));
    if (outcome.ok) throw new Error('accepted');
    expect(outcome.response.status).toBe(401);
    expect(outcome.response.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });

  it('passes a good token through with the caller', async () => {
    const outcome = await guard(['mcp:tools'])(request({ authorization: 'Bearer good-token' }));
    expect(outcome).toEqual({ ok: true, auth: good });
  });
});

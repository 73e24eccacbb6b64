/**
 * The bearer guard's answers (RFC 6750 §3, RFC 9728 §5.1): 401 with
 * `WWW-Authenticate: Bearer resource_metadata="…"` (and `error="invalid_token"` when a
 * token was sent), 403 `insufficient_scope` naming the scope, no token in the query.
 *
 * The challenge's `scope` (RFC 6750 §3; what an MCP client requests, before the metadata's
 * `scopes_supported`): the required scopes, or the configured challenge scopes; through the
 * adapters' `guardFor`, the resource's supported scopes when nothing is required. A 403 adds
 * the scopes the token already has. Counterparts of fastmcp's
 * `TestEnhancedRequireAuthMiddleware.test_missing_auth_challenge_includes_supported_scopes` and
 * `…_uses_required_scope_with_empty_catalog`. Checked by hand: with the `scope` attribute
 * dropped from the guard's challenges, the scope tests below fail.
 */
import { describe, expect, it } from 'vitest';
import type { Flowgate } from '../../src/flowgate.js';
import { InvalidToken } from '../../src/oauth/errors.js';
import { bearerGuard } from '../../src/resource/bearer-guard.js';
import { guardFor } from '../../src/resource/node-http.js';
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
    // The scope to request: every required scope, the granted ones kept (a client stepping up
    // requests exactly this and must not lose mcp:tools); the description names the missing one.
    expect(outcome.response.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="the token lacks the scope mcp:admin", scope="mcp:tools mcp:admin", resource_metadata="${METADATA}"`,
    );
    expect(await outcome.response.json()).toEqual({ error: 'insufficient_scope', error_description: 'the token lacks the scope mcp:admin' });
  });

  it('names the required scopes in the 401 without a token', async () => {
    const outcome = await guard(['mcp:tools'])(request());
    if (outcome.ok) throw new Error('accepted');
    expect(outcome.response.status).toBe(401);
    expect(outcome.response.headers.get('www-authenticate')).toBe(`Bearer scope="mcp:tools", resource_metadata="${METADATA}"`);
    expect(await outcome.response.text()).toBe('');
  });

  it('names the required scopes in the 401 for a refused token too', async () => {
    const outcome = await guard(['mcp:tools'])(request({ authorization: 'Bearer bad-token' }));
    if (outcome.ok) throw new Error('accepted');
    expect(outcome.response.headers.get('www-authenticate')).toBe(
      `Bearer error="invalid_token", error_description="the access token has expired", scope="mcp:tools", resource_metadata="${METADATA}"`,
    );
  });

  it('names the configured challenge scopes instead of the required ones', async () => {
    const withChallenge = bearerGuard({
      verify: async () => ({ ...good, scopes: ['other'] }),
      resourceMetadataUrl: METADATA,
      requiredScopes: ['read'],
      challengeScopes: ['read', 'write'],
    });
    const missing = await withChallenge(request());
    if (missing.ok) throw new Error('accepted');
    expect(missing.response.headers.get('www-authenticate')).toBe(`Bearer scope="read write", resource_metadata="${METADATA}"`);
    const narrow = await withChallenge(request({ authorization: 'Bearer narrow' }));
    if (narrow.ok) throw new Error('accepted');
    expect(narrow.response.status).toBe(403);
    expect(narrow.response.headers.get('www-authenticate')).toContain('scope="read write other"');
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

describe("the adapters' guard (guardFor): the challenge's scope from flowgate's resources", () => {
  const MCP = 'https://mcp.example.com/mcp';
  const OTHER = 'https://mcp.example.com/other';
  const flowgate = {
    settings: {
      defaultResource: MCP,
      resources: [
        { uri: MCP, scopes: ['mcp:tools', 'mcp:read'] },
        { uri: OTHER, scopes: [] },
      ],
    },
    verifyAccessToken: async () => good,
  } as unknown as Pick<Flowgate, 'verifyAccessToken' | 'settings'>;

  const challengeOf = async (g: (r: Request) => Promise<{ ok: boolean; response?: Response }>, url = MCP) => {
    const outcome = await g(request({}, url));
    expect(outcome.ok).toBe(false);
    expect(outcome.response!.status).toBe(401);
    return outcome.response!.headers.get('www-authenticate');
  };

  it("names the resource's supported scopes when it requires none", async () => {
    expect(await challengeOf(guardFor(flowgate))).toBe(`Bearer scope="mcp:tools mcp:read", resource_metadata="${METADATA}"`);
  });

  it('names the required scopes when there are some, and the configured challenge scopes above both', async () => {
    expect(await challengeOf(guardFor(flowgate, { requiredScopes: ['mcp:tools'] }))).toBe(`Bearer scope="mcp:tools", resource_metadata="${METADATA}"`);
    expect(await challengeOf(guardFor(flowgate, { requiredScopes: ['mcp:tools'], challengeScopes: ['mcp:read'] }))).toBe(
      `Bearer scope="mcp:read", resource_metadata="${METADATA}"`,
    );
  });

  it('names no scope for a resource with neither required nor supported scopes', async () => {
    expect(await challengeOf(guardFor(flowgate, { resource: OTHER }), OTHER)).toBe(
      'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/other"',
    );
  });
});

/**
 * Security invariant 6/8 as a property at the HTTP layer: whatever the request, no response
 * of `/authorize`, `/consent` or the upstream callback redirects anywhere but flowgate's own
 * consent page, the upstream, or a redirect URI registered for the request's client (an
 * http loopback one possibly on another port). Requests whose client or redirect URI is
 * wrong get a local page with no Location at all.
 *
 * Checked by hand: with `resolveRedirectUri` accepting any URI, the property fails with a
 * shrunk counterexample redirecting to an unregistered URI.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flowgate } from '../../src/flowgate.js';
import { redirectUriMatches } from '../../src/oauth/redirect-uri.js';
import { call, openApp } from '../support/app.js';

const LOOPBACK = 'http://127.0.0.1:53682/callback';
const WEB = 'https://app.example/cb';

describe('no open redirect', () => {
  let app: Flowgate;
  const registered = new Map<string, string[]>([
    ['loopback-app', [LOOPBACK]],
    ['web-app', [WEB]],
  ]);
  beforeAll(async () => {
    app = await openApp({
      consent: { mode: 'always' },
      clients: { static: [...registered].map(([clientId, redirectUris]) => ({ clientId, redirectUris })) },
    });
  });
  afterAll(() => app.close());

  const mutatedUri = fc.oneof(
    fc.constantFrom(LOOPBACK, WEB),
    fc.constantFrom(
      'http://127.0.0.1:9999/callback',
      'http://localhost:53682/callback',
      'http://127.0.0.1:53682/callback/../x',
      'http://127.0.0.1:53682/Callback',
      'http://127.0.0.1:53682/callback?x=1',
      'http://127.0.0.1:53682/callback#f',
      'https://app.example/cb/',
      'https://APP.example/cb',
      'https://app.example.evil.com/cb',
      'https://app.example@evil.com/cb',
      'https:app.example/cb',
      'javascript:alert(1)',
      'https://evil.example/cb',
      '//evil.example/cb',
      '',
    ),
    fc.webUrl(),
    fc.string(),
  );

  const authorizeParams = fc.record(
    {
      client_id: fc.oneof(fc.constantFrom(...registered.keys()), fc.constant('unknown-client'), fc.string()),
      redirect_uri: mutatedUri,
      response_type: fc.constantFrom('code', 'token', ''),
      code_challenge: fc.constantFrom('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'short', ''),
      code_challenge_method: fc.constantFrom('S256', 'plain', ''),
      scope: fc.constantFrom('mcp:tools', 'admin', '', 'mcp:tools other'),
      resource: fc.constantFrom('', 'https://auth.example.com/mcp', 'https://evil.example/mcp', 'not a uri'),
      state: fc.string({ maxLength: 40 }),
    },
    { requiredKeys: [] },
  );

  function assertSafe(location: string | null, clientId: string | undefined): void {
    if (location === null) return;
    const target = new URL(location, 'https://auth.example.com/');
    if (target.origin === 'https://auth.example.com' && target.pathname === '/consent') return;
    if (target.origin === 'https://github.example') return;
    const allowed = registered.get(clientId ?? '') ?? [];
    const withoutQuery = `${target.origin}${target.pathname}`;
    expect(
      allowed.some((r) => redirectUriMatches(r, withoutQuery) || redirectUriMatches(r, location.split('?')[0]!)),
      `redirected to ${location} for client ${clientId}`,
    ).toBe(true);
  }

  it('never redirects /authorize to an unregistered URI', async () => {
    await fc.assert(
      fc.asyncProperty(authorizeParams, fc.boolean(), async (params, usePost) => {
        const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined) as [string, string][]);
        const response = usePost
          ? await call(app, '/authorize', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: query })
          : await call(app, `/authorize?${query}`);
        expect(response.status).toBeLessThan(500);
        assertSafe(response.headers.get('location'), params.client_id);
        if (!registered.has(params.client_id ?? '')) expect(response.headers.get('location')).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it('never redirects from the consent endpoint or the callback on forged input', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ flow: fc.string(), csrf: fc.string(), decision: fc.constantFrom('approve', 'deny', 'x'), state: fc.string(), code: fc.string(), error: fc.constantFrom('', 'access_denied') }),
        async (input) => {
          const consent = await call(app, '/consent', {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ flow: input.flow, csrf: input.csrf, decision: input.decision }),
          });
          expect(consent.headers.get('location')).toBeNull();
          const q = new URLSearchParams({ state: input.state, code: input.code });
          if (input.error) q.set('error', input.error);
          const callback = await call(app, `/auth/callback?${q}`);
          expect(callback.headers.get('location')).toBeNull();
          expect(callback.status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });
});

/**
 * Regression tests for guards the path coverage found missing (each failed before the fix).
 */
import { describe, expect, it } from 'vitest';
import { authorizationFlowMachine } from '../../machines/authorization-flow.js';
import { tokenGrantMachine } from '../../machines/token-grant.js';
import { MachineRunner } from '../../src/engine/machine-runner.js';

const grant = new MachineRunner(tokenGrantMachine);
const created = (o: Record<string, unknown> = {}) => ({
  type: 'grant.created',
  at: 1000,
  grantId: 'g',
  flowId: 'f',
  clientId: 'c',
  subjectRef: 's',
  scopes: ['mcp:tools'],
  resource: 'r',
  refreshTokenHash: 'A',
  absoluteExpiresAt: 1e12,
  idleTtlMs: 1e9,
  graceMs: 10_000,
  ...o,
});
const rotated = (at: number, presentedHash: string, newHash: string) => ({
  type: 'refresh_token.rotated',
  at,
  presentedHash,
  newHash,
  scopes: ['mcp:tools'],
});

describe('token-grant guards', () => {
  it('keeps at most two live refresh tokens under the grace rule', () => {
    const snapshot = grant.fold([created(), rotated(2e3, 'A', 'B'), rotated(3e3, 'A', 'C'), rotated(4e3, 'C', 'D')]);
    expect(snapshot.context.activeRefreshHashes).toEqual(['B', 'D']);
    expect(snapshot.can(rotated(5e3, 'C', 'E') as never)).toBe(false);
    expect(snapshot.can({ type: 'refresh_token.reuse_detected', at: 5e3, presentedHash: 'C' } as never)).toBe(true);
  });

  it('refuses access_token.revoked when nothing is left to revoke or the grant is past its deadline', () => {
    const fresh = grant.fold([created({ absoluteExpiresAt: 5000, graceMs: 0 })]);
    expect(fresh.can({ type: 'access_token.revoked', at: 2000, jti: 'x' } as never)).toBe(false);
    const issued = grant.step(fresh, { type: 'access_token.issued', at: 2000, jti: 'j', expiresAt: 4000, scopes: ['mcp:tools'] })!;
    expect(issued.can({ type: 'access_token.revoked', at: 3000, jti: 'j' } as never)).toBe(true);
    expect(issued.can({ type: 'access_token.revoked', at: 9e6, jti: 'j' } as never)).toBe(false);
  });
});

describe('authorization-flow guards', () => {
  it('never issues a code for a scope the client did not request, even when the upstream granted it', () => {
    const flow = new MachineRunner(authorizationFlowMachine);
    const snapshot = flow.fold([
      { type: 'flow.started', at: 1, flowId: 'f', grantId: 'g', clientId: 'c', redirectUri: 'http://127.0.0.1/cb', codeChallenge: 'x'.repeat(43), codeChallengeMethod: 'S256', scopes: ['mcp:read'], resource: 'r', clientStateSealed: null, browserHash: 'b', expiresAt: 1e9 },
      { type: 'consent.approved', at: 2, basis: 'disabled', browserHash: 'b' },
      { type: 'upstream.redirected', at: 3, upstreamStateHash: 'h', proxyVerifierSealed: 'v', nonceHash: null, stateExpiresAt: 1e9 },
      { type: 'upstream.callback_accepted', at: 4, upstreamStateHash: 'h', browserHash: 'b' },
      { type: 'upstream.tokens_received', at: 5, grantId: 'g', subjectRef: 's', subjectSealed: 'x', claimsSealed: null, tokenSetSealed: 't', upstreamExpiresAt: null, upstreamRefreshable: false, grantedScopes: ['mcp:read', 'mcp:admin'] },
    ]);
    const code = (scopes: string[]) => ({ type: 'code.issued', at: 6, codeHash: 'c', clientId: 'c', redirectUri: 'http://127.0.0.1/cb', codeChallenge: 'x'.repeat(43), scopes, resource: 'r', grantId: 'g', expiresAt: 1e9 });
    expect(snapshot.can(code(['mcp:read', 'mcp:admin']) as never)).toBe(false);
    expect(snapshot.can(code(['mcp:read']) as never)).toBe(true);
  });
});

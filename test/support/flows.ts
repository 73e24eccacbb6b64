/**
 * Drives flows through the engine the way the HTTP layer will, for tests.
 */
import { sha256Base64Url } from '../../src/crypto/random.js';
import type { Engine } from '../../src/engine/engine.js';
import { s256Challenge } from '../../src/oauth/pkce.js';
import { randomToken } from '../../src/crypto/random.js';

/** A client's side of one flow: its PKCE pair and state. */
export interface ClientSide {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly verifier: string;
  readonly challenge: string;
  readonly state: string;
  readonly browser: string;
}

/** A fresh client side for `clientId`. */
export function clientSide(clientId = 'client-a', redirectUri = 'http://127.0.0.1:53682/callback'): ClientSide {
  const verifier = randomToken(32);
  return {
    clientId,
    redirectUri,
    verifier,
    challenge: s256Challenge(verifier),
    state: randomToken(16),
    browser: sha256Base64Url(randomToken(32)),
  };
}

/** Upstream tokens as an IdP would send them. */
export function upstreamTokens(): { access_token: string; refresh_token: string; token_type: string; expires_in: number } {
  return { access_token: `up-at-${randomToken(24)}`, refresh_token: `up-rt-${randomToken(24)}`, token_type: 'Bearer', expires_in: 3600 };
}

/** Runs a flow up to an issued code; returns the code and everything used. */
export async function flowToCode(
  engine: Engine,
  client: ClientSide = clientSide(),
  options: { scopes?: string[]; resource?: string; subject?: string } = {},
) {
  const scopes = options.scopes ?? ['mcp:tools'];
  const resource = options.resource ?? 'http://127.0.0.1:8787/mcp';
  const started = await engine.execute({
    type: 'StartFlow',
    clientId: client.clientId,
    redirectUri: client.redirectUri,
    codeChallenge: client.challenge,
    scopes,
    resource,
    clientState: client.state,
    browserHash: client.browser,
  });
  await engine.execute({ type: 'ShowConsent', flowId: started.flowId, browserHash: client.browser });
  const approved = await engine.execute({ type: 'ApproveConsent', flowId: started.flowId, browserHash: client.browser });
  const accepted = await engine.execute({ type: 'AcceptCallback', upstreamState: approved.upstream.state, browserHash: client.browser });
  const tokens = upstreamTokens();
  const issued = await engine.execute({
    type: 'CompleteUpstreamExchange',
    flowId: accepted.flowId,
    subject: options.subject ?? 'alice',
    claims: { email: 'alice@example.test' },
    tokenSet: tokens,
    upstreamExpiresAt: engine.now() + 3600_000,
    refreshable: true,
    grantedScopes: scopes,
  });
  return { client, started, approved, accepted, issued, upstream: tokens, scopes, resource };
}

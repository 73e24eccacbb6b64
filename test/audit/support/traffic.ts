/**
 * Real traffic through the engine for the audit tests: a registered client, complete
 * flows, redemptions, refreshes, a replayed authorization code (`code.reuse_detected` and
 * the grant revoked), a reused refresh token (`refresh_token.reuse_detected` and the grant
 * revoked), an access token revoked by its client, an operator revocation and an abandoned
 * flow the sweeper expires.
 */
import { Keyring } from '../../../src/keys/keyring.js';
import { keyringOptionsFrom } from '../../../src/keys/settings.js';
import { openTestEngine, type TestEngine } from '../../support/engine.js';
import { clientSide, flowToCode } from '../../support/flows.js';
import type { StoreTarget } from '../../support/stores.js';

/** What the traffic left in the log. */
export interface Traffic {
  /** Flows that reached a grant, with their streams. */
  readonly flows: Array<{ readonly flow: string; readonly grant: string }>;
  /** The flow whose code was replayed, and its grant. */
  readonly codeReplay: { readonly flow: string; readonly grant: string };
  /** The grant whose refresh token was reused. */
  readonly refreshReuse: { readonly grant: string };
  /** A flow nobody finished, expired by the sweeper. */
  readonly abandoned: string;
}

/** Drives `flows` (≥ 4) complete flows and the incidents listed in the module comment. */
export async function realTraffic(t: TestEngine, flows = 4): Promise<Traffic> {
  const engine = t.engine;
  const clientId = 'client-audit';
  const redirectUri = 'http://127.0.0.1:53682/callback';
  await engine.execute({
    type: 'RegisterClient',
    clientId,
    kind: 'dynamic',
    metadata: {
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: 'Audit test client',
    },
    secretHash: null,
    allowedPatterns: [],
  });
  const done: Array<{ flow: string; grant: string; code: string; verifier: string; refresh: string; jti: string }> = [];
  for (let i = 0; i < flows; i++) {
    t.clock.advance(1000);
    const client = clientSide(clientId, redirectUri);
    const f = await flowToCode(engine, client, { subject: `user-${i}` });
    const tokens = await engine.execute({
      type: 'RedeemCode',
      code: f.issued.code,
      clientId,
      codeVerifier: client.verifier,
      redirectUri,
      resource: null,
      issueRefreshToken: true,
    });
    t.clock.advance(500);
    const refreshed = await engine.execute({ type: 'RefreshGrant', refreshToken: tokens.refreshToken!, clientId, scopes: null, resource: null });
    done.push({
      flow: `flow:${f.started.flowId}`,
      grant: `grant:${tokens.grantId}`,
      code: f.issued.code,
      verifier: client.verifier,
      refresh: tokens.refreshToken!,
      jti: refreshed.jti,
    });
  }
  // A replayed authorization code: reuse detected, the grant revoked, in one command.
  const replay = done[1]!;
  await engine
    .execute({ type: 'RedeemCode', code: replay.code, clientId, codeVerifier: replay.verifier, redirectUri, resource: null, issueRefreshToken: true })
    .then(
      () => {
        throw new Error('a replayed code was accepted');
      },
      () => undefined,
    );
  // A reused (rotated) refresh token: reuse detected, the family revoked.
  const reuse = done[2]!;
  await engine.execute({ type: 'RefreshGrant', refreshToken: reuse.refresh, clientId, scopes: null, resource: null }).then(
    () => {
      throw new Error('a rotated refresh token was accepted');
    },
    () => undefined,
  );
  // An access token revoked by its client, and an operator revocation.
  await engine.execute({ type: 'RevokeAccessToken', jti: done[0]!.jti, clientId });
  await engine.execute({ type: 'RevokeGrant', grantId: done[3]!.grant.slice('grant:'.length) });
  // An abandoned flow, expired by the sweeper.
  const abandoned = await engine.execute({
    type: 'StartFlow',
    clientId,
    redirectUri,
    codeChallenge: clientSide().challenge,
    scopes: ['mcp:tools'],
    resource: 'http://127.0.0.1:8787/mcp',
    clientState: null,
    browserHash: clientSide().browser,
  });
  t.clock.advance(t.settings.flowTtlMs + 1000);
  await engine.sweep();
  return {
    flows: done.map(({ flow, grant }) => ({ flow, grant })),
    codeReplay: { flow: replay.flow, grant: replay.grant },
    refreshReuse: { grant: reuse.grant },
    abandoned: `flow:${abandoned.flowId}`,
  };
}

/** An engine on `target` with real traffic and the store's keyring (anchor key included). */
export async function engineWithTraffic(target: StoreTarget, options: { flows?: number; file?: boolean } = {}) {
  const t = await openTestEngine(target, { file: options.file ?? false });
  const traffic = await realTraffic(t, options.flows ?? 4);
  const keyring = await Keyring.open(t.store.store.db, t.vault, keyringOptionsFrom(t.store.config, t.clock.now));
  return { t, traffic, keyring, anchorKey: { signingKey: () => keyring.anchorSigningKey() } };
}

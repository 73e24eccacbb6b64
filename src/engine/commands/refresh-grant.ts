/**
 * `RefreshGrant`: the `refresh_token` grant (OAuth 2.1 §4.3). Every use rotates; reuse of
 * a retired token revokes the whole family (RFC 9700 §4.14.2) per the grace rule of the
 * token-grant machine; a requested scope can only narrow; the client must be the grant's.
 *
 * @module
 */
import { grantDeadline, type TokenGrantContext } from '../../../machines/token-grant.js';
import { constantTimeEqual, sha256Base64Url } from '../../crypto/random.js';
import { InvalidGrant, InvalidScope, InvalidTarget } from '../../oauth/errors.js';
import { findRefreshToken } from '../../projections/refresh-tokens.js';
import { grantStream, grantSubject, issueAccessToken, newRefreshToken, type IssuedTokens } from './grant-support.js';
import { CommitThenThrow, type CommandHandler } from './types.js';

/** Use a refresh token. */
export interface RefreshGrant {
  readonly type: 'RefreshGrant';
  readonly refreshToken: string;
  /** The client the HTTP layer authenticated. */
  readonly clientId: string;
  /** A narrower scope, or null for the grant's. */
  readonly scopes: readonly string[] | null;
  /** The configured resource the request named, or null. */
  readonly resource: string | null;
}

/** What a refresh returns: the tokens, plus what the upstream-refresh layer needs to know. */
export interface RefreshedTokens extends IssuedTokens {
  readonly clientId: string;
}

const INVALID = 'the refresh token is invalid, expired or revoked';

/** The `RefreshGrant` handler. */
export const refreshGrant: CommandHandler<RefreshGrant, RefreshedTokens> = {
  retryOnConflict: true,
  async decide(session, command, context) {
    const presentedHash = sha256Base64Url(command.refreshToken);
    const row = await findRefreshToken(context.db, presentedHash);
    if (!row) throw new InvalidGrant(INVALID, { detail: 'no such refresh token' });
    const grant = await session.loadExisting<TokenGrantContext>(grantStream(row.grantId));
    const g = grant.context;
    // Binding checks first: a stolen token presented by another client rotates and revokes nothing.
    if (!constantTimeEqual(g.clientId, command.clientId)) throw new InvalidGrant(INVALID, { detail: 'token of another client' });
    if (command.resource !== null && command.resource !== g.resource) {
      throw new InvalidTarget('the resource does not match the grant');
    }
    const scopes = command.scopes ?? g.scopes;
    if (!scopes.every((s) => g.scopes.includes(s))) throw new InvalidScope('a refresh can only narrow the scope');
    if (!grant.state.startsWith('live')) throw new InvalidGrant(INVALID, { detail: `grant ${grant.state}` });
    if (session.now >= grantDeadline(g)) {
      const reason = session.now >= g.absoluteExpiresAt ? 'absolute' : 'idle';
      session.emit(grant.streamId, 'grant.expired', { reason });
      throw new CommitThenThrow(new InvalidGrant('the refresh token has expired', { detail: `grant expired (${reason})` }));
    }

    const next = newRefreshToken(context);
    const rotation = { presentedHash, newHash: next.hash, scopes: [...g.scopes] };
    if (!session.accepts(grant.streamId, 'refresh_token.rotated', rotation)) {
      session.emit(grant.streamId, 'refresh_token.reuse_detected', { presentedHash });
      session.emit(grant.streamId, 'grant.revoked', { reason: 'refresh_token_reuse' });
      throw new CommitThenThrow(new InvalidGrant(INVALID, { detail: 'refresh token reuse detected; grant revoked' }));
    }
    const subject = await grantSubject(session, context, g);
    if (subject === undefined) throw new InvalidGrant(INVALID, { detail: 'the subject was erased' });
    session.emit(grant.streamId, 'refresh_token.rotated', rotation);
    const access = await issueAccessToken(session, context, g, subject, scopes);
    return {
      accessToken: access.accessToken,
      expiresIn: access.expiresIn,
      refreshToken: next.token,
      scopes,
      grantId: g.grantId,
      jti: access.jti,
      clientId: g.clientId,
    };
  },
};

/**
 * Revocation (RFC 7009) and operator revocation. A refresh token revokes its whole grant
 * (every refresh and access token of the family); an access token revokes only its `jti`.
 * Only the owning client may revoke; unknown tokens are not an error (RFC 7009 §2.2).
 *
 * @module
 */
import type { TokenGrantContext } from '../../../machines/token-grant.js';
import { constantTimeEqual, sha256Base64Url } from '../../crypto/random.js';
import { UnauthorizedClient } from '../../oauth/errors.js';
import { findJti } from '../../projections/jti-mappings.js';
import { findRefreshToken } from '../../projections/refresh-tokens.js';
import { grantStream } from './grant-support.js';
import type { CommandHandler } from './types.js';

/** What a revocation did. */
export interface RevocationOutcome {
  /** `revoked`: now dead; `inactive`: already dead; `unknown`: no such token. */
  readonly outcome: 'revoked' | 'inactive' | 'unknown';
  readonly grantId?: string;
}

function notYours(): UnauthorizedClient {
  return new UnauthorizedClient('the token was not issued to this client');
}

/** Revoke a refresh token (and so its grant). */
export interface RevokeRefreshToken {
  readonly type: 'RevokeRefreshToken';
  readonly refreshToken: string;
  readonly clientId: string;
}

/** The `RevokeRefreshToken` handler. */
export const revokeRefreshToken: CommandHandler<RevokeRefreshToken, RevocationOutcome> = {
  retryOnConflict: true,
  async decide(session, command, context) {
    const row = await findRefreshToken(context.db, sha256Base64Url(command.refreshToken));
    if (!row) return { outcome: 'unknown' };
    const grant = await session.loadExisting<TokenGrantContext>(grantStream(row.grantId));
    if (!constantTimeEqual(grant.context.clientId, command.clientId)) throw notYours();
    if (!grant.state.startsWith('live')) return { outcome: 'inactive', grantId: row.grantId };
    session.emit(grant.streamId, 'grant.revoked', { reason: 'client_revoked' });
    return { outcome: 'revoked', grantId: row.grantId };
  },
};

/** Revoke one access token by its `jti` (the HTTP layer verified the JWT). */
export interface RevokeAccessToken {
  readonly type: 'RevokeAccessToken';
  readonly jti: string;
  readonly clientId: string;
}

/** The `RevokeAccessToken` handler. */
export const revokeAccessToken: CommandHandler<RevokeAccessToken, RevocationOutcome> = {
  retryOnConflict: true,
  async decide(session, command, context) {
    const row = await findJti(context.db, command.jti);
    if (!row) return { outcome: 'unknown' };
    const grant = await session.loadExisting<TokenGrantContext>(grantStream(row.grantId));
    if (!constantTimeEqual(grant.context.clientId, command.clientId)) throw notYours();
    if (row.status !== 'active' || !grant.state.startsWith('live')) return { outcome: 'inactive', grantId: row.grantId };
    // A grant past its deadline the sweeper has not expired yet: its tokens are already dead (RFC 7009 §2.2).
    if (!session.accepts(grant.streamId, 'access_token.revoked', { jti: command.jti })) return { outcome: 'inactive', grantId: row.grantId };
    session.emit(grant.streamId, 'access_token.revoked', { jti: command.jti });
    return { outcome: 'revoked', grantId: row.grantId };
  },
};

/** An operator revokes a grant (`flowgate grants revoke`). */
export interface RevokeGrant {
  readonly type: 'RevokeGrant';
  readonly grantId: string;
}

/** The `RevokeGrant` handler. */
export const revokeGrant: CommandHandler<RevokeGrant, RevocationOutcome> = {
  retryOnConflict: true,
  async decide(session, command) {
    const grant = await session.load<TokenGrantContext>(grantStream(command.grantId));
    if (!grant.exists) return { outcome: 'unknown' };
    if (!grant.state.startsWith('live')) return { outcome: 'inactive', grantId: command.grantId };
    session.emit(grant.streamId, 'grant.revoked', { reason: 'operator' });
    return { outcome: 'revoked', grantId: command.grantId };
  },
};

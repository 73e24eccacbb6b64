/**
 * `RedeemCode`: the `authorization_code` grant (OAuth 2.1 §4.1.3).
 *
 * - Client authentication is the HTTP layer's; the command carries its result.
 * - A redemption that fails client binding, PKCE (RFC 7636 §4.6), the redirect URI or the
 *   resource changes nothing: no event, and the code stays redeemable until it expires or
 *   is redeemed (security-invariants §1.17-2, item 26).
 * - The first valid redemption records `code.redeemed` and creates the grant with its first
 *   tokens, in one append across the flow and grant streams.
 * - A later *valid* redemption — the loser of a concurrent race included — is a replay:
 *   `code.reuse_detected` on the flow and `grant.revoked` on the grant, in one append, then
 *   `invalid_grant` (OAuth 2.1 §4.1.3, RFC 9700 §4.2.4).
 *
 * @module
 */
import type { AuthorizationFlowContext } from '../../../machines/authorization-flow.js';
import { sha256Base64Url } from '../../crypto/random.js';
import { InvalidGrant, InvalidTarget } from '../../oauth/errors.js';
import { isValidCodeVerifier, s256Challenge } from '../../oauth/pkce.js';
import { findCodeByHash } from '../../projections/client-codes.js';
import { constantTimeEqual } from '../../crypto/random.js';
import { flowStream } from './flow-support.js';
import { grantStream, issueAccessToken, newRefreshToken, openSubject, type IssuedTokens } from './grant-support.js';
import { CommitThenThrow, type CommandHandler } from './types.js';

/** Redeem an authorization code. */
export interface RedeemCode {
  readonly type: 'RedeemCode';
  readonly code: string;
  /** The client the HTTP layer authenticated. */
  readonly clientId: string;
  readonly codeVerifier: string;
  /** `redirect_uri` as sent, or null when absent. */
  readonly redirectUri: string | null;
  /** The configured resource the request named, or null when absent. */
  readonly resource: string | null;
  /** Whether the client may have a refresh token (its grant types). */
  readonly issueRefreshToken: boolean;
}

const INVALID = 'the authorization code is invalid, expired or was issued to another client';

/** The `RedeemCode` handler. */
export const redeemCode: CommandHandler<RedeemCode, IssuedTokens> = {
  retryOnConflict: true,
  async decide(session, command, context) {
    const codeHash = sha256Base64Url(command.code);
    const row = await findCodeByHash(context.db, codeHash);
    if (!row) throw new InvalidGrant(INVALID, { detail: 'no such code' });
    // Checks that must hold before anything is recorded (no event on failure).
    if (!constantTimeEqual(row.clientId, command.clientId)) throw new InvalidGrant(INVALID, { detail: 'code of another client' });
    if (!isValidCodeVerifier(command.codeVerifier)) throw new InvalidGrant('code_verifier is malformed', { detail: 'verifier syntax' });
    const verifierChallenge = s256Challenge(command.codeVerifier);
    if (!constantTimeEqual(verifierChallenge, row.codeChallenge)) {
      throw new InvalidGrant('code_verifier does not match the code challenge', { detail: 'PKCE mismatch' });
    }
    if (command.redirectUri !== null && command.redirectUri !== row.redirectUri) {
      throw new InvalidGrant('redirect_uri does not match the authorization request', { detail: 'redirect mismatch' });
    }
    if (command.resource !== null && command.resource !== row.resource) {
      throw new InvalidTarget('the resource does not match the authorization request');
    }

    const flow = await session.load<AuthorizationFlowContext>(flowStream(row.flowId));
    const presented = {
      codeHash,
      clientId: command.clientId,
      redirectUri: command.redirectUri,
      verifierChallenge,
      resource: command.resource,
    };
    if (flow.state === 'code_redeemed') {
      session.emit(flow.streamId, 'code.reuse_detected', presented);
      const grant = await session.load(grantStream(row.grantId));
      if (grant.exists && grant.state.startsWith('live')) {
        session.emit(grant.streamId, 'grant.revoked', { reason: 'code_reuse' });
      }
      throw new CommitThenThrow(new InvalidGrant('the authorization code was already used', { detail: 'code reuse detected' }));
    }
    if (flow.state !== 'code_issued') throw new InvalidGrant(INVALID, { detail: `flow in state ${flow.state}` });
    if (session.now >= flow.context.codeExpiresAt!) {
      session.emit(flow.streamId, 'flow.expired', {});
      throw new CommitThenThrow(new InvalidGrant('the authorization code has expired', { detail: 'code expired' }));
    }

    const subject = await openSubject(context, flow.events);
    if (subject === undefined) throw new InvalidGrant(INVALID, { detail: 'the subject was erased' });
    const received = flow.events.find((e) => e.type === 'upstream.tokens_received')!.data as { subjectRef: string };

    session.emit(flow.streamId, 'code.redeemed', presented);
    const refresh = command.issueRefreshToken ? newRefreshToken(context) : null;
    const absoluteExpiresAt = session.now + context.settings.refreshAbsoluteTtlMs;
    const grant = { grantId: row.grantId, clientId: row.clientId, resource: row.resource, absoluteExpiresAt };
    await session.load(grantStream(row.grantId));
    session.emit(grantStream(row.grantId), 'grant.created', {
      grantId: row.grantId,
      flowId: row.flowId,
      clientId: row.clientId,
      subjectRef: received.subjectRef,
      scopes: [...row.scopes],
      resource: row.resource,
      refreshTokenHash: refresh?.hash ?? null,
      absoluteExpiresAt,
      idleTtlMs: context.settings.refreshIdleTtlMs,
      graceMs: context.settings.refreshGraceMs,
    });
    const access = await issueAccessToken(session, context, grant, subject, row.scopes);
    return {
      accessToken: access.accessToken,
      expiresIn: access.expiresIn,
      refreshToken: refresh?.token ?? null,
      scopes: row.scopes,
      grantId: row.grantId,
      jti: access.jti,
    };
  },
};

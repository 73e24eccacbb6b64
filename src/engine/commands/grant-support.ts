/**
 * Steps the token commands share: issuing an access token (signed before the append, so a
 * committed grant never lacks its token) and a refresh token (only its hash is kept).
 *
 * @module
 */
import type { TokenGrantContext } from '../../../machines/token-grant.js';
import { sha256Base64Url } from '../../crypto/random.js';
import { subjectKeyId } from '../../crypto/vault.js';
import type { StoredEvent } from '../../store/types.js';
import type { EngineContext } from '../context.js';
import type { Session } from '../session.js';

/** The stream id of a grant. */
export function grantStream(grantId: string): string {
  return `grant:${grantId}`;
}

/** Tokens as the token endpoint returns them (RFC 6749 §5.1). */
export interface IssuedTokens {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly refreshToken: string | null;
  readonly scopes: readonly string[];
  readonly grantId: string;
  readonly jti: string;
}

/**
 * Emits `access_token.issued` and signs the JWT for it. The token lives
 * `accessTokenTtlMs`, but never past the grant's absolute deadline: a verifier that only
 * holds the JWKS (RFC 9068) cannot see the grant end, so `exp` (and `expires_in`, RFC 6749
 * §5.1) must not promise more than the grant has left.
 */
export async function issueAccessToken(
  session: Session,
  context: EngineContext,
  grant: { grantId: string; clientId: string; resource: string; absoluteExpiresAt: number },
  subject: string,
  scopes: readonly string[],
): Promise<{ accessToken: string; jti: string; expiresIn: number }> {
  const jti = context.random.id();
  const expiresAt = Math.min(session.now + context.settings.accessTokenTtlMs, grant.absoluteExpiresAt);
  const accessToken = await context.signer.sign({
    sub: subject,
    aud: grant.resource,
    client_id: grant.clientId,
    scope: scopes.join(' '),
    jti,
    iat: Math.floor(session.now / 1000),
    exp: Math.floor(expiresAt / 1000),
  });
  session.emit(grantStream(grant.grantId), 'access_token.issued', { jti, expiresAt, scopes: [...scopes] });
  return { accessToken, jti, expiresIn: Math.max(0, Math.floor((expiresAt - session.now) / 1000)) };
}

/** A new refresh token (256 bits) and the hash the log keeps. */
export function newRefreshToken(context: EngineContext): { token: string; hash: string } {
  const token = context.random.token(32);
  return { token, hash: sha256Base64Url(token) };
}

/** The upstream subject of a flow, opened from its `upstream.tokens_received` event. */
export async function openSubject(context: EngineContext, flowEvents: readonly StoredEvent[]): Promise<string | undefined> {
  const received = flowEvents.find((e) => e.type === 'upstream.tokens_received');
  if (!received) return undefined;
  const data = received.data as { subjectRef: string; subjectSealed: string };
  const opened = await context.vault.open(subjectKeyId(data.subjectRef), 'subject', data.subjectSealed);
  return opened.ok ? opened.value : undefined;
}

/** The subject of a grant, opened from its flow. */
export async function grantSubject(session: Session, context: EngineContext, grant: TokenGrantContext): Promise<string | undefined> {
  const flow = await session.load(`flow:${grant.flowId}`);
  return openSubject(context, flow.events);
}

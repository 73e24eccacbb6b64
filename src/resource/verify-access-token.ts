/**
 * What an MCP server calls on every request: `verifyAccessToken(token, { resource })`
 * (RFC 9068 §4, RFC 6750). It checks the signature with the keyring's key for the token's
 * `kid`, `typ: at+jwt`, the exact `iss`, the exact `aud` (always the configured resource
 * string, whatever spelling the client sent), `exp`, and that the token's `jti` and its
 * grant are still active — so a revocation takes effect at the next request. Refresh
 * tokens, ID tokens and upstream tokens are refused: they are not flowgate JWTs of this
 * shape.
 *
 * @module
 */
import type { Kysely } from 'kysely';
import type { AccessTokenVerifier } from '../keys/access-token-verifier.js';
import { InvalidToken } from '../oauth/errors.js';
import { findJti } from '../projections/jti-mappings.js';
import type { UpstreamTokenService } from './upstream-tokens.js';

/** A verified access token. */
export interface VerifiedAccess {
  /** The upstream subject (the JWT's `sub`). */
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** The resource the token is for (its `aud`). */
  readonly resource: string;
  /** Expiry, in seconds since the epoch (RFC 7519 `exp`). */
  readonly expiresAt: number;
  readonly jti: string;
  readonly grantId: string;
  /** The upstream access token of the grant, refreshed first when it expired. Never hand it to a client. */
  upstreamAccessToken(): Promise<string>;
}

/** Options of {@link AccessTokenGate.verify}. */
export interface VerifyOptions {
  /** The resource the request is for; default: the default configured resource. */
  readonly resource?: string;
}

/** Verifies flowgate's access tokens against the keyring and the jti projection. */
export class AccessTokenGate {
  constructor(
    private readonly deps: {
      readonly verifier: AccessTokenVerifier;
      readonly db: Kysely<any>;
      readonly resources: readonly string[];
      readonly defaultResource: string;
      readonly upstreamTokens: UpstreamTokenService;
    },
  ) {}

  /** Verifies `token` for `options.resource`; throws `InvalidToken` with a reason for logs. */
  async verify(token: string, options: VerifyOptions = {}): Promise<VerifiedAccess> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) {
      throw new InvalidToken('the access token is invalid', { detail: 'empty or oversized token' });
    }
    const resource = this.#resource(options.resource);
    const claims = await this.deps.verifier.verify(token, { audience: resource });
    const mapping = await findJti(this.deps.db, claims.jti);
    if (!mapping) throw new InvalidToken('the access token is invalid', { detail: 'unknown jti' });
    if (mapping.status !== 'active') throw new InvalidToken('the access token was revoked', { detail: 'jti revoked' });
    const grantId = mapping.grantId;
    const upstream = this.deps.upstreamTokens;
    return {
      subject: claims.sub,
      clientId: claims.client_id,
      scopes: claims.scope ? claims.scope.split(' ') : [],
      resource,
      expiresAt: claims.exp,
      jti: claims.jti,
      grantId,
      upstreamAccessToken: () => upstream.accessToken(grantId),
    };
  }

  /** The configured spelling of a resource the caller names (the default when it names none). */
  #resource(requested: string | undefined): string {
    if (requested === undefined) return this.deps.defaultResource;
    const normalize = (uri: string) => uri.replace(/\/+$/, '');
    const found = this.deps.resources.find((r) => r === requested || normalize(r) === normalize(requested));
    if (!found) throw new InvalidToken('the access token is invalid', { detail: `unknown resource ${requested}` });
    return found;
  }
}

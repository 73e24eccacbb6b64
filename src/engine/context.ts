/**
 * What command handlers may use: the store's read views, the vault, settings, randomness
 * and the access-token signer. The clock is the session's (one `now` per command).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Vault } from '../crypto/vault.js';
import type { EventStore } from '../store/event-store.js';
import type { EngineSettings } from './settings.js';

/** Random values (injected so tests can control them). */
export interface Random {
  /** A secret of `bytes` bytes (default 32 = 256 bits), base64url. */
  token(bytes?: number): string;
  /** A 128-bit identifier, base64url. */
  id(): string;
}

/** The operating system's CSPRNG. */
export const cryptoRandom: Random = {
  token: (bytes = 32) => randomBytes(bytes).toString('base64url'),
  id: () => randomBytes(16).toString('base64url'),
};

/** The claims of a flowgate access token (RFC 9068 §2.2), before signing. */
export interface AccessTokenClaims {
  readonly sub: string;
  readonly aud: string;
  readonly client_id: string;
  readonly scope: string;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
}

/** Signs access tokens (the keyring, src/keys/); `iss`, `typ` and `kid` are its business. */
export interface AccessTokenSigner {
  sign(claims: AccessTokenClaims): Promise<string>;
}

/** Everything a command handler gets besides its session. */
export interface EngineContext {
  readonly store: EventStore;
  readonly db: Kysely<any>;
  readonly vault: Vault;
  readonly settings: EngineSettings;
  readonly random: Random;
  readonly signer: AccessTokenSigner;
  /** The upstream issuer, part of the subject reference (the same `sub` at two IdPs is two people). */
  readonly upstreamIssuer: string;
}

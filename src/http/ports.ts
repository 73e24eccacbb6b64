/**
 * What the HTTP layer needs from the rest of flowgate, as narrow ports (declared by their
 * consumer, as fosite declares its storage interfaces).
 *
 * @module
 */
import type { Kysely } from 'kysely';
import type { Engine } from '../engine/engine.js';
import type { OAuthError } from '../oauth/errors.js';
import type { CookieKeys } from './cookies.js';
import type { ServerSettings } from './settings.js';
import type { JsonValue } from '../events/canonical-json.js';
import type { AccessTokenGate } from '../resource/verify-access-token.js';
import type { UpstreamTokenService } from '../resource/upstream-tokens.js';
import type { CimdResolution } from '../cimd/clients.js';

/** The keyring as the HTTP layer sees it. */
export interface KeysPort {
  /** The JSON Web Key Set published at `jwks_uri` (RFC 7517 §5). */
  jwks(): Promise<{ readonly keys: readonly unknown[] }>;
  /** The keys that sign and verify cookies and CSRF tokens. */
  cookieKeys(): Promise<CookieKeys>;
}

/** Who signed in upstream, and the tokens to seal. */
export interface UpstreamSignInResult {
  readonly subject: string;
  readonly claims: Readonly<Record<string, JsonValue>>;
  readonly tokenSet: Readonly<Record<string, JsonValue>>;
  readonly expiresAt: number | null;
  readonly refreshable: boolean;
}

/** The upstream identity provider, as the HTTP layer sees it. */
export interface UpstreamPort {
  /** A name people recognise on the consent page ("GitHub", or the issuer's host). */
  readonly displayName: string;
  /** The upstream authorization URL for this flow (flowgate's own state, PKCE and nonce). */
  authorizationUrl(input: { state: string; codeChallenge: string; nonce: string; redirectUri: string }): Promise<URL>;
  /** Validates the callback and exchanges the code. Throws on any failure. */
  signIn(input: {
    callbackUrl: URL;
    expectedState: string;
    codeVerifier: string;
    redirectUri: string;
    nonceHash: string | null;
  }): Promise<UpstreamSignInResult>;
  /** The OAuth error the MCP client should see for an upstream failure (never upstream text). */
  clientError(error: unknown, during: 'exchange' | 'refresh'): OAuthError;
  /** The code to pass on for the callback's `error` parameter. */
  authorizationErrorCode(error: string): string;
}

/** Counts rejections that change no state (bad PKCE, CSRF, binding, client auth). */
export interface SecurityEventsPort {
  record(kind: string, clientId?: string): Promise<void>;
}

/** A bounded per-key rate limiter. */
export interface RateLimiterPort {
  /** True when `key` may act now (and counts the attempt). */
  take(key: string): boolean;
}

/** A structured logger (pino-compatible subset). */
export interface LoggerPort {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Client ID metadata documents (CIMD), present when `cimd.enabled`. */
export interface CimdPort {
  /** Whether `clientId` is a metadata-document URL this instance would fetch (no I/O). */
  handles(clientId: string): boolean;
  /** Fetches or reuses the document, keeps the client in the log, and returns it (or why not). */
  resolve(clientId: string): Promise<CimdResolution>;
}

/** Everything the handlers get. */
export interface HttpDeps {
  readonly settings: ServerSettings;
  readonly engine: Engine;
  readonly db: Kysely<any>;
  readonly keys: KeysPort;
  readonly upstream: UpstreamPort;
  readonly securityEvents: SecurityEventsPort;
  readonly registrationLimiter: RateLimiterPort;
  readonly log: LoggerPort;
  readonly clock: () => number;
  /** Verifies flowgate's access tokens (introspection, revocation of access tokens). */
  readonly gate: AccessTokenGate;
  /** The grants' upstream tokens (refresh before a client refresh). */
  readonly upstreamTokens: UpstreamTokenService;
  /** Metadata-document clients, when `cimd.enabled`. */
  readonly cimd?: CimdPort;
  /** The upstream app's client id, when `clients.upstreamClientIdFallback` is on (fastmcp #3949). */
  readonly upstreamClientIdFallback?: string;
}

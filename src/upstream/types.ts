/**
 * What the upstream client returns: token sets, identities, sign-in results.
 *
 * @module
 */
import type { JsonValue } from '../events/canonical-json.js';

/**
 * The upstream's token response as a plain JSON object (RFC 6749 §5.1): `access_token`,
 * `token_type` (lower-cased by oauth4webapi), `expires_in`, `refresh_token`, `scope`,
 * `id_token` and whatever else the upstream sent. Secret: the caller seals it before it
 * reaches the log, and it never reaches an MCP client.
 */
export type UpstreamTokenSet = Readonly<Record<string, JsonValue>>;

/**
 * Identity claims taken from the upstream, when present: `email`, `email_verified`, `name`,
 * `preferred_username` (OIDC Core §5.1 names; GitHub's `login` becomes `preferred_username`).
 */
export type UpstreamClaims = Readonly<Record<string, string | boolean>>;

/** A token response, with what flowgate needs to know about it. */
export interface UpstreamTokens {
  readonly tokenSet: UpstreamTokenSet;
  /**
   * When the upstream access token expires (epoch ms, from `expires_in` counted from when
   * the request was sent), or `null` when the upstream gave no `expires_in`.
   */
  readonly expiresAt: number | null;
  /** The token set has a refresh token. */
  readonly refreshable: boolean;
  /** The response's `scope` (RFC 6749 §5.1) when present, else the scopes requested. */
  readonly grantedScopes: readonly string[];
}

/** Who signed in upstream. */
export interface UpstreamIdentity {
  /** The upstream subject: the ID token's `sub`, or `subjectField` of the user API, stringified. */
  readonly subject: string;
  readonly claims: UpstreamClaims;
}

/** The result of a successful code exchange: identity and tokens. */
export interface UpstreamSignIn extends UpstreamTokens, UpstreamIdentity {}

/**
 * Public types of the loopback upstream IdP (oidc-provider based) used by flowgate's tests
 * and demo. Deliberately free of oidc-provider types so that importing them costs nothing
 * and does not require the devDependency.
 *
 * @module
 */

/** How the upstream behaves towards flowgate. */
export type UpstreamIdpMode = 'oidc' | 'github';

/** A statically registered client of the upstream IdP (always `application_type: 'native'`). */
export interface UpstreamIdpClient {
  readonly client_id: string;
  /** Required unless `token_endpoint_auth_method` is `'none'`. */
  readonly client_secret?: string;
  /** Loopback URIs match on any port (RFC 8252), exact otherwise. */
  readonly redirect_uris: readonly string[];
  /** Default: `client_secret_basic` with a secret, `none` without one. */
  readonly token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | 'none';
}

/** An end user who can sign in at the upstream login page; the map key is the username and `sub`. */
export interface UpstreamIdpUser {
  readonly password: string;
  readonly name: string;
  readonly email: string;
  /** Numeric id reported by the GitHub-like `/user` (default: derived from the user's position). */
  readonly id?: number;
}

/** Token lifetimes in seconds (every one is a number, so oidc-provider prints no notices). */
export interface UpstreamIdpTtl {
  readonly AccessToken?: number;
  readonly RefreshToken?: number;
  readonly AuthorizationCode?: number;
  readonly IdToken?: number;
  readonly Interaction?: number;
  readonly Session?: number;
  readonly Grant?: number;
}

/** Options of {@link startUpstreamIdp}; everything but `clients` has a default. */
export interface UpstreamIdpOptions {
  /** Port on 127.0.0.1; 0 (default) picks an ephemeral one. */
  readonly port?: number;
  /** `'oidc'` (default) or a GitHub-like plain OAuth 2 upstream. */
  readonly mode?: UpstreamIdpMode;
  readonly clients: readonly UpstreamIdpClient[];
  /** Default: alice/alice and bob/bob. */
  readonly users?: Readonly<Record<string, UpstreamIdpUser>>;
  readonly ttl?: UpstreamIdpTtl;
  /** Rotate the refresh token on every use (default true). */
  readonly rotateRefreshToken?: boolean;
  /** Prefix of every oidc-provider cookie name (default `idp_`). */
  readonly cookiePrefix?: string;
  /** Hide oidc-provider's runtime/default-value warnings and notices (default true). */
  readonly quiet?: boolean;
  /**
   * Signing algorithm of id_tokens (default `ES256`, EC P-256 key only). `RS256` also
   * generates an RSA-2048 key, which costs 70–350 ms at start.
   */
  readonly idTokenAlg?: 'ES256' | 'RS256';
  /** Called with oidc-provider's error events (`grant.error`, `server_error`, …) and their detail. */
  readonly onError?: (event: string, error: Error & { error_description?: string; error_detail?: string }) => void;
}

/** A fault injected into `POST /token`. */
export type TokenFault = (
  | { readonly kind: 'error'; readonly status: number; readonly error: string; readonly error_description?: string }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'drop' }
) & {
  /** Only requests with this grant type are affected (default: all). */
  readonly grantType?: 'authorization_code' | 'refresh_token';
  /** How many requests are affected before the fault clears itself (default: unlimited). */
  readonly times?: number;
};

/** Live counters of an upstream IdP (mutated in place as requests arrive). */
export interface UpstreamIdpStats {
  /** `POST /token` requests by `grant_type` (faulted requests included). */
  readonly tokenRequests: { authorization_code: number; refresh_token: number; other: number; total: number };
  /** Token requests answered by an injected fault. */
  faultsInjected: number;
  /** Successful `POST /interaction/:uid` logins. */
  logins: number;
  /** Logins refused for a wrong username or password. */
  failedLogins: number;
  /** Logins cancelled with the Cancel button. */
  cancelledLogins: number;
  /** `GET /user` calls (GitHub mode), whatever their outcome. */
  userCalls: number;
  /** `GET /user/emails` calls (GitHub mode), whatever their outcome. */
  userEmailsCalls: number;
}

/** Absolute URLs of the upstream's endpoints. */
export interface UpstreamIdpEndpoints {
  readonly authorization: string;
  readonly token: string;
  readonly userinfo: string;
  readonly jwks: string;
  readonly revocation: string;
  readonly introspection: string;
  readonly discovery: string;
  /** GitHub mode only: `GET /user`. */
  readonly user?: string;
  /** GitHub mode only: `GET /user/emails`. */
  readonly userEmails?: string;
}

/** A running upstream IdP. */
export interface UpstreamIdp {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly issuer: string;
  readonly port: number;
  readonly mode: UpstreamIdpMode;
  readonly endpoints: UpstreamIdpEndpoints;
  readonly stats: UpstreamIdpStats;
  /** Injects (or with `null` clears) a fault on `POST /token`. */
  setTokenFault(fault: TokenFault | null): void;
  /** Zeroes {@link stats}. */
  resetStats(): void;
  /** Deletes every access token, refresh token and authorization code (sessions survive). */
  revokeAllTokens(): void;
  /** Closes the server and every open connection. */
  close(): Promise<void>;
}

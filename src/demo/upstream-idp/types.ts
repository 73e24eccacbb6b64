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
  /** Required for `client_secret_basic` and `client_secret_post`. */
  readonly client_secret?: string;
  /** Loopback URIs match on any port (RFC 8252), exact otherwise. */
  readonly redirect_uris: readonly string[];
  /** Default: `client_secret_basic` with a secret, `none` without one. */
  readonly token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | 'none' | 'private_key_jwt';
  /** `private_key_jwt` (RFC 7523 §2.2): the client's public keys, as JWKs. */
  readonly jwks?: { readonly keys: readonly Readonly<Record<string, unknown>>[] };
  /** `private_key_jwt`: the only `alg` accepted for its assertions (default: any the IdP supports). */
  readonly token_endpoint_auth_signing_alg?: string;
}

/** An end user who can sign in at the upstream login page; the map key is the username and `sub`. */
export interface UpstreamIdpUser {
  readonly password: string;
  readonly name: string;
  readonly email: string;
  /** Numeric id reported by the GitHub-like `/user` (default: derived from the user's position). */
  readonly id?: number;
  /** More claims of this user (e.g. Entra's `tid`, `oid`); released in ID tokens when named in `idTokenClaims`. */
  readonly claims?: Readonly<Record<string, string | number | boolean>>;
}

/** oidc-provider routes whose paths a {@link UpstreamIdpLayout} may change. */
export type UpstreamIdpRoute = 'authorization' | 'token' | 'userinfo' | 'jwks' | 'revocation' | 'introspection' | 'end_session';

/**
 * Where the IdP's endpoints live, to give it a real provider's URL shapes: Okta's
 * `/oauth2/<id>/v1/…`, Keycloak's `/realms/<realm>/protocol/openid-connect/…`, Entra's
 * `/<tenant>/oauth2/v2.0/…` with a `…/<tid>/v2.0` issuer, GitHub's `/login/oauth/…`.
 */
export interface UpstreamIdpLayout {
  /** Path prefix of every oidc-provider route, e.g. `/oauth2/default`, `/realms/demo`, `/common`. Default: none. */
  readonly mountPath?: string;
  /**
   * Path of the issuer identifier, `http://127.0.0.1:<port><issuerPath>`. Default: `mountPath`.
   * `'/'` gives an issuer with a trailing slash (Auth0).
   */
  readonly issuerPath?: string;
  /** Route paths, relative to `mountPath`, replacing oidc-provider's defaults (`/auth`, `/token`, …). */
  readonly routes?: Partial<Record<UpstreamIdpRoute, string>>;
  /**
   * More absolute paths answering with the discovery document, optionally stating another
   * `issuer` (Entra's `common` says `…/{tenantid}/v2.0`; `{origin}` in it stands for
   * `http://127.0.0.1:<port>`).
   */
  readonly discoveryAliases?: readonly { readonly path: string; readonly issuer?: string }[];
  /** Prefix of the GitHub-like API (`/api/v3` as on GitHub Enterprise Server). Default: none. */
  readonly apiPrefix?: string;
}

/** How successful token responses (code exchange and refresh) are rewritten before they leave the IdP. */
export interface UpstreamIdpTokenResponse {
  /** `form`: `application/x-www-form-urlencoded`, whatever the `Accept` header asked (GitHub's default form). */
  readonly format?: 'json' | 'form';
  /** Members removed (GitHub OAuth apps: `expires_in`, `refresh_token`). */
  readonly omit?: readonly string[];
  /** Members set or replaced (GitHub Apps: `refresh_token_expires_in`, `scope: ''`). */
  readonly set?: Readonly<Record<string, string | number>>;
  /** Separator of `scope` (GitHub: `,`). Default `' '`. */
  readonly scopeSeparator?: ' ' | ',';
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
  /** Paths and issuer shape of a real provider (default: oidc-provider's own, issuer = origin). */
  readonly layout?: UpstreamIdpLayout;
  /** Send RFC 9207 `iss` in authorization responses and say so in discovery (default true; GitHub and Entra do not). */
  readonly authorizationResponseIss?: boolean;
  /** Serve discovery documents (default true; GitHub has none: 404). */
  readonly discovery?: boolean;
  /** Rewrites successful token responses (default: oidc-provider's JSON as is). */
  readonly tokenResponse?: UpstreamIdpTokenResponse;
  /** Scope used when an authorization request names none (GitHub Apps take no scope; default: none, so oidc-provider refuses). */
  readonly defaultScope?: string;
  /**
   * When refresh tokens are issued. `always` (default): to every client allowed the grant.
   * `google-offline`: only for `access_type=offline`, and then only on a user's first
   * authorization of the client or with `prompt=consent` (Google's rule).
   */
  readonly refreshTokenPolicy?: 'always' | 'google-offline';
  /** More scopes to register (oidc-provider silently drops unregistered ones), e.g. `api://app/access_as_user`. */
  readonly scopes?: readonly string[];
  /** User claims (from {@link UpstreamIdpUser.claims}) added to every ID token, e.g. Entra's `tid`, `oid`. */
  readonly idTokenClaims?: readonly string[];
  /**
   * `private_key_jwt`: the one assertion `aud` accepted. Default: oidc-provider's rule (the
   * issuer, the token endpoint or the endpoint called). `token_endpoint` as Okta and Entra
   * document it, `issuer` as Auth0 does.
   */
  readonly clientAssertionAudience?: 'issuer' | 'token_endpoint';
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
  /** The query of every new authorization request (`GET` of the authorization route), in order. */
  authorizationRequests: Readonly<Record<string, string>>[];
}

/** Absolute URLs of the upstream's endpoints. */
export interface UpstreamIdpEndpoints {
  readonly authorization: string;
  readonly token: string;
  readonly userinfo: string;
  readonly jwks: string;
  readonly revocation: string;
  readonly introspection: string;
  /** The discovery document (the layout's first discovery alias, when it has one). */
  readonly discovery: string;
  /** GitHub mode only: `GET /user`. */
  readonly user?: string;
  /** GitHub mode only: `GET /user/emails`. */
  readonly userEmails?: string;
}

/** A running upstream IdP. */
export interface UpstreamIdp {
  /** `http://127.0.0.1:<port>`, no trailing slash, plus the layout's `issuerPath` if any. */
  readonly issuer: string;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
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

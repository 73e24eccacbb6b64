/**
 * flowgate's client of the upstream IdP: ONE confidential OAuth client with one fixed
 * redirect URI, built on oauth4webapi. Metadata is discovered lazily and cached (a failed
 * discovery is retried on the next call); `fetch` and the clock are injectable.
 *
 * @module
 */
import * as oauth from 'oauth4webapi';
import { ConfigError } from '../config/errors.js';
import { upstreamConfigSchema, type UpstreamConfig, type UpstreamConfigInput } from '../config/schema.js';
import { buildAuthorizationUrl, type AuthorizationUrlParams } from './authorization-url.js';
import { clientAuthentication, clockSkewSeconds, type UpstreamContext } from './context.js';
import { exchangeCode, type ExchangeCodeParams } from './exchange-code.js';
import { oauth2Issuer, resolveMetadata, type ResolvedMetadata } from './metadata.js';
import { presetFor, type UpstreamPreset } from './providers/index.js';
import { refreshTokens } from './refresh.js';
import { revokeTokens } from './revoke.js';
import { requestedScopes } from './scopes.js';
import { upstreamFetch } from './transport.js';
import type { UpstreamSignIn, UpstreamTokens, UpstreamTokenSet } from './types.js';
import type { UpstreamOperation } from './upstream-error.js';

/** What can be injected into an {@link UpstreamClient}. */
export interface UpstreamClientOptions {
  /** The `fetch` every upstream request goes through (oauth4webapi's `customFetch`). Default: global `fetch`. */
  readonly fetch?: typeof globalThis.fetch;
  /** Epoch milliseconds; also shifts oauth4webapi's JWT time checks. Default `Date.now`. */
  readonly clock?: () => number;
}

/**
 * The upstream client.
 *
 * @example
 * ```ts
 * const upstream = createUpstreamClient({ kind: 'oidc', issuer: 'https://accounts.example', clientId: 'flowgate', clientSecret });
 * const url = await upstream.authorizationUrl({ state, codeChallenge, nonce, redirectUri });
 * // … the browser signs in and comes back to redirectUri …
 * const signIn = await upstream.exchangeCode({ callbackUrl, expectedState: state, codeVerifier, nonce, redirectUri });
 * ```
 */
export class UpstreamClient {
  readonly config: UpstreamConfig;
  /** The configured provider preset (src/upstream/providers/), if any. */
  readonly preset: UpstreamPreset | undefined;
  /** The scopes requested upstream (configured, or the preset's or kind's default), as configured: before a preset translates them. */
  readonly scopes: readonly string[];
  readonly #fetch: typeof globalThis.fetch;
  readonly #clock: () => number;
  #metadata: Promise<ResolvedMetadata> | undefined;
  #allowInsecure = false;
  readonly #context: UpstreamContext;

  constructor(config: UpstreamConfig, options: UpstreamClientOptions = {}) {
    this.config = Object.freeze({
      ...config,
      ...(config.scopes === undefined ? {} : { scopes: Object.freeze([...config.scopes]) as string[] }),
      extraAuthorizeParams: Object.freeze({ ...config.extraAuthorizeParams }),
      extraTokenParams: Object.freeze({ ...config.extraTokenParams }),
    });
    this.scopes = requestedScopes(config);
    this.preset = presetFor(config.preset);
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#clock = options.clock ?? Date.now;
    const auth = clientAuthentication(this.config);
    this.#context = {
      config: this.config,
      preset: this.preset,
      issuerRule: this.preset?.issuerRule?.(this.config),
      jwksCache: {},
      scopes: this.scopes,
      clock: this.#clock,
      metadata: async () => (await this.#resolve()).as,
      http: (operation) => this.#http(operation, this.#allowInsecure),
      client: () => ({ client_id: this.config.clientId, [oauth.clockSkew]: clockSkewSeconds(this.#clock) }),
      clientAuth: () => auth,
    };
  }

  /** The upstream's issuer identifier: the configured one, or for `oauth2` the authorization endpoint's origin by default. */
  get issuer(): string {
    return this.config.kind === 'oidc' ? this.config.issuer! : oauth2Issuer(this.config);
  }

  #http(operation: UpstreamOperation, allowInsecure: boolean): oauth.HttpRequestOptions<string, any> {
    return {
      [oauth.customFetch]: upstreamFetch({ fetch: this.#fetch, timeoutMs: this.config.timeoutMs, operation }),
      // Only when every upstream URL is loopback; otherwise oauth4webapi enforces https.
      ...(allowInsecure ? { [oauth.allowInsecureRequests]: true } : {}),
    };
  }

  /**
   * The upstream's name for people, as on the consent page: `upstream.displayName`, the
   * preset's ("GitHub", "Google" …), else the host of the issuer or authorization endpoint.
   */
  get displayName(): string {
    if (this.config.displayName !== undefined) return this.config.displayName;
    const from = this.config.issuer ?? this.config.authorizationEndpoint;
    return from !== undefined && URL.canParse(from) ? new URL(from).host : 'your identity provider';
  }

  #resolve(): Promise<ResolvedMetadata> {
    this.#metadata ??= resolveMetadata(this.config, (allowInsecure) => this.#http('discovery', allowInsecure), this.#context.issuerRule).then(
      (resolved) => {
        this.#allowInsecure = resolved.allowInsecure;
        return resolved;
      },
      (error: unknown) => {
        this.#metadata = undefined; // retried on the next call
        throw error;
      },
    );
    return this.#metadata;
  }

  /**
   * The authorization server metadata in use (discovered or built from the configuration;
   * RFC 8414 §2). Throws an {@link UpstreamError} (operation `discovery`).
   */
  async metadata(): Promise<Readonly<oauth.AuthorizationServer>> {
    return { ...(await this.#resolve()).as };
  }

  /**
   * flowgate's fixed callback URL at the upstream: `baseUrl` + `upstream.redirectPath`.
   *
   * @example
   * ```ts
   * upstream.redirectUri('https://mcp.example/'); // 'https://mcp.example/auth/callback'
   * ```
   */
  redirectUri(baseUrl: string | URL): string {
    const base = new URL(baseUrl);
    base.pathname = `${base.pathname.replace(/\/+$/, '')}${this.config.redirectPath}`;
    base.search = '';
    base.hash = '';
    return base.href;
  }

  /** The upstream authorization URL (RFC 6749 §4.1.1; see `authorization-url.ts`). */
  authorizationUrl(params: AuthorizationUrlParams): Promise<URL> {
    return buildAuthorizationUrl(this.#context, params);
  }

  /** Validates the callback and exchanges its code (RFC 6749 §4.1.3; see `exchange-code.ts`). */
  exchangeCode(params: ExchangeCodeParams): Promise<UpstreamSignIn> {
    return exchangeCode(this.#context, params);
  }

  /** Refreshes an upstream token set (RFC 6749 §6; see `refresh.ts`). */
  refresh(tokenSet: UpstreamTokenSet): Promise<UpstreamTokens> {
    return refreshTokens(this.#context, tokenSet);
  }

  /** Revokes an upstream token set (RFC 7009); `false` when the upstream has no revocation endpoint. */
  revoke(tokenSet: UpstreamTokenSet): Promise<boolean> {
    return revokeTokens(this.#context, tokenSet);
  }

  /**
   * True when an upstream access token expiring at `expiresAt` (epoch ms, `null` = unknown)
   * should be treated as expired now: `upstream.refreshThresholdSeconds` early.
   */
  isExpiring(expiresAt: number | null, issuedAt?: number): boolean {
    if (expiresAt === null) return false;
    let threshold = this.config.refreshThresholdSeconds * 1000;
    // A token that lives shorter than twice the threshold would always look "about to expire":
    // for it, refresh in the second half of its life instead.
    if (issuedAt !== undefined && expiresAt > issuedAt) threshold = Math.min(threshold, (expiresAt - issuedAt) / 2);
    return this.#clock() >= expiresAt - threshold;
  }
}

/**
 * Validates an upstream section (as in the configuration file) and creates its client.
 * Throws a {@link ConfigError} naming every wrong option.
 */
export function createUpstreamClient(input: UpstreamConfigInput, options?: UpstreamClientOptions): UpstreamClient {
  const parsed = upstreamConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ path: ['upstream', ...issue.path.map(String)].join('.'), message: issue.message })),
    );
  }
  return new UpstreamClient(parsed.data, options);
}

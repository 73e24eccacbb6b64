/**
 * An `OAuthClientProvider` for the official MCP SDK client that needs no human: its
 * `redirectToAuthorization(url)` drives a {@link HeadlessBrowser} through flowgate's consent
 * page and the upstream login to the client's loopback redirect URI (which nothing listens
 * on), checks `state` and `iss` there and keeps the code for `transport.finishAuth(code)`.
 *
 * Storage is in memory and holds exactly what the SDK hands over (`saveClientInformation`
 * and `saveTokens` arguments carry the SDK's `issuer` stamp; reference §7 item 12). One
 * provider is one client installation: several transports and clients may share it.
 */
import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { randomToken } from '../../../src/crypto/random.js';
import type { HeadlessBrowser, NavigationResult } from '../browser.js';

/** How the browser gets through the pages (defaults: alice/alice, Approve, Sign in). */
export interface BrowserScript {
  readonly fields?: Readonly<Record<string, string>>;
  readonly buttons?: readonly string[];
}

/** Options of {@link HeadlessOAuthProvider}. */
export interface HeadlessOAuthProviderOptions {
  readonly browser: HeadlessBrowser;
  /** Loopback redirect URI registered by dynamic registration; nothing has to listen on it. */
  readonly redirectUrl?: string;
  readonly clientName?: string;
  readonly script?: BrowserScript;
}

/** The credential sets `invalidateCredentials` may drop. */
export type CredentialScope = 'all' | 'client' | 'tokens' | 'verifier' | 'discovery';

/** One run of the browser (one `redirectToAuthorization`). */
export interface BrowserRun {
  readonly authorizationUrl: URL;
  readonly result: NavigationResult;
}

/** A headless, in-memory OAuth client for the MCP SDK. */
export class HeadlessOAuthProvider implements OAuthClientProvider {
  readonly browser: HeadlessBrowser;
  readonly #redirectUrl: string;
  readonly #metadata: OAuthClientMetadata;
  readonly #script: Required<BrowserScript>;

  // What the SDK stored, unchanged.
  #clientInformation: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #codeVerifier: string | undefined;
  #discovery: OAuthDiscoveryState | undefined;
  /** States handed out and not yet seen back (the SDK may run several flows at once). */
  readonly #states = new Set<string>();
  #pendingCode: string | undefined;

  /** Every browser run, oldest first (the test counts them). */
  readonly browserRuns: BrowserRun[] = [];
  /** Every `invalidateCredentials` call, oldest first. */
  readonly invalidations: CredentialScope[] = [];
  /** Every `saveTokens` argument, oldest first. */
  readonly savedTokens: OAuthTokens[] = [];
  /** Every `saveClientInformation` argument, oldest first. */
  readonly savedClients: OAuthClientInformationMixed[] = [];

  constructor(options: HeadlessOAuthProviderOptions) {
    this.browser = options.browser;
    this.#redirectUrl = options.redirectUrl ?? 'http://127.0.0.1:53682/callback';
    this.#metadata = {
      client_name: options.clientName ?? 'flowgate e2e (MCP SDK client)',
      redirect_uris: [this.#redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
    this.#script = {
      fields: options.script?.fields ?? { username: 'alice', password: 'alice' },
      buttons: options.script?.buttons ?? ['Approve', 'Sign in'],
    };
  }

  get redirectUrl(): string {
    return this.#redirectUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return this.#metadata;
  }

  state(): string {
    const state = randomToken(16);
    this.#states.add(state);
    return state;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#clientInformation;
  }

  saveClientInformation(clientInformation: OAuthClientInformationMixed): void {
    this.savedClients.push(clientInformation);
    this.#clientInformation = clientInformation;
  }

  tokens(): OAuthTokens | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.savedTokens.push(tokens);
    this.#tokens = tokens;
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#codeVerifier = codeVerifier;
  }

  codeVerifier(): string {
    if (this.#codeVerifier === undefined) throw new Error('no code verifier saved');
    return this.#codeVerifier;
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.#discovery = state;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#discovery;
  }

  invalidateCredentials(scope: CredentialScope): void {
    this.invalidations.push(scope);
    if (scope === 'all' || scope === 'client') this.#clientInformation = undefined;
    if (scope === 'all' || scope === 'tokens') this.#tokens = undefined;
    if (scope === 'all' || scope === 'verifier') this.#codeVerifier = undefined;
    if (scope === 'all' || scope === 'discovery') this.#discovery = undefined;
  }

  /**
   * Runs the browser from the authorization URL to the redirect URI: consent (Approve),
   * upstream login (alice/alice, Sign in), callback, and stops at the loopback redirect.
   * Checks `state` (the SDK does not; reference §7 item 11) and RFC 9207 `iss`.
   */
  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.#pendingCode = undefined;
    const sentState = authorizationUrl.searchParams.get('state');
    if (sentState === null || !this.#states.has(sentState)) {
      throw new Error(`the SDK sent state ${String(sentState)}, which this provider did not make`);
    }
    this.#states.delete(sentState);
    const redirect = new URL(this.#redirectUrl);
    const result = await this.browser.navigate(authorizationUrl, {
      stopAt: (u) => u.origin === redirect.origin && u.pathname === redirect.pathname,
      fields: this.#script.fields,
      button: this.#script.buttons,
    });
    this.browserRuns.push({ authorizationUrl, result });
    const trace = result.trace.map((t) => `  ${t.method} ${redactUrl(t.url)} -> ${t.status}`).join('\n');
    if (result.reason !== 'stopAt' || !result.stoppedAt) {
      throw new Error(`the browser did not reach ${this.#redirectUrl} (${result.reason}, status ${result.status}):\n${trace}\n${result.body.slice(0, 500)}`);
    }
    const params = result.stoppedAt.searchParams;
    if (params.get('state') !== sentState) {
      throw new Error(`state mismatch at the redirect URI: got ${String(params.get('state'))}, expected ${sentState}`);
    }
    const issuer = this.#discovery?.authorizationServerUrl;
    if (issuer !== undefined && params.get('iss') !== null && params.get('iss')!.replace(/\/$/, '') !== issuer.replace(/\/$/, '')) {
      throw new Error(`iss mismatch at the redirect URI: got ${String(params.get('iss'))}, expected ${issuer}`);
    }
    if (params.has('error')) {
      throw new Error(`authorization failed: ${params.get('error')} ${params.get('error_description') ?? ''}\n${trace}`);
    }
    const code = params.get('code');
    if (!code) throw new Error(`no code at the redirect URI\n${trace}`);
    this.#pendingCode = code;
  }

  /** The code of the last browser run, once (for `transport.finishAuth`). */
  takeAuthorizationCode(): string {
    const code = this.#pendingCode;
    if (code === undefined) throw new Error('no authorization code: the browser has not run, or its code was taken');
    this.#pendingCode = undefined;
    return code;
  }
}

/** A URL with the values of secret-looking query parameters truncated. */
export function redactUrl(url: string | URL): string {
  const u = new URL(url);
  for (const [key, value] of [...u.searchParams]) {
    if (/code|state|token|secret|verifier|challenge|nonce|csrf/i.test(key)) u.searchParams.set(key, truncate(value));
  }
  return `${u.pathname}${u.search}`;
}

/** The first few characters of a secret. */
export function truncate(secret: string): string {
  return secret.length <= 8 ? '…' : `${secret.slice(0, 6)}…`;
}

/**
 * A real upstream identity provider on 127.0.0.1 for flowgate's tests and demo:
 * `panva/oidc-provider` with a plain HTML login page, an OIDC or GitHub-like mode, a
 * per-instance store, fault injection on `POST /token` and request counters.
 *
 * oidc-provider is a devDependency; it is imported lazily, and a missing install gives an
 * error that says how to install it.
 *
 * @module
 */
import { createServer, type Server } from 'node:http';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AddressInfo } from 'node:net';
import { randomToken } from '../crypto/random.js';
import { MapAdapterStore } from './upstream-idp/adapter.js';
import { buildConfiguration, DEFAULT_TTL, DEFAULT_USERS, resolveRoutes } from './upstream-idp/config.js';
import { GITHUB_API_PATHS, githubApi } from './upstream-idp/github-api.js';
import { renderErrorPage } from './upstream-idp/html.js';
import { loginInteraction } from './upstream-idp/interaction.js';
import { generateSigningKeys } from './upstream-idp/keys.js';
import { loadOidcProvider } from './upstream-idp/load-provider.js';
import { mountedHandler, normalisePath } from './upstream-idp/mount.js';
import { GoogleOfflinePolicy, strictAssertionAudience } from './upstream-idp/policies.js';
import { authorizationQuirks, discoveryQuirks, tokenResponseQuirks } from './upstream-idp/quirks.js';
import { acquireQuietConsole } from './upstream-idp/quiet.js';
import { TokenFaults } from './upstream-idp/token-faults.js';
import type {
  UpstreamIdp,
  UpstreamIdpEndpoints,
  UpstreamIdpLayout,
  UpstreamIdpOptions,
  UpstreamIdpStats,
} from './upstream-idp/types.js';

export type {
  TokenFault,
  UpstreamIdp,
  UpstreamIdpClient,
  UpstreamIdpEndpoints,
  UpstreamIdpLayout,
  UpstreamIdpMode,
  UpstreamIdpOptions,
  UpstreamIdpRoute,
  UpstreamIdpStats,
  UpstreamIdpTokenResponse,
  UpstreamIdpTtl,
  UpstreamIdpUser,
} from './upstream-idp/types.js';
export { DEFAULT_TTL, DEFAULT_USERS } from './upstream-idp/config.js';
export { INVALID_LOGIN_MESSAGE } from './upstream-idp/interaction.js';

/** oidc-provider events forwarded to `onError` (and to stderr with `IDP_DEBUG=1`). */
const ERROR_EVENTS = [
  'server_error',
  'authorization.error',
  'grant.error',
  'introspection.error',
  'revocation.error',
  'userinfo.error',
  'end_session.error',
  'jwks.error',
  'discovery.error',
] as const;

function emptyStats(): UpstreamIdpStats {
  return {
    tokenRequests: { authorization_code: 0, refresh_token: 0, other: 0, total: 0 },
    faultsInjected: 0,
    logins: 0,
    failedLogins: 0,
    cancelledLogins: 0,
    userCalls: 0,
    userEmailsCalls: 0,
    authorizationRequests: [],
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Listens to `authorization.success`, which oidc-provider emits with the response members
 * (`out`) still open to change; its type declarations omit that second argument.
 */
function onAuthorized(
  provider: { on(event: 'authorization.success', listener: (ctx: KoaContextWithOIDC) => void): unknown },
  listener: (ctx: KoaContextWithOIDC, out: { code?: string; iss?: string }) => void,
): void {
  provider.on('authorization.success', listener as (ctx: KoaContextWithOIDC) => void);
}

/**
 * Starts an upstream IdP on 127.0.0.1 (`port` 0 = ephemeral). The issuer is exactly
 * `http://127.0.0.1:<port>` (plus the layout's `issuerPath`). Resolves once it accepts requests.
 */
export async function startUpstreamIdp(options: UpstreamIdpOptions): Promise<UpstreamIdp> {
  if (options.clients.length === 0) throw new TypeError('startUpstreamIdp: at least one client is required');
  const mode = options.mode ?? 'oidc';
  const users = options.users ?? DEFAULT_USERS;
  const layout: UpstreamIdpLayout = options.layout ?? {};
  const mountPath = normalisePath('layout.mountPath', layout.mountPath);
  const issuerPath = layout.issuerPath === '/' ? '/' : layout.issuerPath === undefined ? mountPath : normalisePath('layout.issuerPath', layout.issuerPath);
  const apiPrefix = normalisePath('layout.apiPrefix', layout.apiPrefix);
  const routes = resolveRoutes(layout.routes);
  const aliases = (layout.discoveryAliases ?? []).map((a) => ({ ...a, path: normalisePath('layout.discoveryAliases.path', a.path) }));
  const issResponses = options.authorizationResponseIss ?? true;
  const release = options.quiet === false ? () => {} : acquireQuietConsole();
  const server = createServer();
  const store = new MapAdapterStore();

  try {
    const { Provider, interactionPolicy, errors } = await loadOidcProvider();
    const keysPromise = generateSigningKeys(options.idTokenAlg === 'RS256');
    // Listen first: the issuer must be known (with its real port) before `new Provider`.
    const port = await listen(server, options.port ?? 0);
    const origin = `http://127.0.0.1:${port}`;
    const issuer = origin + issuerPath;
    const stats = emptyStats();
    const faults = new TokenFaults();
    const google = options.refreshTokenPolicy === 'google-offline' ? new GoogleOfflinePolicy() : undefined;
    const assertionAudience = options.clientAssertionAudience;

    const provider = new Provider(
      issuer,
      buildConfiguration({
        mode,
        routes,
        mountPath,
        extraScopes: options.scopes ?? [],
        idTokenClaims: options.idTokenClaims ?? [],
        extraParams: google ? ['access_type'] : [],
        ...(google ? { issueRefreshToken: google.issues } : {}),
        ...(assertionAudience
          ? { assertClientAssertion: strictAssertionAudience(assertionAudience, (message) => new errors.InvalidClientAuth(message)) }
          : {}),
        clients: options.clients,
        users,
        ttl: { ...DEFAULT_TTL, ...options.ttl },
        rotateRefreshToken: options.rotateRefreshToken ?? true,
        cookiePrefix: options.cookiePrefix ?? 'idp_',
        cookieKeys: [randomToken()],
        keys: await keysPromise,
        idTokenAlg: options.idTokenAlg ?? 'ES256',
        adapter: store.factory,
        basePolicy: interactionPolicy.base,
        renderError: (ctx, out) => {
          ctx.type = 'text/html; charset=utf-8';
          ctx.body = renderErrorPage('Upstream sign-in error', { ...out });
        },
      }),
    );

    const debug = process.env.IDP_DEBUG === '1';
    for (const event of ERROR_EVENTS) {
      provider.on(event as 'server_error', (_ctx: unknown, error: Error & { error_detail?: string }) => {
        options.onError?.(event, error);
        if (debug) console.error(`[upstream-idp ${port}] ${event}: ${error.message} ${error.error_detail ?? ''}`);
      });
    }

    if (!issResponses) {
      // GitHub and Entra send no RFC 9207 `iss`; oidc-provider always does. The listener runs
      // before the response is built from `out`.
      onAuthorized(provider, (_ctx, out) => void delete out.iss);
    }
    if (google) onAuthorized(provider, google.onAuthorized);

    provider.use(faults.middleware(routes.token, stats));
    if (options.tokenResponse) provider.use(tokenResponseQuirks(routes.token, options.tokenResponse));
    provider.use(discoveryQuirks({ enabled: options.discovery ?? true, authorizationResponseIss: issResponses }));
    provider.use(authorizationQuirks({ path: routes.authorization, stats, defaultScope: options.defaultScope }));
    provider.use(loginInteraction({ provider, issuer, users, stats, mountPath }));
    if (mode === 'github') provider.use(githubApi({ provider, users, stats, prefix: apiPrefix }));
    const discoveryAliases = aliases.map((a) => (a.issuer === undefined ? a : { ...a, issuer: a.issuer.replaceAll('{origin}', origin) }));
    server.on('request', mountedHandler({ mountPath, discoveryAliases }, provider.callback()));

    const base = origin + mountPath;
    const endpoints: UpstreamIdpEndpoints = {
      authorization: base + routes.authorization,
      token: base + routes.token,
      userinfo: base + routes.userinfo,
      jwks: base + routes.jwks,
      revocation: base + routes.revocation,
      introspection: base + routes.introspection,
      discovery: aliases[0] ? origin + aliases[0].path : `${base}/.well-known/openid-configuration`,
      ...(mode === 'github'
        ? { user: origin + apiPrefix + GITHUB_API_PATHS.user, userEmails: origin + apiPrefix + GITHUB_API_PATHS.userEmails }
        : {}),
    };

    let closing: Promise<void> | undefined;
    return {
      issuer,
      origin,
      port,
      mode,
      endpoints,
      stats,
      setTokenFault: (fault) => faults.set(fault),
      resetStats: () => {
        const fresh = emptyStats();
        Object.assign(stats.tokenRequests, fresh.tokenRequests); // in place: callers may hold references
        Object.assign(stats, { ...fresh, tokenRequests: stats.tokenRequests });
      },
      revokeAllTokens: () => store.dropTokens(),
      close: () =>
        (closing ??= closeServer(server).finally(() => {
          store.close();
          release();
        })),
    };
  } catch (error) {
    await closeServer(server);
    store.close();
    release();
    throw error;
  }
}

/**
 * Builds the oidc-provider configuration of the upstream IdP from its options.
 *
 * @module
 */
import type { Configuration, ClientMetadata, JWK, KoaContextWithOIDC, interactionPolicy } from 'oidc-provider';
import type { UpstreamIdpClient, UpstreamIdpMode, UpstreamIdpRoute, UpstreamIdpTtl, UpstreamIdpUser } from './types.js';

/** oidc-provider's routes (the defaults), fixed so that endpoint URLs can be computed without a request. */
export const ROUTES = {
  authorization: '/auth',
  token: '/token',
  userinfo: '/me',
  jwks: '/jwks',
  revocation: '/token/revocation',
  introspection: '/token/introspection',
  end_session: '/session/end',
  pushed_authorization_request: '/request',
} as const;

/** The routes in use: {@link ROUTES} with a layout's replacements. */
export type Routes = Record<keyof typeof ROUTES, string>;

/** {@link ROUTES} with `overrides` applied. */
export function resolveRoutes(overrides: Partial<Record<UpstreamIdpRoute, string>> = {}): Routes {
  const routes: Routes = { ...ROUTES };
  for (const [name, path] of Object.entries(overrides)) {
    if (!/^\/[A-Za-z0-9\-._~/]*$/.test(path)) throw new TypeError(`layout.routes.${name} must be a path, got ${JSON.stringify(path)}`);
    routes[name as UpstreamIdpRoute] = path;
  }
  return routes;
}

/** Default users: alice/alice and bob/bob. */
export const DEFAULT_USERS: Readonly<Record<string, UpstreamIdpUser>> = {
  alice: { password: 'alice', name: 'Alice Example', email: 'alice@example.test' },
  bob: { password: 'bob', name: 'Bob Example', email: 'bob@example.test' },
};

/** Default lifetimes in seconds (every one a number: no oidc-provider notices). */
export const DEFAULT_TTL: Required<UpstreamIdpTtl> = {
  AccessToken: 60,
  AuthorizationCode: 60,
  IdToken: 60,
  RefreshToken: 3600,
  Interaction: 600,
  Session: 3600,
  Grant: 3600,
};

/** Scopes each mode registers (unregistered scopes are silently dropped by oidc-provider). */
export const MODE_SCOPES: Readonly<Record<UpstreamIdpMode, readonly string[]>> = {
  oidc: ['openid', 'email', 'profile', 'offline_access'],
  github: ['openid', 'offline_access', 'repo', 'read:user', 'user:email'],
};

/** What {@link buildConfiguration} needs. */
export interface ConfigurationInput {
  readonly mode: UpstreamIdpMode;
  readonly routes: Routes;
  /** Path prefix the IdP is served under (`''` at the root). */
  readonly mountPath: string;
  /** Scopes registered besides the mode's. */
  readonly extraScopes: readonly string[];
  /** User claims released in every ID token. */
  readonly idTokenClaims: readonly string[];
  /** Authorization parameters oidc-provider keeps (it drops unknown ones). */
  readonly extraParams: readonly string[];
  /** Whether a refresh token is issued for the token request in `ctx` (beyond the client's grant types). */
  readonly issueRefreshToken?: (ctx: KoaContextWithOIDC) => boolean;
  /** Extra checks of a `private_key_jwt` assertion (throws to refuse it). */
  readonly assertClientAssertion?: (ctx: KoaContextWithOIDC, claims: Record<string, unknown>) => void;
  readonly clients: readonly UpstreamIdpClient[];
  readonly users: Readonly<Record<string, UpstreamIdpUser>>;
  readonly ttl: Required<UpstreamIdpTtl>;
  readonly rotateRefreshToken: boolean;
  readonly cookiePrefix: string;
  readonly cookieKeys: readonly string[];
  readonly keys: readonly JWK[];
  readonly idTokenAlg: 'ES256' | 'RS256';
  readonly adapter: NonNullable<Configuration['adapter']>;
  /** oidc-provider's `interactionPolicy.base` (from the lazily loaded module). */
  readonly basePolicy: () => interactionPolicy.DefaultPolicy;
  /** Renders oidc-provider's error page (HTML, escaped). */
  readonly renderError: NonNullable<Configuration['renderError']>;
}

function clientMetadata(client: UpstreamIdpClient, idTokenAlg: 'ES256' | 'RS256'): ClientMetadata {
  const method = client.token_endpoint_auth_method ?? (client.client_secret ? 'client_secret_basic' : 'none');
  const secretBased = method === 'client_secret_basic' || method === 'client_secret_post';
  return {
    client_id: client.client_id,
    ...(secretBased ? { client_secret: client.client_secret } : {}),
    ...(client.jwks ? { jwks: { keys: client.jwks.keys.map((key) => ({ ...key })) } } : {}),
    ...(client.token_endpoint_auth_signing_alg
      ? { token_endpoint_auth_signing_alg: client.token_endpoint_auth_signing_alg as ClientMetadata['token_endpoint_auth_signing_alg'] }
      : {}),
    redirect_uris: [...client.redirect_uris],
    token_endpoint_auth_method: method,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    application_type: 'native',
    id_token_signed_response_alg: idTokenAlg,
  };
}

/** Looks a user up by username; own properties only (no `__proto__` or `toString` users). */
export function findUser(
  users: Readonly<Record<string, UpstreamIdpUser>>,
  username: string,
): UpstreamIdpUser | undefined {
  return Object.hasOwn(users, username) ? users[username] : undefined;
}

/**
 * The interaction policy: login as usual; consent only when something is missing, which
 * `loadExistingGrant` prevents. The default policy asks native clients for consent on every
 * authorization (`native_client_prompt`), which would add a needless interaction.
 */
export function buildInteractionPolicy(base: () => interactionPolicy.DefaultPolicy): interactionPolicy.DefaultPolicy {
  const policy = base();
  policy.get('consent')?.checks.remove('native_client_prompt');
  return policy;
}

/** The oidc-provider configuration (without interaction middleware, which is mounted separately). */
export function buildConfiguration(input: ConfigurationInput): Configuration {
  const { users } = input;
  const openid = ['sub', ...input.idTokenClaims];
  const claims: Configuration['claims'] =
    input.mode === 'oidc'
      ? { openid, email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] }
      : { openid };
  const grantLifetime = Math.max(input.ttl.Grant, input.ttl.RefreshToken);

  return {
    clients: input.clients.map((client) => clientMetadata(client, input.idTokenAlg)),
    jwks: { keys: [...input.keys] },
    adapter: input.adapter,
    routes: { ...input.routes },
    scopes: [...new Set([...MODE_SCOPES[input.mode], ...input.extraScopes])],
    ...(input.extraParams.length > 0 ? { extraParams: [...input.extraParams] } : {}),
    claims,
    findAccount: (_ctx, sub) => {
      const user = findUser(users, sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: () => ({
          ...user.claims,
          sub,
          email: user.email,
          email_verified: true,
          name: user.name,
          preferred_username: sub,
        }),
      };
    },
    cookies: {
      names: {
        session: `${input.cookiePrefix}session`,
        interaction: `${input.cookiePrefix}interaction`,
        resume: `${input.cookiePrefix}interaction_resume`,
      },
      keys: [...input.cookieKeys],
    },
    pkce: { required: () => true },
    issueRefreshToken: (ctx, client) =>
      client.grantTypeAllowed('refresh_token') && (input.issueRefreshToken === undefined || input.issueRefreshToken(ctx)),
    expiresWithSession: () => false,
    rotateRefreshToken: input.rotateRefreshToken,
    // Skip consent: the upstream shows only its login page. The grant is created or
    // extended with whatever was requested (OAuth 2.1 lets the AS decide what to ask).
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const { account, client, session } = ctx.oidc;
      if (!account || !client || !session) return undefined;
      const provider = ctx.oidc.provider;
      const grantId = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      let grant = grantId ? await provider.Grant.find(grantId) : undefined;
      if (grant && (grant.accountId !== account.accountId || grant.clientId !== client.clientId)) grant = undefined;
      grant ??= new provider.Grant({ accountId: account.accountId, clientId: client.clientId });
      grant.addOIDCScope(ctx.oidc.requestParamOIDCScopes);
      if (ctx.oidc.requestParamClaims.size > 0) grant.addOIDCClaims(ctx.oidc.requestParamClaims);
      await grant.save();
      return grant;
    },
    ttl: { ...input.ttl, Grant: grantLifetime, Session: Math.max(input.ttl.Session, input.ttl.RefreshToken) },
    clientBasedCORS: () => false,
    ...(input.assertClientAssertion
      ? {
          assertJwtClientAuthClaimsAndHeader: async (ctx: KoaContextWithOIDC, claims: Record<string, unknown>) =>
            input.assertClientAssertion!(ctx, claims),
        }
      : {}),
    renderError: input.renderError,
    interactions: {
      policy: buildInteractionPolicy(input.basePolicy),
      url: (_ctx, interaction) => `${input.mountPath}/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => sameClientOrConfidential(client, token),
      },
      // A client may revoke only its own tokens (others' are ignored, as RFC 7009 allows).
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      // Off: a request without `resource` gets an ordinary opaque access token.
      resourceIndicators: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
  };
}

/** A public client may only introspect or revoke its own tokens; confidential ones any. */
function sameClientOrConfidential(
  client: { clientId: string; clientAuthMethod?: string | undefined },
  token: { clientId?: string | undefined },
): boolean {
  return client.clientAuthMethod !== 'none' || token.clientId === client.clientId;
}

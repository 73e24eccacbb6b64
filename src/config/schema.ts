/**
 * flowgate's one configuration object, validated by zod. Every option has a documented
 * default; docs/configuration.md is generated from this schema (`npm run docs:config`),
 * so the reference cannot drift from the code. Later features add their sections here.
 *
 * @module
 */
import { z } from 'zod';
import { consentSchema, registrationSchema, serverSchema, staticClientSchema } from './server-schema.js';
import { gatewaySchema, serveSchema } from './serve-schema.js';
import { ASSERTION_ALGS, clientAssertionProblems } from '../upstream/client-assertion.js';
import { upstreamUrlProblem } from '../upstream/loopback.js';
import { presetProblems, resolveUpstreamSection, UPSTREAM_PRESET_NAMES, type UpstreamPresetName } from '../upstream/providers/index.js';
import { RESERVED_UPSTREAM_PARAMS, isReservedUpstreamParam } from '../upstream/reserved-params.js';

/** Where and how the event log is stored. */
export const storeConfigSchema = z
  .strictObject({
    sqlitePath: z
      .string()
      .min(1)
      .optional()
      .describe('SQLite database file. Default: `<dataDir>/flowgate.db`. `:memory:` keeps everything in memory (tests).'),
    synchronous: z
      .enum(['FULL', 'NORMAL'])
      .default('FULL')
      .describe(
        'SQLite `synchronous` pragma. `FULL` makes every acknowledged append survive a power cut (a consumed code never comes back); `NORMAL` is faster and may lose the last commits on power loss.',
      ),
    busyTimeoutMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(5000)
      .describe('How long a SQLite writer waits for another process holding the write lock, in milliseconds.'),
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional()
      .describe('PostgreSQL connection URL. PostgreSQL is used if and only if this is set; otherwise SQLite.'),
    postgresSchema: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a plain SQL identifier (letters, digits, underscore)')
      .default('public')
      .describe("PostgreSQL schema holding flowgate's tables; created when missing."),
    poolSize: z.number().int().min(1).max(200).default(10).describe('PostgreSQL connection pool size per instance.'),
  })
  .describe('The event store.');

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

/** Lifetimes of an authorization flow's steps. */
export const flowsConfigSchema = z
  .strictObject({
    ttlSeconds: seconds(60, 3600)
      .default(900)
      .describe('How long a flow may take from `/authorize` to the code (consent and upstream login included).'),
    codeTtlSeconds: seconds(10, 600)
      .default(300)
      .describe("Lifetime of flowgate's authorization codes (OAuth 2.1 §4.1.2 asks for a short one)."),
    upstreamStateTtlSeconds: seconds(60, 3600)
      .default(600)
      .describe('The upstream `state` is single-use and expires after this long.'),
    sweepIntervalSeconds: seconds(0, 86_400)
      .default(300)
      .describe(
        'How often each instance expires overdue flows and codes, grants past their lifetime and unused clients in the log. 0 turns it off (then run `flowgate sweep` from cron); expired records are refused either way.',
      ),
  })
  .describe('Authorization flows.');

/** Token lifetimes and refresh policy. */
export const tokensConfigSchema = z
  .strictObject({
    accessTokenTtlSeconds: seconds(10, 86_400)
      .default(3600)
      .describe("Lifetime of flowgate's access tokens (JWT), independent of the upstream's; never past the grant's absolute deadline (`refreshAbsoluteTtlSeconds`)."),
    refreshIdleTtlSeconds: seconds(60, 31_536_000)
      .default(2_592_000)
      .describe('A grant dies after this long without a refresh (default 30 days).'),
    refreshAbsoluteTtlSeconds: seconds(60, 63_072_000)
      .default(7_776_000)
      .describe('A grant dies this long after it was created, however active (default 90 days).'),
    refreshGraceSeconds: seconds(0, 300)
      .default(0)
      .describe(
        'Grace window G for a just-rotated refresh token. 0 (strict): every reuse, a concurrent loser included, revokes the family. G > 0: the first reuse within G seconds of the rotation rotates again.',
      ),
    upstreamRefreshLeaseSeconds: seconds(5, 300)
      .default(30)
      .describe('How long one instance holds the lease to refresh a grant\'s upstream tokens before another may take over.'),
  })
  .describe('Tokens.');

/** Client registrations. */
export const clientsConfigSchema = z
  .strictObject({
    unusedExpirySeconds: seconds(0, 315_360_000)
      .default(7_776_000)
      .describe('Dynamically registered clients unused this long expire (default 90 days); 0 = never.'),
    touchIntervalSeconds: seconds(60, 604_800)
      .default(86_400)
      .describe("How often at most a client's use is recorded in the log."),
    static: z
      .array(staticClientSchema)
      .default([])
      .describe('Clients registered by configuration (public, or confidential with `clientSecret`); kept in step with the log at start.'),
    upstreamClientIdFallback: z
      .boolean()
      .default(false)
      .describe(
        'Accept the upstream app\'s own client id (`upstream.clientId`) at `/authorize` as a public client, for MCP clients that skip registration and send it directly (fastmcp #3949). Off by default. Risk: that id is public, so any application can claim it, and its name on the consent page proves nothing; it registers no redirect URI, so the request\'s redirect URI is accepted when it matches `registration.redirectPatterns` — which must therefore be set (flowgate refuses to start otherwise). Keep the patterns as narrow as the clients you expect (e.g. `http://127.0.0.1`, `https://claude.ai/api/mcp/auth_callback`).',
      ),
  })
  .describe('Clients.');

/** A host pattern of `cimd.allowedHosts`: a DNS name, or `*.` and a DNS name. */
const cimdHostPattern = z
  .string()
  .regex(
    /^(\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/,
    'must be a lowercase DNS name with at least one dot, optionally starting with *. (any subdomain, never the name itself)',
  );

/** Client ID metadata documents (MCP 2025-11-25): an https URL as `client_id`. */
export const cimdConfigSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'Accept an https URL as `client_id` and fetch the client\'s metadata document from it (advertised as `client_id_metadata_document_supported`). The fetch refuses hosts that resolve to any private, loopback, link-local or otherwise special-use address, connects only to the address it checked, never follows redirects, and caps size and time (docs/cimd.md).',
      ),
    timeoutMs: z
      .number()
      .int()
      .min(100)
      .max(30_000)
      .default(5000)
      .describe('One deadline for resolving the host, connecting and reading the document, in milliseconds.'),
    maxBytes: z
      .number()
      .int()
      .min(512)
      .max(65_536)
      .default(5120)
      .describe('Largest metadata document accepted, in bytes (the CIMD draft suggests 5 KB); enforced while reading.'),
    cacheSeconds: z
      .number()
      .int()
      .min(0)
      .max(86_400)
      .default(600)
      .describe(
        'Longest time a validated document is reused before it is fetched again (per instance, at most 1000 documents). A shorter `Cache-Control: max-age` wins; `no-store` or `no-cache` means it is fetched every time. Failures are never cached.',
      ),
    allowedHosts: z
      .array(cimdHostPattern)
      .optional()
      .describe('When set, only documents on these hosts are fetched (`app.example.com`, or `*.example.com` for its subdomains); other URL client ids are unknown clients. Default: any public host.'),
  })
  .describe('Client ID metadata documents.');

/** An upstream URL: https, or http on a loopback host (checked in {@link upstreamConfigSchema}). */
const upstreamUrl = z.string().min(1);

/** RFC 6749 §3.3 `scope-token`. */
const scopeToken = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be one RFC 6749 §3.3 scope token (no spaces or quotes)');

const extraParams = (where: string) =>
  z
    .record(z.string().min(1), z.string())
    .default({})
    .describe(
      `Extra parameters appended to ${where}. A preset's extra parameters are merged in, and these win key by key. Neither can ever replace the parameters flowgate sets itself (${RESERVED_UPSTREAM_PARAMS.join(', ')}); such keys are refused, whatever their case.`,
    );

/** The URL-valued options of the upstream section (https, or http on loopback only). */
const UPSTREAM_URL_FIELDS = [
  'issuer',
  'authorizationEndpoint',
  'tokenEndpoint',
  'userinfoEndpoint',
  'emailsEndpoint',
  'jwksUri',
  'revocationEndpoint',
] as const;

const presetOption = (presets: string, what: string) => z.string().min(1).optional().describe(`Preset ${presets} only: ${what}`);

/** `private_key_jwt` (RFC 7523 §2.2): the key flowgate signs its client assertions with. */
const clientAssertionSchema = z
  .strictObject({
    privateKey: z
      .union([z.string().min(1), z.record(z.string(), z.unknown())])
      .describe(
        'The private key: a JWK object (with its private members) or a PEM private key (PKCS#8, PKCS#1 or SEC1). RSA, EC P-256/P-384/P-521 or Ed25519. Register the public half at the upstream. Keep it out of files under version control.',
      ),
    kid: z.string().min(1).optional().describe('`kid` header of the assertions. Default: the JWK\'s `kid`, if any.'),
    alg: z
      .enum(ASSERTION_ALGS)
      .optional()
      .describe('Signature algorithm. Default: the JWK\'s `alg`, else RS256 for RSA, ES256/ES384/ES512 for EC by curve, EdDSA for Ed25519.'),
    audience: z
      .enum(['token_endpoint', 'issuer'])
      .optional()
      .describe(
        '`aud` of the assertions: the upstream\'s token endpoint URL (OIDC Core §9; Okta, Entra) or its issuer identifier (Auth0, Keycloak; draft-ietf-oauth-rfc7523bis). Default: the preset\'s, else `token_endpoint`. The same assertion audience is used for code exchange, refresh and revocation.',
      ),
    certificate: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A PEM certificate for the key, as uploaded to the upstream: its SHA-256 and SHA-1 thumbprints are sent as the `x5t#S256` and `x5t` headers, by which Microsoft Entra ID finds the credential. Checked to match the key.',
      ),
  })
  .describe('`private_key_jwt` client authentication.');

/** The `upstream` section as written, before a preset's defaults are applied. */
export const upstreamSectionSchema = z.strictObject({
  preset: z
    .enum(UPSTREAM_PRESET_NAMES as [UpstreamPresetName, ...UpstreamPresetName[]])
    .optional()
    .describe(
      'A provider preset that fills in defaults (kind, endpoints, scopes, extra parameters, display name) and handles the provider\'s quirks; explicit options always win. See docs/providers/.',
    ),
  kind: z
    .enum(['oidc', 'oauth2'])
    .optional()
    .describe(
      '`oidc`: an OpenID Provider, discovered from `issuer`, subject from the validated ID token. `oauth2`: a plain OAuth 2 provider such as GitHub, with static endpoints, subject from its user API. Required without a `preset` (which implies it).',
    ),
  displayName: z
    .string()
    .min(1)
    .max(80)
    .optional()
    .describe('The upstream\'s name on the consent page ("Sign in with …"). Default: the preset\'s ("GitHub", "Google", "Microsoft" …), else the issuer\'s host.'),
  issuer: upstreamUrl
    .optional()
    .describe(
      'Issuer identifier. Required for `oidc` (a preset computes it): metadata is discovered at `<issuer>/.well-known/openid-configuration`, falling back to RFC 8414 `/.well-known/oauth-authorization-server`, and its `issuer` must equal this value exactly (Entra `common`/`organizations`: the `{tenantid}` template). For `oauth2` it is optional (default: the origin of `authorizationEndpoint`) and is what an RFC 9207 `iss` in the authorization response must equal.',
    ),
  authorizationEndpoint: upstreamUrl
    .optional()
    .describe('Authorization endpoint. Required for `oauth2`; for `oidc` it overrides the discovered one.'),
  tokenEndpoint: upstreamUrl
    .optional()
    .describe('Token endpoint. Required for `oauth2`; for `oidc` it overrides the discovered one.'),
  userinfoEndpoint: upstreamUrl
    .optional()
    .describe(
      'For `oauth2` (required): the user API that names the signed-in user, e.g. `https://api.github.com/user`. For `oidc`: overrides the discovered UserInfo endpoint, used for claims the ID token lacks.',
    ),
  emailsEndpoint: upstreamUrl
    .optional()
    .describe(
      '`oauth2` only: an API listing the user\'s e-mail addresses (GitHub `https://api.github.com/user/emails`); the primary verified one is used, and it is called only when a granted scope allows it (`user:email` or `user`; preset `github-app`: always, a refusal meaning no address).',
    ),
  subjectField: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,64}$/, 'must be a plain field name')
    .default('id')
    .describe('`oauth2` only: the field of the user API response that identifies the user (stringified). GitHub: `id` (stable), never `login` (renamable).'),
  jwksUri: upstreamUrl.optional().describe('`oidc` only: overrides the discovered `jwks_uri` (ID token signature keys).'),
  revocationEndpoint: upstreamUrl
    .optional()
    .describe(
      'RFC 7009 revocation endpoint of the upstream, used with `revokeOnGrantRevocation`. For `oidc` the discovered `revocation_endpoint` is used when this is absent.',
    ),
  revokeOnGrantRevocation: z
    .boolean()
    .default(false)
    .describe(
      'When flowgate revokes a grant — its client revokes the refresh token at `/revoke`, an operator runs `flowgate grants revoke`, or flowgate detects a replayed code or a reused refresh token — also revoke that grant’s upstream tokens at the upstream’s revocation endpoint (only upstream tokens are ever sent). Off by default: at some providers (Google) revoking one token ends every token of the user for the app, so other MCP clients of the same user through flowgate would be signed out too.',
    ),
  clientId: z.string().min(1).describe("flowgate's client id at the upstream."),
  clientSecret: z
    .string()
    .min(1)
    .optional()
    .describe('Client secret at the upstream; required with `client_secret_basic` and `client_secret_post`. Keep it out of files under version control (a `.js` configuration can read it from the environment).'),
  clientAuthMethod: z
    .enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'])
    .optional()
    .describe(
      'How flowgate authenticates at the upstream token and revocation endpoints (RFC 6749 §2.3.1; `private_key_jwt`: RFC 7523 §2.2 with `clientAssertion`). Default: the preset\'s (GitHub: `client_secret_post`), else `client_secret_basic`.',
    ),
  clientAssertion: clientAssertionSchema.optional(),
  scopes: z
    .array(scopeToken)
    .optional()
    .describe(
      'Scopes requested upstream. Default: the preset\'s; without one `["openid","email","profile"]` for `oidc` (which must include `openid`), none for `oauth2`. Add `offline_access` (or the upstream\'s equivalent) to get refresh tokens.',
    ),
  redirectPath: z
    .string()
    .regex(/^\/[A-Za-z0-9\-._~/]*$/, 'must be an absolute path such as /auth/callback')
    .default('/auth/callback')
    .describe("Path of flowgate's one fixed callback at the upstream; register `<public URL><redirectPath>` there."),
  extraAuthorizeParams: extraParams('the upstream authorization request (e.g. Google `access_type=offline`, `prompt=consent`)'),
  extraTokenParams: extraParams('upstream token requests (code exchange and refresh)'),
  timeoutMs: z
    .number()
    .int()
    .min(100)
    .max(120_000)
    .default(10_000)
    .describe('Timeout of every upstream HTTP request in milliseconds; a timeout is a transient failure (`temporarily_unavailable`).'),
  refreshThresholdSeconds: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(60)
    .describe('An upstream access token is treated as expired this many seconds before its `expires_in` runs out, so it is refreshed before it fails.'),
  domain: presetOption('`auth0`, `okta`', 'the tenant\'s domain (`dev-123.us.auth0.com`, `example.okta.com`, or a custom domain); a host name means https.'),
  authorizationServerId: presetOption('`okta`', 'the custom authorization server (default `default`): issuer `https://<domain>/oauth2/<id>`.'),
  baseUrl: presetOption(
    '`keycloak`, `entra`, `github`, `github-app`',
    'Keycloak: the server URL (with `/auth` before Keycloak 17), issuer `<baseUrl>/realms/<realm>`. Entra: the authority (default `https://login.microsoftonline.com`; sovereign clouds differ). GitHub: a GitHub Enterprise Server URL (default `https://github.com`; API under `/api/v3`).',
  ),
  realm: presetOption('`keycloak`', 'the realm.'),
  tenant: presetOption('`entra`', 'the tenant id (GUID), a verified domain, or `common` / `organizations` (any work or school tenant) / `consumers`.'),
  allowedTenants: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe('Preset `entra` only, with tenant `common` or `organizations`: the tenant ids (GUIDs) whose users may sign in. Without it, any tenant may.'),
  audience: presetOption('`auth0`', 'the API identifier, sent as `audience` in the authorization request.'),
  scopePrefix: presetOption('`entra`', 'the application ID URI of your API with a trailing `/` (`api://<app id>/`): added to API scopes in `scopes` on the way up, removed from granted scopes on the way back.'),
});

/** The `upstream` section as written (validated, defaults not yet applied). */
export type UpstreamSection = z.output<typeof upstreamSectionSchema>;

/** A validated upstream section, every default filled in (a preset's included). */
export type UpstreamConfig = Omit<UpstreamSection, 'kind' | 'clientAuthMethod' | 'clientAssertion'> & {
  readonly kind: 'oidc' | 'oauth2';
  readonly clientAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
  readonly clientAssertion?: Omit<NonNullable<UpstreamSection['clientAssertion']>, 'audience'> & {
    readonly audience: 'token_endpoint' | 'issuer';
  };
};

type Problem = (path: readonly (string | number)[], message: string) => void;

/**
 * The checks of a resolved section (`section` is what was written, for messages;
 * `presetFailed`: the preset's own options were already found wrong, so what it could not
 * compute is not reported again).
 */
function checkUpstream(section: UpstreamSection, upstream: UpstreamConfig, problem: Problem, presetFailed: boolean): void {
  for (const field of UPSTREAM_URL_FIELDS) {
    const value = upstream[field];
    const why = value === undefined ? undefined : upstreamUrlProblem(value);
    if (why) problem([field], section[field] === undefined ? `${why} (computed by preset \`${section.preset}\`)` : why);
  }
  if (upstream.issuer !== undefined && URL.canParse(upstream.issuer)) {
    const issuer = new URL(upstream.issuer);
    // RFC 8414 §2: an issuer has no query or fragment.
    if (issuer.search !== '' || issuer.hash !== '' || upstream.issuer.includes('#') || upstream.issuer.includes('?')) {
      problem(['issuer'], 'an issuer has no query or fragment (RFC 8414 §2)');
    }
  }
  if (upstream.kind === 'oidc') {
    if (upstream.issuer === undefined && !presetFailed) problem(['issuer'], 'required for an `oidc` upstream');
    if (upstream.scopes !== undefined && !upstream.scopes.includes('openid')) {
      problem(['scopes'], 'an `oidc` upstream needs the `openid` scope (or use kind `oauth2`)');
    }
    if (upstream.emailsEndpoint !== undefined) problem(['emailsEndpoint'], 'only for an `oauth2` upstream');
  } else {
    for (const field of ['authorizationEndpoint', 'tokenEndpoint', 'userinfoEndpoint'] as const) {
      if (upstream[field] === undefined) problem([field], 'required for an `oauth2` upstream (there is no discovery)');
    }
    if (upstream.jwksUri !== undefined) problem(['jwksUri'], 'only for an `oidc` upstream');
    if (upstream.scopes?.includes('openid')) {
      problem(['scopes'], '`openid` asks for an ID token, which only an `oidc` upstream validates; use kind `oidc`');
    }
  }
  const method = upstream.clientAuthMethod;
  const secretBased = method === 'client_secret_basic' || method === 'client_secret_post';
  if (!secretBased && upstream.clientSecret !== undefined) problem(['clientSecret'], `must not be set when \`clientAuthMethod\` is \`${method}\``);
  if (secretBased && upstream.clientSecret === undefined) problem(['clientSecret'], `required with \`clientAuthMethod\` \`${method}\``);
  if (method === 'private_key_jwt') {
    if (upstream.clientAssertion === undefined) problem(['clientAssertion'], 'required with `clientAuthMethod` `private_key_jwt`');
    else for (const p of clientAssertionProblems(upstream.clientAssertion)) problem(['clientAssertion', ...p.path], p.message);
  } else if (upstream.clientAssertion !== undefined) {
    problem(['clientAssertion'], 'only with `clientAuthMethod` `private_key_jwt`');
  }
  for (const field of ['extraAuthorizeParams', 'extraTokenParams'] as const) {
    for (const key of Object.keys(upstream[field])) {
      if (isReservedUpstreamParam(key)) {
        const source = Object.hasOwn(section[field], key) ? '' : ` (set by preset \`${section.preset}\`)`;
        problem(
          [field, key],
          `"${key}" is set by flowgate itself and can never be overridden by an extra parameter${source} (reserved: ${RESERVED_UPSTREAM_PARAMS.join(', ')})`,
        );
      }
    }
  }
}

/**
 * The upstream identity provider flowgate signs users in with, as ONE confidential OAuth
 * client with one fixed redirect URI (src/upstream/). `oidc` discovers its endpoints from
 * `issuer`; `oauth2` (GitHub-like) is configured with static endpoints and never discovers.
 * A `preset` (src/upstream/providers/) fills in a provider's defaults first.
 */
export const upstreamConfigSchema = upstreamSectionSchema
  .superRefine((section, ctx) => {
    const problem: Problem = (path, message) => ctx.addIssue({ code: 'custom', path: [...path], message });
    let upstream: UpstreamConfig;
    try {
      upstream = resolveUpstreamSection(section);
    } catch {
      return; // a malformed section, already reported field by field
    }
    const presetIssues = presetProblems(section);
    for (const p of presetIssues) problem(p.path, p.message);
    checkUpstream(section, upstream, problem, presetIssues.length > 0);
  })
  .transform((section): UpstreamConfig => resolveUpstreamSection(section))
  .describe('The upstream identity provider (one confidential OAuth client).');

/** What a user may write in the upstream section. */
export type UpstreamConfigInput = z.input<typeof upstreamConfigSchema>;

/** Signing keys: the keyring of access-token, cookie and anchor keys (src/keys/). */
export const keysConfigSchema = z
  .strictObject({
    accessTokenAlg: z
      .enum(['ES256', 'EdDSA'])
      .default('ES256')
      .describe(
        'Signature algorithm of new access-token keys: `ES256` (P-256) or `EdDSA` (Ed25519). Changing it applies from the next key on (`flowgate keys rotate`); existing keys keep their algorithm.',
      ),
    anchorAlg: z
      .enum(['ES256', 'EdDSA'])
      .default('ES256')
      .describe('Signature algorithm of the audit-anchor key, chosen when that key is created (anchor keys never rotate).'),
    clockSkewSeconds: seconds(0, 300)
      .default(60)
      .describe(
        'Clock skew tolerated when verifying access tokens (`exp`, `iat`); also added to a retired key\'s `not_after`.',
      ),
    refreshSeconds: seconds(1, 60)
      .default(5)
      .describe(
        'How often an instance re-reads the keyring from the store, so another instance\'s rotation is seen within this time (a token with an unknown `kid` triggers a re-read at once).',
      ),
    cookieMaxAgeSeconds: seconds(60, 31_536_000)
      .default(86_400)
      .describe(
        'Longest lifetime of a signed cookie: a retired cookie key still verifies cookies for this long after its retirement (default 1 day).',
      ),
  })
  .describe('Signing keys.');

/** The whole configuration. */
export const configSchema = z
  .strictObject({
    dataDir: z
      .string()
      .min(1)
      .default('./.flowgate')
      .describe('Directory holding the SQLite database and, in development, generated keys.'),
    masterKey: z
      .string()
      .optional()
      .describe(
        'Master key of envelope encryption: 32 bytes as 43 base64url characters or 64 hex digits. Without it a development key is generated into the data directory (refused with PostgreSQL). Prefer `FLOWGATE_MASTER_KEY`.',
      ),
    server: serverSchema.prefault({}),
    serve: serveSchema.prefault({}),
    gateway: gatewaySchema.prefault({}),
    registration: registrationSchema.prefault({}),
    consent: consentSchema.prefault({}),
    store: storeConfigSchema.prefault({}),
    flows: flowsConfigSchema.prefault({}),
    tokens: tokensConfigSchema.prefault({}),
    clients: clientsConfigSchema.prefault({}),
    cimd: cimdConfigSchema.prefault({}),
    keys: keysConfigSchema.prefault({}),
    upstream: upstreamConfigSchema.optional(),
  })
  .superRefine((config, ctx) => {
    if (config.clients.upstreamClientIdFallback && config.registration.redirectPatterns.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['clients', 'upstreamClientIdFallback'],
        message:
          'needs registration.redirectPatterns: the synthesized client registers no redirect URI, so only the patterns limit where its codes may be sent',
      });
    }
  })
  .describe('flowgate configuration.');

/** A validated configuration, every default filled in. */
export type FlowgateConfig = z.output<typeof configSchema>;

/** What a user may write: every option optional where it has a default. */
export type FlowgateConfigInput = z.input<typeof configSchema>;

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
import { upstreamUrlProblem } from '../upstream/loopback.js';
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
      .describe("Lifetime of flowgate's access tokens (JWT), independent of the upstream's."),
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
  })
  .describe('Clients.');

/** An upstream URL: https, or http on a loopback host (checked in {@link upstreamConfigSchema}). */
const upstreamUrl = z.string().min(1);

/** RFC 6749 §3.3 `scope-token`. */
const scopeToken = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be one RFC 6749 §3.3 scope token (no spaces or quotes)');

const extraParams = (where: string) =>
  z
    .record(z.string().min(1), z.string())
    .default({})
    .describe(
      `Extra parameters appended to ${where}. They can never replace the parameters flowgate sets itself (${RESERVED_UPSTREAM_PARAMS.join(', ')}); such keys are refused, whatever their case.`,
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

/**
 * The upstream identity provider flowgate signs users in with, as ONE confidential OAuth
 * client with one fixed redirect URI (src/upstream/). `oidc` discovers its endpoints from
 * `issuer`; `oauth2` (GitHub-like) is configured with static endpoints and never discovers.
 */
export const upstreamConfigSchema = z
  .strictObject({
    kind: z
      .enum(['oidc', 'oauth2'])
      .describe(
        '`oidc`: an OpenID Provider, discovered from `issuer`, subject from the validated ID token. `oauth2`: a plain OAuth 2 provider such as GitHub, with static endpoints, subject from its user API.',
      ),
    issuer: upstreamUrl
      .optional()
      .describe(
        'Issuer identifier. Required for `oidc`: metadata is discovered at `<issuer>/.well-known/openid-configuration`, falling back to RFC 8414 `/.well-known/oauth-authorization-server`, and its `issuer` must equal this value exactly. For `oauth2` it is optional (default: the origin of `authorizationEndpoint`) and is what an RFC 9207 `iss` in the authorization response must equal.',
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
        '`oauth2` only: an API listing the user\'s e-mail addresses (GitHub `https://api.github.com/user/emails`); the primary verified one is used, and it is called only when a granted scope allows it (`user:email` or `user`).',
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
        'RFC 7009 revocation endpoint of the upstream, used to revoke upstream tokens when a grant ends. For `oidc` the discovered `revocation_endpoint` is used when this is absent.',
      ),
    clientId: z.string().min(1).describe("flowgate's client id at the upstream."),
    clientSecret: z
      .string()
      .min(1)
      .optional()
      .describe('Client secret at the upstream; required unless `clientAuthMethod` is `none`. Keep it out of files under version control (a `.js` configuration can read it from the environment).'),
    clientAuthMethod: z
      .enum(['client_secret_basic', 'client_secret_post', 'none'])
      .default('client_secret_basic')
      .describe('How flowgate authenticates at the upstream token and revocation endpoints (RFC 6749 §2.3.1). GitHub accepts `client_secret_post`.'),
    scopes: z
      .array(scopeToken)
      .optional()
      .describe(
        'Scopes requested upstream. Default: `["openid","email","profile"]` for `oidc` (which must include `openid`), none for `oauth2`. Add `offline_access` (or the upstream\'s equivalent) to get refresh tokens.',
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
  })
  .superRefine((upstream, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    for (const field of UPSTREAM_URL_FIELDS) {
      const value = upstream[field];
      const why = value === undefined ? undefined : upstreamUrlProblem(value);
      if (why) problem(field, why);
    }
    if (upstream.issuer !== undefined && URL.canParse(upstream.issuer)) {
      const issuer = new URL(upstream.issuer);
      // RFC 8414 §2: an issuer has no query or fragment.
      if (issuer.search !== '' || issuer.hash !== '' || upstream.issuer.includes('#') || upstream.issuer.includes('?')) {
        problem('issuer', 'an issuer has no query or fragment (RFC 8414 §2)');
      }
    }
    if (upstream.kind === 'oidc') {
      if (upstream.issuer === undefined) problem('issuer', 'required for an `oidc` upstream');
      if (upstream.scopes !== undefined && !upstream.scopes.includes('openid')) {
        problem('scopes', 'an `oidc` upstream needs the `openid` scope (or use kind `oauth2`)');
      }
      if (upstream.emailsEndpoint !== undefined) problem('emailsEndpoint', 'only for an `oauth2` upstream');
    } else {
      for (const field of ['authorizationEndpoint', 'tokenEndpoint', 'userinfoEndpoint'] as const) {
        if (upstream[field] === undefined) problem(field, 'required for an `oauth2` upstream (there is no discovery)');
      }
      if (upstream.jwksUri !== undefined) problem('jwksUri', 'only for an `oidc` upstream');
      if (upstream.scopes?.includes('openid')) {
        problem('scopes', '`openid` asks for an ID token, which only an `oidc` upstream validates; use kind `oidc`');
      }
    }
    if (upstream.clientAuthMethod === 'none' && upstream.clientSecret !== undefined) {
      problem('clientSecret', 'must not be set when `clientAuthMethod` is `none`');
    }
    if (upstream.clientAuthMethod !== 'none' && upstream.clientSecret === undefined) {
      problem('clientSecret', `required with \`clientAuthMethod\` \`${upstream.clientAuthMethod}\``);
    }
    for (const field of ['extraAuthorizeParams', 'extraTokenParams'] as const) {
      for (const key of Object.keys(upstream[field])) {
        if (isReservedUpstreamParam(key)) {
          ctx.addIssue({
            code: 'custom',
            path: [field, key],
            message: `"${key}" is set by flowgate itself and can never be overridden by an extra parameter (reserved: ${RESERVED_UPSTREAM_PARAMS.join(', ')})`,
          });
        }
      }
    }
  })
  .describe('The upstream identity provider (one confidential OAuth client).');

/** A validated upstream section, every default filled in. */
export type UpstreamConfig = z.output<typeof upstreamConfigSchema>;

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
    keys: keysConfigSchema.prefault({}),
    upstream: upstreamConfigSchema.optional(),
  })
  .describe('flowgate configuration.');

/** A validated configuration, every default filled in. */
export type FlowgateConfig = z.output<typeof configSchema>;

/** What a user may write: every option optional where it has a default. */
export type FlowgateConfigInput = z.input<typeof configSchema>;

/**
 * flowgate's one configuration object, validated by zod. Every option has a documented
 * default; docs/configuration.md is generated from this schema (`npm run docs:config`),
 * so the reference cannot drift from the code. Later features add their sections here.
 *
 * @module
 */
import { z } from 'zod';

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
  })
  .describe('Clients.');

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
    store: storeConfigSchema.prefault({}),
    flows: flowsConfigSchema.prefault({}),
    tokens: tokensConfigSchema.prefault({}),
    clients: clientsConfigSchema.prefault({}),
  })
  .describe('flowgate configuration.');

/** A validated configuration, every default filled in. */
export type FlowgateConfig = z.output<typeof configSchema>;

/** What a user may write: every option optional where it has a default. */
export type FlowgateConfigInput = z.input<typeof configSchema>;

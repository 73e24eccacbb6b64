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

/** The whole configuration. */
export const configSchema = z
  .strictObject({
    dataDir: z
      .string()
      .min(1)
      .default('./.flowgate')
      .describe('Directory holding the SQLite database and, in development, generated keys.'),
    store: storeConfigSchema.prefault({}),
  })
  .describe('flowgate configuration.');

/** A validated configuration, every default filled in. */
export type FlowgateConfig = z.output<typeof configSchema>;

/** What a user may write: every option optional where it has a default. */
export type FlowgateConfigInput = z.input<typeof configSchema>;

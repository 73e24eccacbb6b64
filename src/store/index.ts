/**
 * The event store: append-only log, hash chain, projections, on SQLite or PostgreSQL.
 *
 * @module
 */
export { EventStore, rowToStoredEvent } from './event-store.js';
export { openStore, openDialect, sqlitePathOf } from './open-store.js';
export { migrate, type MigrationReport } from './migrate.js';
export type { StoreDialect, DialectName } from './dialect.js';
export {
  AppendOnlyError,
  ConcurrencyError,
  IdempotencyConflictError,
  SchemaTooNewError,
  StoreOpenError,
  type StoreOpenReason,
} from './errors.js';
export {
  canonicalEnvelope,
  chainHash,
  genesisHash,
  payloadHashOfCanonical,
  verifyStreamChain,
  type ChainBreak,
  type ChainRow,
} from './hash-chain.js';
export type {
  AppendResult,
  EventMetadata,
  NewEvent,
  Projection,
  ProjectionTransaction,
  ReadAllOptions,
  StoredEvent,
  StreamAppend,
} from './types.js';

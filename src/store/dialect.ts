/**
 * What differs between SQLite and PostgreSQL, behind one small port. Everything else in
 * the store is written once on kysely.
 *
 * @module
 */
import type { Kysely, Transaction } from 'kysely';

/** The two databases flowgate stores its log in. */
export type DialectName = 'sqlite' | 'postgres';

/** Dialect-specific behaviour of an open database. */
export interface StoreDialect {
  readonly name: DialectName;
  readonly db: Kysely<any>;
  /** The PostgreSQL schema holding flowgate's tables (undefined on SQLite). */
  readonly schema?: string;
  /** Where the data lives, for error messages (a file path, or a URL without its password). */
  readonly location: string;
  /**
   * Called first in every append transaction. On PostgreSQL it takes a transaction-scoped
   * advisory lock so commit order equals global-position order (docs/store.md, "Global
   * order"); SQLite's `BEGIN IMMEDIATE` already serialises writers.
   */
  lockForAppend(trx: Transaction<any>): Promise<void>;
  /**
   * A value that changes whenever anyone may have written to the database since it was
   * last taken: on SQLite, the connection's own row-change count (`total_changes()`) with
   * `PRAGMA data_version`, which moves when another connection or process commits. A head
   * read or written under one mark is still the head while the mark is the same. Absent
   * where the database offers no such cheap signal (PostgreSQL): every head is then read.
   */
  changeMark?(): string | undefined;
  /** Whether a table exists where this store's tables live (the configured schema on PostgreSQL). */
  tableExists(name: string): Promise<boolean>;
  /** Turns a driver error into a clear store error where one applies. */
  translateError(error: unknown): unknown;
  close(): Promise<void>;
}

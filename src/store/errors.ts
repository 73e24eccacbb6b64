/**
 * Errors of the event store. Each names what failed and where, so an operator can act on
 * the message alone.
 *
 * @module
 */
import { FlowgateError } from '../errors/flowgate-error.js';

/** An append's expected stream version did not match the stream; nothing was written. */
export class ConcurrencyError extends FlowgateError {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(
      'ERR_CONCURRENCY',
      `stream ${streamId} is at version ${actualVersion}, the append expected ${expectedVersion}`,
    );
  }
}

/** Event ids that already exist were appended again with different content. */
export class IdempotencyConflictError extends FlowgateError {
  constructor(readonly eventId: string, detail: string) {
    super(
      'ERR_IDEMPOTENCY_CONFLICT',
      `event ${eventId} already exists with different content (${detail}); a retry must repeat the same command exactly`,
    );
  }
}

/** The database was written by a newer flowgate whose migrations this code does not know. */
export class SchemaTooNewError extends FlowgateError {
  constructor(readonly unknownMigrations: readonly string[], where: string) {
    super(
      'ERR_SCHEMA_TOO_NEW',
      `the database at ${where} has schema migrations this flowgate does not know (${unknownMigrations.join(', ')}); ` +
        'it was written by a newer flowgate: upgrade flowgate, or restore a backup made for this version',
    );
  }
}

/** Why a store could not be opened. */
export type StoreOpenReason =
  | 'not_writable'
  | 'not_a_database'
  | 'unreachable'
  | 'login_refused'
  | 'no_such_database'
  | 'unknown';

/** The database could not be opened or used; `reason` says why. */
export class StoreOpenError extends FlowgateError {
  constructor(
    readonly reason: StoreOpenReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_STORE_OPEN', message, options);
  }
}

/** A write was refused because the event log is append-only. */
export class AppendOnlyError extends FlowgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_APPEND_ONLY', message, options);
  }
}

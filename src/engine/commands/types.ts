/**
 * The shape every command handler has.
 *
 * @module
 */
import type { EngineContext } from '../context.js';
import type { Session } from '../session.js';

/** Decides one command: loads streams into the session, emits events, returns the result. */
export interface CommandHandler<C, R> {
  /** Whether the engine may re-decide the command after a `ConcurrencyError`. */
  readonly retryOnConflict: boolean;
  decide(session: Session, command: C, context: EngineContext): Promise<R>;
}

/**
 * Thrown by a handler to refuse the command *after* its events are committed: a detected
 * replay is recorded (and the grant revoked) and still answered with an error.
 */
export class CommitThenThrow extends Error {
  constructor(readonly error: Error) {
    super(error.message);
  }
}

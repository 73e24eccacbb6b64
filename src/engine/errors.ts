/**
 * Errors of the engine itself (protocol outcomes are `OAuthError`s from src/oauth/errors.ts).
 *
 * @module
 */
import { FlowgateError } from '../errors/flowgate-error.js';

/** The machine of a stream does not accept an event in its current state. */
export class IllegalTransitionError extends FlowgateError {
  constructor(
    readonly streamId: string,
    readonly state: string,
    readonly eventType: string,
  ) {
    super('ERR_ILLEGAL_TRANSITION', `${streamId} in state ${state} does not accept ${eventType}`);
  }
}

/** A stream was written with a machine version this code does not know. */
export class UnknownMachineError extends FlowgateError {
  constructor(
    readonly streamId: string,
    readonly machine: string,
  ) {
    super('ERR_UNKNOWN_MACHINE', `${streamId} was written with machine ${machine}, which this flowgate does not know`);
  }
}

/** A command named a stream that does not exist. */
export class StreamNotFoundError extends FlowgateError {
  constructor(readonly streamId: string) {
    super('ERR_STREAM_NOT_FOUND', `no stream ${streamId}`);
  }
}

/** Why a browser-facing flow step was refused (rendered as a local HTML page, never a redirect). */
export type FlowProblem = 'not_found' | 'expired' | 'browser_mismatch' | 'already_used' | 'wrong_state';

/**
 * A browser-facing flow step (consent, callback) was refused. `status` is the HTTP status
 * of the local error page: 403 for another browser, 400 otherwise.
 */
export class FlowError extends FlowgateError {
  readonly status: number;

  constructor(
    readonly problem: FlowProblem,
    message: string,
  ) {
    super(`ERR_FLOW_${problem.toUpperCase()}`, message);
    this.status = problem === 'browser_mismatch' ? 403 : 400;
  }
}

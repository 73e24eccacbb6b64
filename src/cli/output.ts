/**
 * How the CLI talks to people: one clear line on failure, a non-zero exit code.
 *
 * @module
 */
import { ConfigError } from '../config/errors.js';
import { FlowgateError } from '../errors/flowgate-error.js';

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** The message a failure shows: ours verbatim, anything else with its class name. */
export function describeFailure(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  if (error instanceof FlowgateError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

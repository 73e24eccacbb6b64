/**
 * The error a bad configuration produces: every wrong field, where it came from, and why.
 *
 * @module
 */
import { FlowgateError } from '../errors/flowgate-error.js';

/** One problem in a configuration. */
export interface ConfigProblem {
  /** Dotted path of the option, e.g. `store.synchronous`. */
  readonly path: string;
  readonly message: string;
  /** The environment variable or file the value came from, when known. */
  readonly source?: string;
}

/** The configuration is not valid; `problems` lists every wrong field. */
export class ConfigError extends FlowgateError {
  constructor(readonly problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.path || '(root)'}${p.source ? ` (from ${p.source})` : ''}: ${p.message}`);
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super('ERR_CONFIG', `the configuration is not valid (${count}):\n${lines.join('\n')}`);
  }
}

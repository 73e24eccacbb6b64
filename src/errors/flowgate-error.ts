/**
 * The root of flowgate's typed errors. Every error flowgate throws on purpose carries a
 * stable `code` (`ERR_*`), so callers `switch (err.code)` instead of matching messages
 * (the pattern of jose's `JOSEError`).
 *
 * @module
 */

/** Base class of every deliberate flowgate error. */
export class FlowgateError extends Error {
  /** A stable, machine-readable code such as `ERR_CONCURRENCY`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

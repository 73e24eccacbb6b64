/**
 * Where exports and archives write their lines: a new file (never an existing one
 * overwritten), flushed and fsynced on demand, or stdout.
 *
 * @module
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { FlowgateError } from '../errors/flowgate-error.js';

/** A destination for lines. */
export interface LineSink {
  /** Queues one line's text (with its newline). */
  write(text: string): void;
  /** Writes what is queued (waiting for a slow reader of a stream). */
  flush(): Promise<void>;
  /** Flushes and makes what was written durable (fsync for a file). */
  sync(): Promise<void>;
  /** Syncs and closes. */
  close(): Promise<void>;
}

/** The file exists, or cannot be created. */
export class OutputFileError extends FlowgateError {
  constructor(path: string, cause: unknown) {
    const code = (cause as { code?: string }).code;
    super(
      'ERR_OUTPUT_FILE',
      code === 'EEXIST'
        ? `${path} already exists; flowgate never overwrites an export or an archive, choose a new file`
        : `cannot write ${path}: ${(cause as Error).message}`,
      { cause },
    );
  }
}

const BUFFER_BYTES = 1 << 20;

/** A sink writing to a new file at `path` (refused when it exists). */
export function fileSink(path: string): LineSink {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    throw new OutputFileError(path, error);
  }
  let pending: string[] = [];
  let size = 0;
  const drain = () => {
    if (pending.length === 0) return;
    writeSync(fd, pending.join(''));
    pending = [];
    size = 0;
  };
  return {
    write(text) {
      pending.push(text);
      size += text.length;
      if (size >= BUFFER_BYTES) drain();
    },
    async flush() {
      drain();
    },
    async sync() {
      drain();
      fsyncSync(fd);
    },
    async close() {
      drain();
      fsyncSync(fd);
      closeSync(fd);
    },
  };
}

/** A sink writing to a stream such as stdout, honouring back-pressure on flush. */
export function streamSink(stream: NodeJS.WritableStream): LineSink {
  let pending: string[] = [];
  let size = 0;
  const drain = async () => {
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    size = 0;
    if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
  };
  let draining: Promise<void> = Promise.resolve();
  return {
    write(text) {
      pending.push(text);
      size += text.length;
      if (size >= BUFFER_BYTES) draining = draining.then(drain);
    },
    async flush() {
      await draining;
      await drain();
    },
    async sync() {
      await draining;
      await drain();
    },
    async close() {
      await draining;
      await drain();
    },
  };
}

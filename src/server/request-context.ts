/**
 * Per-request context for logs: every log line written while a request is handled carries
 * its request id (pino `mixin` reading an AsyncLocalStorage), so flow ids logged deep in a
 * handler can be tied to the request without passing loggers around.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';

const storage = new AsyncLocalStorage<{ requestId: string }>();

/** Runs `fn` with a request id in context. */
export function withRequestId<T>(request: Request, fn: (requestId: string) => T): T {
  const given = request.headers.get('x-request-id');
  const requestId = given && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
  return storage.run({ requestId }, () => fn(requestId));
}

/** The request id of the current request, if any. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** A pino logger whose lines carry the current request id. */
export function createLogger(level: string, destination: pino.DestinationStream = pino.destination(2)): Logger {
  return pino(
    {
      level,
      base: { service: 'flowgate' },
      mixin: () => {
        const requestId = currentRequestId();
        return requestId ? { requestId } : {};
      },
      redact: { paths: ['*.authorization', '*.cookie', '*.token', '*.code', '*.refresh_token', '*.access_token', '*.client_secret'], censor: '[redacted]' },
    },
    destination,
  );
}

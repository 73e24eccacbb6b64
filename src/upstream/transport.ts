/**
 * The one way the upstream client talks HTTP: oauth4webapi's `customFetch` hook, wrapped
 * around an injectable `fetch`. Per request it
 *
 * - aborts after `timeoutMs` (an `AbortSignal`, which also covers reading the body);
 * - reads the body in full, refusing more than {@link MAX_BODY_BYTES};
 * - turns every failure of the transport itself (connection refused or dropped, timeout)
 *   into a *transient* {@link UpstreamError}, so nothing downstream mistakes it for a
 *   rejection;
 * - copes with GitHub's token endpoint: a form-encoded body (its default without
 *   `Accept: application/json`, which oauth4webapi sends anyway) becomes JSON, and an
 *   error answered with status 200 becomes a 400, as RFC 6749 §5.2 has it;
 * - sends flowgate's `User-Agent` (GitHub's API refuses requests without one) instead
 *   of oauth4webapi's.
 *
 * @module
 */
import type * as oauth from 'oauth4webapi';
import { UpstreamError, type UpstreamOperation } from './upstream-error.js';

/** Upstream responses are small JSON documents; anything bigger is refused. */
export const MAX_BODY_BYTES = 1024 * 1024;

const USER_AGENT = 'flowgate';

/** A `fetch` as oauth4webapi calls it through `customFetch`. */
export type CustomFetch = (url: string, init: oauth.CustomFetchOptions<string, unknown>) => Promise<Response>;

/** What {@link upstreamFetch} needs. */
export interface UpstreamFetchOptions {
  readonly fetch: typeof globalThis.fetch;
  readonly timeoutMs: number;
  readonly operation: UpstreamOperation;
}

const TOKEN_OPERATIONS: ReadonlySet<UpstreamOperation> = new Set(['exchange', 'refresh']);

async function readCapped(response: Response, operation: UpstreamOperation): Promise<Uint8Array | null> {
  if (response.body === null) return null;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw new UpstreamError({
        reason: 'invalid_response',
        operation,
        status: response.status,
        detail: `response body larger than ${MAX_BODY_BYTES} bytes`,
      });
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function mediaType(headers: Headers): string {
  return (headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** RFC 6749 §5.1 as GitHub sends it by default: `access_token=…&scope=…&token_type=bearer`. */
function formToJson(body: Uint8Array): Uint8Array {
  const object = Object.fromEntries(new URLSearchParams(Buffer.from(body).toString('utf8')));
  return Buffer.from(JSON.stringify(object), 'utf8');
}

function hasErrorWithoutToken(body: Uint8Array): boolean {
  try {
    const json: unknown = JSON.parse(Buffer.from(body).toString('utf8'));
    return typeof json === 'object' && json !== null && typeof (json as { error?: unknown }).error === 'string' &&
      (json as { access_token?: unknown }).access_token === undefined;
  } catch {
    return false;
  }
}

/** Rebuilds the response from the body read, normalised for token endpoint quirks. */
function rebuild(response: Response, body: Uint8Array | null, operation: UpstreamOperation): Response {
  const headers = new Headers(response.headers);
  // The body is already decoded; these would describe the wire form, not what follows.
  headers.delete('content-encoding');
  headers.delete('content-length');
  let status = response.status;
  if (body !== null && TOKEN_OPERATIONS.has(operation)) {
    if (mediaType(headers) === 'application/x-www-form-urlencoded') {
      body = formToJson(body);
      headers.set('content-type', 'application/json');
    }
    if (status === 200 && mediaType(headers) === 'application/json' && hasErrorWithoutToken(body)) status = 400;
  }
  const nullBody = status === 204 || status === 205 || status === 304;
  return new Response(nullBody ? null : (body as ConstructorParameters<typeof Response>[0]), { status, statusText: response.statusText, headers });
}

/**
 * oauth4webapi's `customFetch` for one upstream operation (see the module documentation).
 *
 * @example
 * ```ts
 * await oauth.discoveryRequest(issuer, { [oauth.customFetch]: upstreamFetch({ fetch, timeoutMs: 10_000, operation: 'discovery' }) });
 * ```
 */
export function upstreamFetch(options: UpstreamFetchOptions): CustomFetch {
  return async (url, init) => {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const headers = Object.fromEntries(Object.entries(init.headers).filter(([name]) => name.toLowerCase() !== 'user-agent'));
    headers['user-agent'] = USER_AGENT;
    try {
      const response = await options.fetch(url, { ...init, headers, signal } as RequestInit);
      const body = await readCapped(response, options.operation);
      return rebuild(response, body, options.operation);
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      const timedOut = timeout.aborted;
      const name = error instanceof Error ? error.name : typeof error;
      // undici puts the system error (ECONNREFUSED, UND_ERR_SOCKET …) in `cause.code`.
      const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
      const system = typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? ` ${code}` : '';
      throw new UpstreamError({
        reason: timedOut ? 'timeout' : 'network',
        operation: options.operation,
        detail: timedOut ? `no answer within ${options.timeoutMs} ms` : `request failed (${name}${system})`,
      });
    }
  };
}

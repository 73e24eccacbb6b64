/**
 * The SSRF-safe fetch of a client ID metadata document (CIMD "Client Information
 * Discovery" and "SSRF"; MCP 2025-11-25; security invariants §1.15 and §2.A item 5).
 *
 * In order, all within one deadline (`timeoutMs`, covering resolution, connection and the
 * body):
 *
 * 1. `https` only (the client id was already checked by `parseMetadataDocumentId`), and the
 *    host is in `allowedHosts` when that is configured.
 * 2. The host name is resolved (an IP-literal host is used as it is). When **any** address
 *    is special-use (private, loopback, link-local, CGNAT, multicast, unspecified,
 *    documentation, benchmarking, reserved, IPv4-mapped or -compatible IPv6, or 6to4,
 *    Teredo or NAT64 embedding a special IPv4 address; see `ip-classifier.ts`), the fetch is
 *    refused before any connection is made.
 * 3. The connection goes to a validated address (the next one if it cannot be reached),
 *    with the host name as SNI and `Host`: a later DNS answer is never consulted.
 * 4. A 3xx is a failure (redirects are never followed); anything but 200 is a failure.
 * 5. `Content-Type` must be JSON; a `Content-Length` above `maxBytes` is refused before
 *    reading, and reading stops as soon as more than `maxBytes` arrived.
 * 6. The body must be UTF-8 JSON.
 *
 * The caller gets the parsed JSON and how long it may be reused: `Cache-Control: max-age`
 * (capped at `cacheSeconds`), nothing for `no-store`/`no-cache`, `cacheSeconds` when the
 * response says nothing. Errors are never cacheable.
 *
 * @module
 */
import { isIP } from 'node:net';
import { classifyAddress } from './ip-classifier.js';
import { hostAllowed } from './client-id.js';
import type { Connect, ConnectResponse, Resolve, ResolvedAddress } from './net.js';

/** Why a fetch failed (for logs and tests; the client only learns "could not be fetched"). */
export type FetchStage =
  | 'url'
  | 'host_not_allowed'
  | 'resolve'
  | 'special_address'
  | 'connect'
  | 'timeout'
  | 'redirect'
  | 'status'
  | 'content_type'
  | 'too_large'
  | 'body';

/** The outcome of one fetch. */
export type FetchOutcome =
  | { readonly ok: true; readonly json: unknown; readonly cacheSeconds: number; readonly address: string }
  | { readonly ok: false; readonly stage: FetchStage; readonly reason: string };

/** What a fetcher needs. */
export interface CimdFetcherOptions {
  readonly resolve: Resolve;
  readonly connect: Connect;
  /** One deadline for resolution, connection and body, in milliseconds. */
  readonly timeoutMs: number;
  /** Largest body accepted, in bytes. */
  readonly maxBytes: number;
  /** Longest reuse of a fetched document, in seconds (also the reuse when the response says nothing). */
  readonly cacheSeconds: number;
  /** When set, only these hosts (`host` or `*.host`) are fetched. */
  readonly allowedHosts?: readonly string[];
}

/** Fetches metadata documents. */
export interface CimdFetcher {
  fetch(url: URL): Promise<FetchOutcome>;
}

class FetchFailure extends Error {
  constructor(readonly stage: FetchStage, reason: string) {
    super(reason);
  }
}

/** Rejects as soon as `signal` aborts, whether or not `promise` listens to it. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new FetchFailure('timeout', 'the fetch took too long'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new FetchFailure('timeout', 'the fetch took too long'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function mediaType(value: string | undefined): string {
  return (value ?? '').split(';')[0]!.trim().toLowerCase();
}

function isJsonType(type: string): boolean {
  return type === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type);
}

/** Seconds a response may be reused, from `Cache-Control` (RFC 9111 §5.2.2), capped. */
export function reuseSeconds(cacheControl: string | undefined, cap: number): number {
  if (cacheControl === undefined) return cap;
  let maxAge: number | undefined;
  for (const raw of cacheControl.split(',')) {
    const directive = raw.trim().toLowerCase();
    if (directive === 'no-store' || directive === 'no-cache') return 0;
    const match = /^max-age\s*=\s*"?(\d+)"?$/.exec(directive);
    if (match) maxAge = Math.min(Number(match[1]), maxAge ?? Number.MAX_SAFE_INTEGER);
  }
  return Math.max(0, Math.min(maxAge ?? cap, cap));
}

async function readCapped(response: ConnectResponse, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const iterator = response.body[Symbol.asyncIterator]();
  for (;;) {
    const next = await untilAborted(iterator.next(), signal);
    if (next.done) break;
    size += next.value.byteLength;
    if (size > maxBytes) {
      await iterator.return?.().catch(() => undefined);
      throw new FetchFailure('too_large', `the document is larger than ${maxBytes} bytes`);
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks);
}

/** Builds a fetcher (see the module description). */
export function createCimdFetcher(options: CimdFetcherOptions): CimdFetcher {
  async function addressesOf(hostname: string, signal: AbortSignal): Promise<readonly ResolvedAddress[]> {
    const literal = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    const family = isIP(literal);
    if (family !== 0) return [{ address: literal, family: family === 6 ? 6 : 4 }];
    let answers: readonly ResolvedAddress[];
    try {
      answers = await untilAborted(options.resolve(hostname), signal);
    } catch (error) {
      if (error instanceof FetchFailure) throw error;
      throw new FetchFailure('resolve', 'the host name could not be resolved');
    }
    if (!Array.isArray(answers) || answers.length === 0) throw new FetchFailure('resolve', 'the host name has no address');
    return answers;
  }

  async function attempt(url: URL, signal: AbortSignal): Promise<FetchOutcome> {
    if (url.protocol !== 'https:') throw new FetchFailure('url', 'only https URLs are fetched');
    if (!hostAllowed(url.hostname, options.allowedHosts)) {
      throw new FetchFailure('host_not_allowed', 'the host is not in cimd.allowedHosts');
    }
    const addresses = await addressesOf(url.hostname, signal);
    // Every address must be acceptable: one bad answer refuses the whole host (no "pick a good one").
    for (const { address } of addresses) {
      const verdict = classifyAddress(address);
      if (!verdict.allowed) throw new FetchFailure('special_address', `the host resolves to a special-use address (${verdict.range})`);
    }
    const servername = isIP(url.hostname.replace(/^\[|\]$/g, '')) === 0 ? url.hostname : undefined;
    let response: ConnectResponse | undefined;
    let used = '';
    for (const { address, family } of addresses) {
      try {
        response = await untilAborted(
          options.connect({
            address,
            family: family === 6 ? 6 : isIP(address) === 6 ? 6 : 4,
            port: url.port === '' ? 443 : Number(url.port),
            servername,
            host: url.host,
            path: `${url.pathname}${url.search}`,
            headers: { accept: 'application/json', 'user-agent': 'flowgate (client ID metadata document fetch)' },
            signal,
          }),
          signal,
        );
        used = address;
        break;
      } catch (error) {
        if (error instanceof FetchFailure || signal.aborted) throw new FetchFailure('timeout', 'the fetch took too long');
        // Unreachable address: try the next validated one.
      }
    }
    if (response === undefined) throw new FetchFailure('connect', 'no address of the host could be reached');
    try {
      const { status, headers } = response;
      if (status >= 300 && status < 400) throw new FetchFailure('redirect', `the document URL answered with a redirect (HTTP ${status}), which is never followed`);
      if (status !== 200) throw new FetchFailure('status', `the document URL answered with HTTP ${status}`);
      if (!isJsonType(mediaType(headers['content-type']))) {
        throw new FetchFailure('content_type', 'the document is not served as application/json');
      }
      const declared = headers['content-length'];
      if (declared !== undefined && /^\d+$/.test(declared.trim()) && Number(declared) > options.maxBytes) {
        throw new FetchFailure('too_large', `the document is larger than ${options.maxBytes} bytes`);
      }
      const bytes = await readCapped(response, options.maxBytes, signal);
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
      } catch {
        throw new FetchFailure('body', 'the document is not valid UTF-8 JSON');
      }
      return { ok: true, json, cacheSeconds: reuseSeconds(headers['cache-control'], options.cacheSeconds), address: used };
    } finally {
      response.destroy();
    }
  }

  return {
    async fetch(url) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), options.timeoutMs);
      try {
        return await attempt(url, controller.signal);
      } catch (error) {
        if (error instanceof FetchFailure) return { ok: false, stage: error.stage, reason: error.message };
        return { ok: false, stage: 'body', reason: 'the document could not be read' };
      } finally {
        clearTimeout(timer);
        controller.abort();
      }
    },
  };
}

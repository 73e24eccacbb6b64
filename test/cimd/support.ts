/**
 * A fake network for metadata-document fetches: a resolver answering from a table and a
 * connector serving canned responses. Both record every call, so a test can assert exactly
 * which names were resolved and which addresses were "connected" to — and nothing here
 * ever opens a socket. {@link guardSockets} additionally fails any real TCP connection to
 * a non-loopback address made while it is installed.
 */
import net from 'node:net';
import { isIP } from 'node:net';
import type { Connect, ConnectResponse, ConnectTarget, Resolve, ResolvedAddress } from '../../src/cimd/net.js';

/** A canned answer of the fake connector. */
export interface CannedResponse {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** The body as one string, or as chunks sent one after another. */
  readonly body?: string | readonly string[];
  /** Delay before the response (headers) arrives, ms. */
  readonly delayMs?: number;
  /** Delay between body chunks, ms. */
  readonly chunkDelayMs?: number;
  /** Never answer (the connection hangs). */
  readonly hang?: boolean;
}

/** What the fake network saw. */
export interface NetworkLog {
  readonly resolved: string[];
  readonly connected: ConnectTarget[];
  /** Body chunks actually handed to the fetcher, per connection. */
  readonly chunksRead: number[];
}

/** Options of {@link fakeNetwork}. */
export interface FakeNetworkOptions {
  /** Host name → addresses (or a function called per lookup, for rebinding tests). */
  readonly dns: Readonly<Record<string, readonly string[] | (() => readonly string[])>>;
  /** `address` → canned response, or `https://host/path` → canned response; a function gets the target. */
  readonly serve: (target: ConnectTarget) => CannedResponse | 'refuse';
  /** Make the resolver hang for these names. */
  readonly hangResolve?: readonly string[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A recording resolver and connector that never touch the network. */
export function fakeNetwork(options: FakeNetworkOptions): { resolve: Resolve; connect: Connect; log: NetworkLog } {
  const log: NetworkLog = { resolved: [], connected: [], chunksRead: [] };
  const resolve: Resolve = async (hostname) => {
    log.resolved.push(hostname);
    if (options.hangResolve?.includes(hostname)) await new Promise(() => {});
    const entry = options.dns[hostname];
    if (entry === undefined) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    const addresses = typeof entry === 'function' ? entry() : entry;
    return addresses.map((address): ResolvedAddress => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
  };
  const connect: Connect = async (target) => {
    log.connected.push(target);
    const index = log.chunksRead.push(0) - 1;
    const canned = options.serve(target);
    if (canned === 'refuse') throw Object.assign(new Error('ECONNREFUSED'), { code: 'ECONNREFUSED' });
    if (canned.hang) await new Promise(() => {});
    if (canned.delayMs) await sleep(canned.delayMs);
    const chunks = canned.body === undefined ? [] : typeof canned.body === 'string' ? [canned.body] : [...canned.body];
    let destroyed = false;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(canned.headers ?? { 'content-type': 'application/json' })) headers[k.toLowerCase()] = v;
    const response: ConnectResponse = {
      status: canned.status ?? 200,
      headers,
      body: {
        async *[Symbol.asyncIterator]() {
          for (const chunk of chunks) {
            if (destroyed) return;
            if (canned.chunkDelayMs) await sleep(canned.chunkDelayMs);
            log.chunksRead[index]! += 1;
            yield Buffer.from(chunk, 'utf8');
          }
        },
      },
      destroy: () => {
        destroyed = true;
      },
    };
    return response;
  };
  return { resolve, connect, log };
}

/** A JSON document response. */
export function json(body: unknown, headers: Record<string, string> = {}): CannedResponse {
  return { status: 200, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** A valid metadata document for `clientId`. */
export function documentFor(clientId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: clientId,
    client_name: 'Example MCP client',
    redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...extra,
  };
}

function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined || host === '' || host === 'localhost') return true;
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === '::1' || bare.startsWith('127.') || bare === '::ffff:127.0.0.1';
}

/**
 * Wraps `net.Socket.prototype.connect` so that any TCP connection to a non-loopback host
 * fails the test; returns the attempts seen and a function restoring the original.
 */
export function guardSockets(): { attempts: string[]; restore: () => void } {
  const attempts: string[] = [];
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guarded(this: net.Socket, ...args: unknown[]) {
    const first = args[0];
    const options = (typeof first === 'object' && first !== null ? first : {}) as { host?: string; path?: string; port?: number };
    const host = typeof first === 'number' ? (typeof args[1] === 'string' ? args[1] : 'localhost') : options.host;
    if (options.path === undefined) {
      attempts.push(`${host ?? 'localhost'}:${options.port ?? first}`);
      if (!isLoopbackHost(host)) throw new Error(`test tried to open a TCP connection to ${host}`);
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof original;
  return { attempts, restore: () => void (net.Socket.prototype.connect = original) };
}

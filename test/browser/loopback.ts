/**
 * Tiny `node:http` servers on 127.0.0.1 for the browser tests: the MCP client's loopback
 * redirect listener (RFC 8252 §7.3), and a page on another origin that tries to frame flowgate.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server on 127.0.0.1:<ephemeral>. */
export interface LoopbackServer {
  readonly origin: string;
  close(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; origin: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The client's redirect listener: records every query it gets on `/callback`. */
export interface RedirectListener extends LoopbackServer {
  readonly redirectUri: string;
  /** Every `/callback` URL received, in order. */
  readonly received: URL[];
  /** Resolves with the first `/callback` URL; rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<URL>;
}

/** Starts the client's loopback redirect listener; it answers `done`. */
export async function startRedirectListener(): Promise<RedirectListener> {
  const received: URL[] = [];
  const waiters: Array<(url: URL) => void> = [];
  const { server, origin } = await listen((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname !== '/callback') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    received.push(url);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end('done');
    for (const w of waiters.splice(0)) w(url);
  });
  return {
    origin,
    redirectUri: `${origin}/callback`,
    received,
    next(timeoutMs = 10_000) {
      if (received[0]) return Promise.resolve(received[0]);
      return new Promise<URL>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no request reached ${origin}/callback within ${timeoutMs} ms`)), timeoutMs);
        waiters.push((url) => {
          clearTimeout(timer);
          resolve(url);
        });
      });
    },
    close: () => closeServer(server),
  };
}

/** Serves one HTML page at `/` (the framing attacker's page). */
export async function startPageServer(html: string): Promise<LoopbackServer> {
  const { server, origin } = await listen((req, res) => {
    if (req.url !== '/') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
  });
  return { origin, close: () => closeServer(server) };
}

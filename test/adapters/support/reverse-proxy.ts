/**
 * A minimal reverse proxy on 127.0.0.1 for tests: forwards every request unchanged (method,
 * path, headers, streamed body) to a target set after start, adding `X-Forwarded-For` (the
 * client's socket address), `X-Forwarded-Proto` and `X-Forwarded-Host` as common proxies do.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running reverse proxy. */
export interface ReverseProxy {
  /** The public URL clients use. */
  readonly url: string;
  /** Sends requests to `target` (an origin) from now on. */
  forwardTo(target: string): void;
  close(): Promise<void>;
}

/** Starts the proxy; it answers 502 until {@link ReverseProxy.forwardTo} is called. */
export async function startReverseProxy(): Promise<ReverseProxy> {
  let target: URL | undefined;
  const server = createServer((req, res) => {
    if (!target) {
      res.writeHead(502).end('no target');
      return;
    }
    const upstream = httpRequest(
      new URL(req.url ?? '/', target),
      {
        method: req.method,
        agent: false,
        headers: {
          ...req.headers,
          'x-forwarded-for': req.socket.remoteAddress ?? '',
          'x-forwarded-proto': 'http',
          'x-forwarded-host': req.headers.host ?? '',
        },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        res.flushHeaders(); // event streams: the client sees the headers before the first event
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwardTo(origin) {
      target = new URL(origin);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

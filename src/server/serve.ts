/**
 * `flowgate serve`: flowgate as a standalone HTTP server — the authorization server, and
 * optionally a gateway in front of MCP servers — with request ids in structured logs,
 * `/healthz`, Prometheus `/metrics`, a Host check against DNS rebinding on a loopback bind
 * (flowgate's own `checkRequest`, applied here to every route), and graceful shutdown
 * (in-flight requests finish, then the store closes).
 *
 * @module
 */
import { createAdaptorServer } from '@hono/node-server';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { FlowgateConfig } from '../config/schema.js';
import { createFlowgate, type Flowgate, type FlowgateOptions } from '../flowgate.js';
import { gatewayRoute, type GatewayRoute } from './gateway/forward.js';
import { FlowgateMetrics } from './metrics.js';
import { checkMetricsAuthorization } from './metrics-access.js';
import { createLogger, currentRequestId, withRequestId } from './request-context.js';

/** A running server. */
export interface RunningServer {
  readonly url: string;
  readonly flowgate: Flowgate;
  readonly server: Server;
  /** Stops accepting, lets in-flight requests finish (up to the timeout), closes the store. */
  close(): Promise<void>;
}

/** Extra routes served next to flowgate's (the demo mounts its pages and MCP server here). */
export type ExtraRoute = (request: Request, url: URL) => Promise<Response | undefined> | Response | undefined;

/** Options of {@link startServer}. */
export interface ServeOptions extends FlowgateOptions {
  readonly logger?: Logger;
  /** Called with the bound URL before flowgate is created (to derive the issuer from a port chosen by the OS). */
  readonly configure?: (url: string) => FlowgateConfig;
  readonly routes?: readonly ExtraRoute[];
}

function routeLabel(path: string, gateway: readonly GatewayRoute[]): string {
  if (path.startsWith('/.well-known/')) return path.split('/').slice(0, 3).join('/');
  if (gateway.some((g) => path === g.path || path.startsWith(`${g.path}/`))) return 'gateway';
  return path.split('/').slice(0, 2).join('/') || '/';
}

/**
 * Starts the server. The socket is bound first, so a busy port fails before anything else;
 * the store is opened next, so an unreachable database fails before the first request.
 */
export async function startServer(config: FlowgateConfig, options: ServeOptions = {}): Promise<RunningServer> {
  const log = options.logger ?? createLogger(config.serve.logLevel);
  let handler: (request: Request, env: unknown) => Promise<Response> = async () => new Response('starting', { status: 503 });
  // overrideGlobalObjects: false keeps the global Request/Response intact (embedders and
  // MCP SDK clients in the same process check `instanceof Response`).
  const server = createAdaptorServer({ fetch: (request: Request, env: unknown) => handler(request, env), overrideGlobalObjects: false }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.serve.port, config.serve.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  let flowgate!: Flowgate;
  let opened: Flowgate | undefined;
  let gateway: GatewayRoute[];
  const clock = options.clock ?? Date.now;
  try {
    const finalConfig = options.configure ? options.configure(url) : config;
    const metrics = options.metrics ?? new FlowgateMetrics({ defaultMetrics: true });
    flowgate = opened = await createFlowgate(finalConfig, {
      correlationIdOf: currentRequestId,
      ...options,
      logger: log,
      metrics,
      listen: { host: config.serve.host, port: address.port },
    });
    gateway = flowgate.config.gateway.routes.map((route) =>
      gatewayRoute(flowgate, route, {
        ...(flowgate.config.gateway.identitySecret ? { identitySecret: flowgate.config.gateway.identitySecret } : {}),
        timeoutMs: flowgate.config.gateway.timeoutMs,
        clock,
      }),
    );
  } catch (error) {
    // Nothing may keep running after a failed start: the store, then the socket.
    await opened?.close().catch(() => {});
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw error;
  }
  /** Handlers running. */
  let inFlight = 0;
  /** Responses not completely written yet (a handler returns before its body is sent). */
  let responding = 0;
  /** Set by close(): responses then carry `Connection: close`. */
  let stopping = false;
  server.on('request', (_request, response: ServerResponse) => {
    responding++;
    response.once('close', () => responding--);
  });

  handler = (request, env) =>
    withRequestId(request, async (requestId) => {
      const started = process.hrtime.bigint();
      const url = new URL(request.url);
      inFlight++;
      let response: Response;
      try {
        // The DNS-rebinding check, once for every route (flowgate.fetch does not repeat it).
        response = flowgate.checkRequest(request) ?? (await dispatch(request, url, env));
      } catch (error) {
        log.error({ err: { name: (error as Error).name, message: (error as Error).message } }, 'unhandled error');
        response = new Response(JSON.stringify({ error: 'server_error', error_description: 'the server could not complete the request' }), {
          status: 500,
          headers: { 'Content-Type': 'application/json' },
        });
      } finally {
        inFlight--;
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      flowgate.metrics.requestDuration.observe({ route: routeLabel(url.pathname, gateway), method: request.method, status: String(response.status) }, seconds);
      log.info({ method: request.method, path: url.pathname, status: response.status, ms: Math.round(seconds * 1000) }, 'request');
      const headers = new Headers(response.headers);
      headers.set('X-Request-Id', requestId);
      // Shutting down: the client must not send another request on this connection.
      if (stopping) headers.set('Connection', 'close');
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    });

  async function dispatch(request: Request, url: URL, env: unknown): Promise<Response> {
    if (url.pathname === '/healthz') {
      try {
        await flowgate.store.streamVersion('health:probe');
        return Response.json({ status: 'ok' }, { headers: { 'Cache-Control': 'no-store' } });
      } catch {
        return Response.json({ status: 'unavailable', reason: 'the store does not answer' }, { status: 503 });
      }
    }
    if (url.pathname === '/metrics' && request.method === 'GET' && flowgate.config.serve.metrics.enabled) {
      const refusal = checkMetricsAuthorization(request, flowgate.config.serve.metrics.bearerToken);
      if (refusal) return refusal;
      const { contentType, body } = await flowgate.metrics.render();
      return new Response(body, { headers: { 'Content-Type': contentType, 'Cache-Control': 'no-store' } });
    }
    for (const route of gateway) {
      if (url.pathname === route.path || url.pathname.startsWith(`${route.path}/`)) return route.handle(request);
    }
    for (const extra of options.routes ?? []) {
      const answer = await extra(request, url);
      if (answer) return answer;
    }
    return flowgate.fetch(request, env);
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    flowgate,
    server,
    close() {
      closing ??= (async () => {
        // Stop accepting connections. Keep-alive connections would still bring new requests,
        // so from now on every response says `Connection: close`, and connections are closed
        // as soon as they are idle. In-flight requests finish — handler and response body —
        // before the store closes; only past the timeout are connections cut.
        stopping = true;
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        const deadline = Date.now() + config.serve.shutdownTimeoutMs;
        while ((inFlight > 0 || responding > 0) && Date.now() < deadline) {
          server.closeIdleConnections();
          await new Promise((r) => setTimeout(r, 20));
        }
        server.closeAllConnections();
        await done;
        await flowgate.close();
      })();
      return closing;
    },
  };
}

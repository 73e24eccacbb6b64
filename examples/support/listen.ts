/**
 * What the examples share around the interesting part: they listen first (with port 0 the
 * URL, and so flowgate's issuer, is known only then), answer 503 until the application is
 * ready, and stop cleanly.
 *
 * @module
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Flowgate, FlowgateConfig, FlowgateConfigInput, FlowgateOptions } from 'flowgate';

/** A configuration as `createFlowgate` takes it, or as `loadConfigFile` returns it. */
export type ExampleConfig = FlowgateConfigInput | FlowgateConfig;

/** What every example's `start` takes. */
export interface StartOptions {
  /**
   * flowgate's configuration, or a function of the URL the example listens on (for values
   * that name it, such as `server.resources`, when the port is 0). Without `server.issuer`,
   * the issuer is that URL.
   */
  readonly config: ExampleConfig | ((url: string) => ExampleConfig);
  /** Default 0: a free port chosen by the system. */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Passed to `createFlowgate` (a logger, a clock). */
  readonly flowgate?: FlowgateOptions;
}

/** A running example. */
export interface RunningExample {
  /** Where the example listens (`http://127.0.0.1:<port>`). */
  readonly url: string;
  /** The protected MCP endpoint: flowgate's default resource (`<issuer>/mcp` unless configured). */
  readonly mcpUrl: string;
  readonly flowgate: Flowgate;
  /** Stops listening, then closes flowgate (its store). */
  close(): Promise<void>;
}

/** A listening server whose application is attached later. */
export interface Listening {
  readonly url: string;
  readonly server: Server;
  /** Starts handing requests to `listener` (until then they get 503). */
  serve(listener: RequestListener): void;
  /** Stops accepting; requests in flight may finish for up to 5 seconds. */
  close(): Promise<void>;
}

/** Listens on `options.host`:`options.port` (defaults 127.0.0.1:0). */
export async function listen(options: Pick<StartOptions, 'host' | 'port'>): Promise<Listening> {
  let app: RequestListener = (_req, res) => {
    res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('starting');
  };
  const server = createServer((req, res) => app(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    serve(listener) {
      app = listener;
    },
    close: () =>
      new Promise<void>((resolve) => {
        const deadline = setTimeout(() => server.closeAllConnections(), 5_000);
        server.close(() => {
          clearTimeout(deadline);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/** The configuration for the example at `url`, with the issuer set to `url` when it names none. */
export function withIssuer(config: StartOptions['config'], url: string): FlowgateConfigInput {
  const values = typeof config === 'function' ? config(url) : config;
  return { ...values, server: { ...values.server, issuer: values.server?.issuer ?? url } } as FlowgateConfigInput;
}

/** The example's handle: closes the server, then flowgate. */
export function running(listening: Listening, flowgate: Flowgate): RunningExample {
  let closing: Promise<void> | undefined;
  return {
    url: listening.url,
    mcpUrl: flowgate.settings.defaultResource,
    flowgate,
    close: () =>
      (closing ??= (async () => {
        // #region close
        try {
          await listening.close();
        } finally {
          await flowgate.close();
        }
        // #endregion close
      })()),
  };
}

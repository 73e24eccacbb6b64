/**
 * `flowgate serve`: runs flowgate as an HTTP server until SIGTERM or SIGINT, then shuts
 * down gracefully. Bad configuration, a busy port or an unreachable database end with one
 * clear line and a non-zero exit.
 *
 * @module
 */
import type { Command } from 'commander';
import { loadConfigFile } from '../../config/load.js';
import type { FlowgateConfig } from '../../config/schema.js';
import { FlowgateError } from '../../errors/flowgate-error.js';
import { startServer, type RunningServer } from '../../server/serve.js';

/** A listen error, as one sentence. */
export function listenFailure(error: unknown, host: string, port: number): FlowgateError | undefined {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE') return new FlowgateError('ERR_PORT_IN_USE', `port ${port} on ${host} is already in use; stop the other server or set FLOWGATE_PORT`);
  if (code === 'EACCES') return new FlowgateError('ERR_PORT_DENIED', `not allowed to listen on ${host}:${port}`);
  if (code === 'EADDRNOTAVAIL') return new FlowgateError('ERR_HOST_UNAVAILABLE', `${host} is not an address of this machine`);
  return undefined;
}

/** Starts the server with the issuer defaulting to the address it listens on. */
export async function serveConfig(config: FlowgateConfig): Promise<RunningServer> {
  try {
    return await startServer(config, {
      configure: (url) => (config.server.issuer ? config : { ...config, server: { ...config.server, issuer: url } }),
    });
  } catch (error) {
    throw listenFailure(error, config.serve.host, config.serve.port) ?? error;
  }
}

/** Stops `running` on SIGTERM/SIGINT (a second signal exits at once). */
export function stopOnSignals(running: { close(): Promise<void> }, say: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) process.exit(130);
      stopping = true;
      say(`flowgate: ${signal} received, finishing in-flight requests`);
      running.close().then(resolve, (error: unknown) => {
        say(`flowgate: shutdown failed: ${(error as Error).message}`);
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/** Registers `serve`. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the authorization server (and gateway routes) until SIGTERM/SIGINT')
    .option('-c, --config <file>', 'configuration file (.json, .js, .mjs)')
    .action(async (options: { config?: string }) => {
      const config = await loadConfigFile(options.config, process.env);
      const running = await serveConfig(config);
      for (const warning of running.flowgate.warnings) process.stderr.write(`flowgate: warning: ${warning}\n`);
      const routes = running.flowgate.config.gateway.routes.map((r) => `${r.resource} -> ${r.target}`);
      process.stdout.write(`flowgate: listening on ${running.url} (issuer ${running.flowgate.settings.issuer})\n`);
      if (routes.length) process.stdout.write(`flowgate: gateway ${routes.join(', ')}\n`);
      process.stdout.write('flowgate: ready\n');
      await stopOnSignals(running, (line) => process.stderr.write(`${line}\n`));
      process.stderr.write('flowgate: stopped\n');
    });
}

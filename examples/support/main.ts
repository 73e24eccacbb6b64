/**
 * Running an example directly (`node --import tsx examples/express.ts --config
 * flowgate.config.json`): the configuration comes from `--config <file>` or
 * `FLOWGATE_CONFIG`, plus the `FLOWGATE_*` environment overrides (docs/configuration.md);
 * the example listens on `serve.host`:`serve.port`; SIGINT/SIGTERM stop it cleanly.
 *
 * @module
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadConfigFile } from 'flowgate';
import type { RunningExample, StartOptions } from './listen.js';

/** Whether the module at `moduleUrl` is the program node was started with. */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === moduleUrl;
  } catch {
    return false;
  }
}

function configPath(argv: readonly string[]): string | undefined {
  const at = argv.indexOf('--config');
  if (at >= 0) return argv[at + 1];
  const inline = argv.find((a) => a.startsWith('--config='));
  return inline?.slice('--config='.length) ?? (process.env.FLOWGATE_CONFIG || undefined);
}

/** Starts `start` from the command line and keeps it running until a signal. */
export async function runFromCommandLine(name: string, start: (options: StartOptions) => Promise<RunningExample>): Promise<void> {
  let example: RunningExample;
  try {
    const config = await loadConfigFile(configPath(process.argv.slice(2)), process.env);
    example = await start({ config, port: config.serve.port, host: config.serve.host });
  } catch (error) {
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`${name}: MCP endpoint ${example.mcpUrl}, authorization server ${example.flowgate.settings.issuer}, listening on ${example.url}\n`);
  const stop = (signal: string) => {
    process.stderr.write(`${name}: ${signal}, stopping\n`);
    example.close().then(
      () => process.stderr.write(`${name}: stopped\n`),
      (error: unknown) => {
        process.stderr.write(`${name}: ${String(error)}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

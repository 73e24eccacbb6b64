/**
 * `flowgate demo` (what `npm start` runs): flowgate, a real upstream IdP with demo users and
 * a demo MCP server on 127.0.0.1, a start page with a built-in demo client, until Ctrl-C.
 * The demo's own code and its devDependencies (oidc-provider, the MCP SDK) are imported
 * only when the command runs; when they are missing it says how to install them.
 *
 * @module
 */
import type { Command } from 'commander';
import { createServer } from 'node:net';
import { relative } from 'node:path';
import { FlowgateError } from '../../errors/flowgate-error.js';
import { listenFailure, stopOnSignals } from './serve.js';

function requestedPort(env: NodeJS.ProcessEnv): string {
  return env.FLOWGATE_PORT?.trim() || env.PORT?.trim() || '8787';
}

/** The one-line refusal of a busy port. */
function portInUse(port: string): FlowgateError {
  return new FlowgateError(
    'ERR_PORT_IN_USE',
    `port ${port} on 127.0.0.1 is already in use (is another demo still running?); stop it, or pick another port: PORT=8788 npm start`,
  );
}

/** True when `port` is taken on 127.0.0.1 (checked before the slow start; the real bind still decides). */
function portTaken(port: number): Promise<boolean> {
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) return Promise.resolve(false);
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE'));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
}

/**
 * Under `npm start`, npm runs the demo through `sh -c` and forwards SIGTERM only to that
 * shell, which dies without passing it on: the demo would live on, orphaned, still holding
 * its port. So when npm started it and its parent goes away, it stops as if signalled.
 */
function stopWhenOrphaned(env: NodeJS.ProcessEnv, parent: number, say: (line: string) => void): () => void {
  if (!env.npm_lifecycle_event) return () => {};
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    say('flowgate demo: npm went away, stopping too');
    process.kill(process.pid, 'SIGTERM');
  }, 250);
  timer.unref();
  return () => clearInterval(timer);
}

/** The lines `flowgate demo` prints once it is up (stdout). */
export function demoBanner(demo: {
  readonly url: string;
  readonly mcpUrl: string;
  readonly idpUrl: string;
  readonly users: readonly string[];
  readonly sqlitePath: string;
  readonly accessTokenTtlSeconds: number;
  readonly ttlFromEnv: boolean;
  readonly version: string;
  readonly startedMs: number;
}): string {
  const shown = relative(process.cwd(), demo.sqlitePath) || demo.sqlitePath;
  const rows: Array<[string, string, string]> = [
    ['Start page', `${demo.url}/`, 'open it and click "Start a flow"'],
    ['MCP server', demo.mcpUrl, 'tools: whoami, echo'],
    ['Upstream IdP', demo.idpUrl, `users: ${demo.users.join(', ')} (username/password)`],
  ];
  const width = Math.max(...rows.map(([, url]) => url.length));
  const lines = [
    `flowgate demo ${demo.version}`,
    '',
    ...rows.map(([label, url, note]) => `  ${label.padEnd(14)} ${url.padEnd(width)}   ${note}`),
    `  ${'Event log'.padEnd(14)} ${shown.startsWith('..') ? demo.sqlitePath : shown} (SQLite)`,
    ...(demo.ttlFromEnv ? [`  ${'Access tokens'.padEnd(14)} expire after ${demo.accessTokenTtlSeconds} s (FLOWGATE_ACCESS_TOKEN_TTL)`] : []),
    '',
    'Connect a real MCP client:',
    `  MCP Inspector  npx @modelcontextprotocol/inspector`,
    `                 then transport "Streamable HTTP", URL ${demo.mcpUrl}, Connect`,
    `  Claude Code    claude mcp add --transport http demo ${demo.mcpUrl}`,
    '',
    `flowgate demo: ready in ${demo.startedMs} ms, open ${demo.url}/ (Ctrl-C stops it)`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Registers `demo`. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run flowgate with a demo upstream IdP (alice/alice, bob/bob), a demo MCP server and a start page, until Ctrl-C')
    .action(async () => {
      const started = performance.now();
      const parent = process.ppid;
      const port = requestedPort(process.env);
      if (await portTaken(Number(port))) throw portInUse(port);
      const { loadDemoDependencies, startDemo } = await import('../../demo/app/index.js');
      const sdk = await loadDemoDependencies();
      let demo: Awaited<ReturnType<typeof startDemo>>;
      try {
        demo = await startDemo({ env: process.env, sdk });
      } catch (error) {
        if ((error as { code?: string }).code === 'EADDRINUSE') throw portInUse(port);
        throw listenFailure(error, '127.0.0.1', Number(port)) ?? error;
      }
      const key = demo.settings.masterKey;
      if (key.path) {
        process.stderr.write(
          `flowgate demo: note: the stored upstream tokens are encrypted with a demo master key ${key.generated ? 'created in' : 'kept in'} ${key.path}; ` +
            'fine for trying flowgate, not for production (set FLOWGATE_MASTER_KEY there)\n',
        );
      }
      for (const warning of demo.flowgate.warnings) process.stderr.write(`flowgate demo: warning: ${warning}\n`);
      // Listen for signals before saying "ready": a Ctrl-C right after it must stop cleanly.
      const say = (line: string) => process.stderr.write(`${line}\n`);
      const stopped = stopOnSignals(demo, say);
      const unwatch = stopWhenOrphaned(process.env, parent, say);
      process.stdout.write(
        demoBanner({
          ...demo.info,
          ttlFromEnv: Boolean(process.env.FLOWGATE_ACCESS_TOKEN_TTL?.trim()),
          startedMs: Math.round(performance.now() - started),
        }),
      );
      await stopped;
      unwatch();
      say('flowgate demo: stopped');
    });
}

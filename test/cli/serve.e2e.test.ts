/**
 * `flowgate serve`, the compiled bin as an operator runs it: a JSON or `.mjs` configuration
 * file with FLOWGATE_* overrides on top, the `listening on` and `ready` lines, `/healthz`,
 * a clean exit 0 on SIGTERM and SIGINT, and a clear exit 1 — one line, no stack trace — on
 * a busy port, an unreachable or silent database, a missing file, and a bad configuration
 * (which names every wrong field).
 *
 * The upstream is a plain OAuth 2 provider on loopback URLs that nothing listens on: serving
 * never contacts it until a user signs in, and nobody does here.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { killIfRunning, spawnFlowgate, startServe, type Exit, type FlowgateProcess, type ServeProcess } from '../server/support/serve-process.js';

/** A configuration that is valid and never contacts its upstream. */
function baseConfig(dir: string): Record<string, any> {
  return {
    dataDir: join(dir, 'data'),
    masterKey: generateMasterKeyText(),
    serve: { port: 0 },
    upstream: {
      kind: 'oauth2',
      authorizationEndpoint: 'http://127.0.0.1:9/login/oauth/authorize',
      tokenEndpoint: 'http://127.0.0.1:9/login/oauth/access_token',
      userinfoEndpoint: 'http://127.0.0.1:9/user',
      clientId: 'flowgate-serve-test',
      clientSecret: 'never-sent-anywhere',
    },
  };
}

/** A TCP server on 127.0.0.1 that accepts connections and never says a word (a firewalled or wedged database). */
async function silentServer(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

function closeServer(s: { server: Server; sockets: Set<Socket> }): Promise<void> {
  for (const socket of s.sockets) socket.destroy();
  return new Promise((resolve) => s.server.close(() => resolve()));
}

/** Runs a `flowgate serve` that must fail, and returns how it ended. */
async function failingServe(args: readonly string[], env: Record<string, string>): Promise<{ exit: Exit; proc: FlowgateProcess }> {
  const proc = spawnFlowgate(['serve', ...args], env);
  const timer = setTimeout(() => proc.signal('SIGKILL'), 40_000);
  try {
    return { exit: await proc.exited, proc };
  } finally {
    clearTimeout(timer);
  }
}

/** Exit 1, one `flowgate: ` line on stderr matching `pattern`, nothing on stdout, no stack trace. */
function expectOneLine(result: { exit: Exit; proc: FlowgateProcess }, pattern: RegExp): string {
  const stderr = result.proc.stderr();
  expect(result.exit.code, stderr).toBe(1);
  expect(stderr.endsWith('\n')).toBe(true);
  expect(stderr.trimEnd().split('\n'), stderr).toHaveLength(1);
  expect(stderr).toMatch(/^flowgate: /);
  expect(stderr).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(result.proc.stdout()).toBe('');
  return stderr;
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as unknown };
}

describe('flowgate serve', { timeout: 90_000 }, () => {
  let dir: string;
  const running: ServeProcess[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-serve-'));
  });
  afterAll(async () => {
    for (const proc of running) await killIfRunning(proc);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves from a JSON file with FLOWGATE_* overrides on top, answers /healthz, and stops with exit 0 on SIGTERM', async () => {
    // The file's port is taken and its log level is silent: the environment must win on both.
    const busy = await silentServer();
    const config = baseConfig(dir);
    config.serve = { port: busy.port, logLevel: 'silent' };
    const file = join(dir, 'flowgate.config.json');
    writeFileSync(file, JSON.stringify(config, null, 2));
    const db = join(dir, 'json', 'override.db');
    const issuer = 'http://localhost:18787';
    let serve: ServeProcess;
    try {
      serve = await startServe(['--config', file], {
        FLOWGATE_PORT: '0',
        FLOWGATE_LOG_LEVEL: 'info',
        FLOWGATE_DB: db,
        FLOWGATE_ISSUER: issuer,
      });
    } finally {
      await closeServer(busy);
    }
    running.push(serve);
    expect(serve.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(serve.url).not.toBe(`http://127.0.0.1:${busy.port}`);
    expect(serve.stdout()).toBe(`flowgate: listening on ${serve.url} (issuer ${issuer})\nflowgate: ready\n`);
    expect(existsSync(db)).toBe(true);

    expect(await getJson(`${serve.url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
    const metadata = await getJson(`${serve.url}/.well-known/oauth-authorization-server`);
    expect(metadata).toMatchObject({ status: 200, body: { issuer, token_endpoint: `${issuer}/token` } });
    const metrics = await fetch(`${serve.url}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await metrics.text()).toMatch(/^flowgate_http_request_duration_seconds_count\{route="\/healthz",method="GET",status="200"\} 1$/m);

    // FLOWGATE_LOG_LEVEL=info beat the file's "silent": one JSON line per request, with a request id.
    await serve.waitFor('stderr', '"path":"/healthz"');
    const logged = serve
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged.find((l) => l.path === '/healthz')).toMatchObject({ msg: 'request', method: 'GET', status: 200, requestId: expect.any(String) });

    serve.signal('SIGTERM');
    const exit = await serve.exited;
    expect(exit.code, serve.stderr()).toBe(0);
    expect(serve.stderr()).toMatch(/flowgate: SIGTERM received, finishing in-flight requests\nflowgate: stopped\n$/);
    await expect(fetch(`${serve.url}/healthz`)).rejects.toThrow();
  });

  it('serves from an .mjs file whose default export is a function, and stops with exit 0 on SIGINT', async () => {
    const config = baseConfig(dir);
    delete config.dataDir;
    const file = join(dir, 'flowgate.config.mjs');
    writeFileSync(file, `export default async function config() {\n  return ${JSON.stringify(config, null, 2)};\n}\n`);
    const dataDir = join(dir, 'mjs-data');
    const serve = await startServe(['-c', file], { FLOWGATE_DATA_DIR: dataDir, FLOWGATE_LOG_LEVEL: 'warn' });
    running.push(serve);
    expect(serve.stdout()).toBe(`flowgate: listening on ${serve.url} (issuer ${serve.url})\nflowgate: ready\n`);
    expect(existsSync(join(dataDir, 'flowgate.db'))).toBe(true);
    expect(await getJson(`${serve.url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });

    serve.signal('SIGINT');
    const exit = await serve.exited;
    expect(exit.code, serve.stderr()).toBe(0);
    expect(serve.stderr()).toBe('flowgate: SIGINT received, finishing in-flight requests\nflowgate: stopped\n');
  });

  describe.concurrent('refuses to start, with exit 1 and a clear message', () => {
    it('on a busy port: one line naming the port', async () => {
      const busy = await silentServer();
      try {
        const file = join(dir, 'busy.json');
        writeFileSync(file, JSON.stringify(baseConfig(dir)));
        const result = await failingServe(['--config', file], { FLOWGATE_PORT: String(busy.port) });
        expectOneLine(result, new RegExp(`^flowgate: port ${busy.port} on 127\\.0\\.0\\.1 is already in use`));
      } finally {
        await closeServer(busy);
      }
    });

    it('on an unreachable database: one line naming it (without the password), as fast as a config error', async () => {
      const file = join(dir, 'refused.json');
      writeFileSync(file, JSON.stringify(baseConfig(dir)));
      // The baseline starts node and loads the same file, and fails at validation.
      const [result, baseline] = await Promise.all([
        failingServe(['--config', file], { FLOWGATE_DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/x' }),
        failingServe(['--config', file], { FLOWGATE_PORT: 'eighty' }),
      ]);
      const line = expectOneLine(result, /^flowgate: cannot reach PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/x \(ECONNREFUSED\)$/m);
      expect(line).not.toContain('hunter2');
      expect(baseline.exit.code).toBe(1);
      // A refused connection is not retried.
      expect(result.exit.ms).toBeLessThan(baseline.exit.ms + 4000);
    });

    it('on a database that accepts the connection and never answers: one line after the 5 s connect timeout', async () => {
      const silent = await silentServer();
      try {
        const file = join(dir, 'silent.json');
        writeFileSync(file, JSON.stringify(baseConfig(dir)));
        const [result, baseline] = await Promise.all([
          failingServe(['--config', file], { FLOWGATE_DATABASE_URL: `postgres://postgres@127.0.0.1:${silent.port}/x` }),
          failingServe(['--config', file], { FLOWGATE_PORT: 'eighty' }),
        ]);
        expectOneLine(result, new RegExp(`^flowgate: cannot reach PostgreSQL at postgres://postgres@127\\.0\\.0\\.1:${silent.port}/x \\(no answer within 5 s\\)$`, 'm'));
        expect(baseline.exit.code).toBe(1);
        // One connection attempt, given up after 5 s: never a retry loop.
        expect(result.exit.ms).toBeGreaterThanOrEqual(5000);
        expect(result.exit.ms).toBeLessThan(baseline.exit.ms + 5000 + 4000);
      } finally {
        await closeServer(silent);
      }
    });

    it('on a missing configuration file: names the file', async () => {
      const missing = join(dir, 'nowhere', 'flowgate.config.json');
      const result = await failingServe(['--config', missing], {});
      const stderr = result.proc.stderr();
      expect(result.exit.code).toBe(1);
      expect(stderr).toBe(`flowgate: the configuration is not valid (1 problem):\n  - (root) (from ${missing}): the configuration file does not exist\n`);
      expect(result.proc.stdout()).toBe('');
    });

    it('on a bad configuration: names every wrong field and where it came from', async () => {
      const config = baseConfig(dir);
      config.serve = { port: 'eighty', colour: 'blue' };
      config.registration = { mode: 'sometimes' };
      config.upstream.tokenEndpoint = 'not a url';
      const file = join(dir, 'bad.json');
      writeFileSync(file, JSON.stringify(config));
      const result = await failingServe(['--config', file], { FLOWGATE_SQLITE_SYNCHRONOUS: 'OFF', FLOWGATE_ACCESS_TOKEN_TTL: 'an hour' });
      const stderr = result.proc.stderr();
      expect(result.exit.code).toBe(1);
      expect(result.proc.stdout()).toBe('');
      expect(stderr).not.toMatch(/\n\s+at /);
      const [head, ...problems] = stderr.trimEnd().split('\n');
      expect(head).toBe('flowgate: the configuration is not valid (6 problems):');
      expect(problems).toHaveLength(6);
      const expected = [
        `serve.port (from ${file}): `,
        `serve.colour (from ${file}): unknown option`,
        `registration.mode (from ${file}): `,
        `upstream.tokenEndpoint (from ${file}): `,
        'store.synchronous (from FLOWGATE_SQLITE_SYNCHRONOUS): ',
        'tokens.accessTokenTtlSeconds (from FLOWGATE_ACCESS_TOKEN_TTL): expected an integer, got "an hour"',
      ];
      for (const text of expected) expect(problems.filter((p) => p.startsWith(`  - ${text}`)), `${text} in\n${stderr}`).toHaveLength(1);
    });

    it('on a gateway route for an unknown resource, or signed headers without a secret: exits (never hangs holding the port)', async () => {
      const config = baseConfig(dir);
      config.gateway = { routes: [{ resource: 'http://127.0.0.1:1/elsewhere', target: 'http://127.0.0.1:9/mcp' }] };
      const file = join(dir, 'gateway-resource.json');
      writeFileSync(file, JSON.stringify(config));
      const unknown = await failingServe(['--config', file], {});
      expect(unknown.exit.code, unknown.proc.stderr()).toBe(1);
      expect(unknown.proc.stderr()).toMatch(
        /^flowgate: the configuration is not valid \(1 problem\):\n {2}- gateway\.routes\[\]\.resource: http:\/\/127\.0\.0\.1:1\/elsewhere is not one of server\.resources \(http:\/\/127\.0\.0\.1:\d+\/mcp\)\n$/,
      );
      config.gateway = { routes: [{ resource: 'http://127.0.0.1:0/mcp', target: 'http://127.0.0.1:9/mcp', identity: 'headers' }] };
      config.server = { resources: [{ uri: 'http://127.0.0.1:0/mcp' }] };
      writeFileSync(file, JSON.stringify(config));
      const secretless = await failingServe(['--config', file], {});
      expect(secretless.exit.code, secretless.proc.stderr()).toBe(1);
      expect(secretless.proc.stderr()).toMatch(/gateway\.identitySecret: route .* needs gateway\.identitySecret/);
      expect(secretless.proc.stderr()).not.toMatch(/\n\s+at /);
    });

    it('on an http issuer that is not loopback', async () => {
      const file = join(dir, 'issuer.json');
      writeFileSync(file, JSON.stringify(baseConfig(dir)));
      const result = await failingServe(['--config', file], { FLOWGATE_ISSUER: 'http://auth.example.com' });
      expect(result.exit.code).toBe(1);
      expect(result.proc.stderr()).toBe(
        'flowgate: the configuration is not valid (1 problem):\n' +
          '  - server.issuer (from FLOWGATE_ISSUER): must be https (http is allowed only on 127.0.0.1, [::1] or localhost)\n',
      );
      expect(result.proc.stdout()).toBe('');
    });
  });
});

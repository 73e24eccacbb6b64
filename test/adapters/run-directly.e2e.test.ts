/**
 * The examples also run on their own, as the embedding guides say:
 * `node --import tsx examples/<name>.ts --config <file>`. One
 * example is started in a child process (the others end in the same
 * `if (isMain(import.meta.url)) await runFromCommandLine(…)` line, which
 * package-exports.unit.test.ts checks, and a child process costs seconds) with a
 * configuration file naming a real upstream IdP: it resolves `flowgate` through tsconfig.json
 * `paths`, prints its MCP endpoint, answers there with the RFC 9728 challenge and serves the
 * metadata it points to, and stops cleanly (exit code 0) on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { startUpstreamIdp, type UpstreamIdp } from '../../src/demo/upstream-idp.js';

/** A started example process and what it printed. */
interface Child {
  readonly process: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  readonly exited: Promise<number | null>;
}

function run(name: string, configFile: string): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${name}.ts`, '--config', configFile], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { process: child, stdout, stderr, exited };
}

/** The MCP endpoint the example printed, once it did. */
async function printedEndpoint(child: Child, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = /MCP endpoint (\S+),/.exec(child.stdout.join(''));
    if (match) return match[1]!;
    if (child.process.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no endpoint printed; stdout: ${child.stdout.join('')}\nstderr: ${child.stderr.join('')}`);
}

describe('examples run directly with a configuration file', () => {
  let idp: UpstreamIdp;
  let dir: string;
  const children: Child[] = [];

  beforeAll(async () => {
    idp = await startUpstreamIdp({
      mode: 'oidc',
      clients: [{ client_id: 'flowgate', client_secret: 'flowgate-upstream-secret', redirect_uris: ['http://127.0.0.1/auth/callback'] }],
    });
    dir = mkdtempSync(join(tmpdir(), 'flowgate-examples-'));
  });
  afterAll(async () => {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
    await idp?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts with a configuration file, answers at the printed MCP endpoint, stops on SIGTERM', { timeout: 60_000 }, async () => {
    const configFile = join(dir, 'flowgate.config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        masterKey: generateMasterKeyText(),
        serve: { host: '127.0.0.1', port: 0 },
        store: { sqlitePath: ':memory:' },
        upstream: { kind: 'oidc', issuer: idp.issuer, clientId: 'flowgate', clientSecret: 'flowgate-upstream-secret', scopes: ['openid', 'email'] },
      }),
    );
    const child = run('node-http', configFile);
    children.push(child);
    const endpoint = await printedEndpoint(child, 50_000);

    const origin = new URL(endpoint).origin;
    expect(endpoint).toBe(`${origin}/mcp`);
    const challenge = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(challenge.status).toBe(401);
    expect(challenge.headers.get('www-authenticate')).toContain(`resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`);
    const prm = await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`);
    expect(await prm.json()).toMatchObject({ resource: endpoint, authorization_servers: [origin] });

    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(child.stderr.join('')).toMatch(/SIGTERM, stopping\n.*stopped\n$/s);
  });
});

/**
 * The compiled operator commands (`flowgate clients …`, `grants …`, `sweep`) against the
 * SQLite file of a running flowgate, as an operator would use them: listing as a table and
 * as JSON, revocation by grant, subject and client taking effect at the running server's
 * next request, deleting a client, sweeping what ran out of time, and one-line refusals.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowgate, type CliRun } from '../support/cli.js';
import { authorizationRequest, registerClient, startProxy, type TestClient, type TestProxy } from '../support/proxy.js';
import { refresh, tokensFor, type ClientTokens } from '../support/tokens.js';

const HOUR = 3_600_000;

function expectOneLineFailure(run: CliRun, pattern: RegExp): void {
  expect(run.status).toBe(1);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(/^flowgate: /);
  expect(run.stderr).toMatch(pattern);
  expect(run.stderr).not.toContain('    at ');
}

function json<T>(run: CliRun): T {
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as T;
}

interface ListedGrant {
  grantId: string;
  clientId: string;
  subject: string | null;
  subjectRef: string;
  status: string;
  revokedReason: string | null;
  scopes: string[];
}

/** Writes the proxy's configuration where the CLI can read it. */
function configFile(dir: string, proxy: TestProxy): string {
  const path = join(dir, 'flowgate.config.json');
  writeFileSync(path, JSON.stringify({ ...proxy.config, dataDir: join(dir, 'data') }));
  return path;
}

describe('flowgate clients, grants and sweep on a running server', { timeout: 180_000 }, () => {
  let dir: string;
  let proxy: TestProxy;
  let config: string;
  let clientA: TestClient;
  let clientB: TestClient;
  let aliceA: ClientTokens;
  let bobA: ClientTokens;
  let aliceB: ClientTokens;
  let alice: string;
  const cli = (...args: string[]): CliRun => flowgate([...args, '--config', config]);
  const accepted = async (tokens: ClientTokens) =>
    proxy.flowgate.verifyAccessToken(tokens.accessToken).then(
      () => true,
      () => false,
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-operator-'));
    proxy = await startProxy({
      sqlitePath: join(dir, 'flowgate.db'),
      config: () => ({
        clients: { static: [{ clientId: 'static-ide', redirectUris: ['http://127.0.0.1:9999/cb'], name: 'Static IDE' }] },
      }),
    });
    config = configFile(dir, proxy);
    clientA = await registerClient(proxy, { client_name: 'Client A' });
    clientB = await registerClient(proxy, { client_name: 'Client B', redirect_uris: ['http://127.0.0.1:53999/cb'] });
    aliceA = await tokensFor(proxy, { client: clientA, user: 'alice' });
    bobA = await tokensFor(proxy, { client: clientA, user: 'bob' });
    aliceB = await tokensFor(proxy, { client: clientB, user: 'alice' });
    alice = (await proxy.flowgate.verifyAccessToken(aliceA.accessToken)).subject;
  });
  afterAll(async () => {
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists clients as a table and as JSON, never with a secret', () => {
    const table = cli('clients', 'list');
    expect(table.status).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^CLIENT ID\s+KIND\s+NAME\s+AUTH\s+STATUS\s+REGISTERED\s+LAST USED\s+REDIRECT URIS$/);
    expect(lines).toHaveLength(4);
    expect(table.stdout).toMatch(new RegExp(`${clientA.clientId}\\s+dynamic\\s+Client A\\s+none\\s+active`));
    expect(table.stdout).toMatch(/static-ide\s+static\s+Static IDE\s+none\s+active/);

    const listed = json<Array<{ clientId: string; kind: string; confidential: boolean; metadata: { redirect_uris: string[] } }>>(
      cli('clients', 'list', '--json'),
    );
    expect(listed.map((c) => c.clientId).sort()).toEqual([clientA.clientId, clientB.clientId, 'static-ide'].sort());
    expect(listed.find((c) => c.clientId === clientB.clientId)!.metadata.redirect_uris).toEqual(['http://127.0.0.1:53999/cb']);
    expect(JSON.stringify(listed)).not.toMatch(/secret_hash|secretHash/);
  });

  it('shows one client with its live grants', () => {
    const shown = cli('clients', 'show', clientA.clientId);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/^client id\s+\S+/);
    expect(shown.stdout).toMatch(/live grants\s+2$/m);
    expect(json<{ liveGrants: number; kind: string }>(cli('clients', 'show', clientB.clientId, '--json'))).toMatchObject({
      liveGrants: 1,
      kind: 'dynamic',
    });
  });

  it('lists grants by subject and by client, with the subject opened', () => {
    const bySubject = json<ListedGrant[]>(cli('grants', 'list', '--subject', alice, '--json'));
    expect(bySubject.map((g) => g.clientId).sort()).toEqual([clientA.clientId, clientB.clientId].sort());
    expect(bySubject.every((g) => g.subject === alice && g.status === 'active')).toBe(true);
    // The reference is a pseudonym, not the subject.
    expect(bySubject[0]!.subjectRef).not.toContain(alice);

    const byClient = json<ListedGrant[]>(cli('grants', 'list', '--client', clientA.clientId, '--json'));
    expect(byClient).toHaveLength(2);
    expect(new Set(byClient.map((g) => g.subject))).toEqual(new Set([alice, 'bob']));

    const table = cli('grants', 'list', '--client', clientB.clientId);
    expect(table.stdout.split('\n')[0]).toMatch(/^GRANT ID\s+CLIENT ID\s+SUBJECT\s+SCOPES\s+RESOURCE\s+STATUS\s+CREATED\s+LAST USED\s+EXPIRES$/);
    expect(table.stdout).toMatch(new RegExp(`${clientB.clientId}\\s+${alice}\\s+mcp:tools\\s+\\S+/mcp\\s+active`));
    expect(json<ListedGrant[]>(cli('grants', 'list', '--subject', 'nobody', '--json'))).toEqual([]);
  });

  it('revokes one grant: its tokens are refused at the next request, the others keep working', async () => {
    expect(await accepted(aliceA)).toBe(true);
    const [grant] = json<ListedGrant[]>(cli('grants', 'list', '--subject', alice, '--client', clientA.clientId, '--json'));
    const run = cli('grants', 'revoke', grant!.grantId);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`flowgate: revoked 1 grant(s): ${grant!.grantId}\n`);

    expect(await accepted(aliceA)).toBe(false);
    expect((await refresh(proxy, clientA, aliceA.refreshToken)).body.error).toBe('invalid_grant');
    expect(await accepted(bobA)).toBe(true);
    expect(await accepted(aliceB)).toBe(true);

    const again = json<{ revoked: string[]; alreadyInactive: string[] }>(cli('grants', 'revoke', grant!.grantId, '--json'));
    expect(again).toEqual({ revoked: [], alreadyInactive: [grant!.grantId] });
    const [after] = json<ListedGrant[]>(cli('grants', 'list', '--client', clientA.clientId, '--status', 'revoked', '--json'));
    expect(after).toMatchObject({ grantId: grant!.grantId, status: 'revoked', revokedReason: 'operator' });
  });

  it('revokes every live grant of a subject', async () => {
    const run = json<{ revoked: string[] }>(cli('grants', 'revoke', '--subject', alice, '--json'));
    expect(run.revoked).toHaveLength(1);
    expect(await accepted(aliceB)).toBe(false);
    expect(await accepted(bobA)).toBe(true);
  });

  it('deletes a dynamic client and revokes its grants; refuses a static one', async () => {
    const run = cli('clients', 'delete', clientA.clientId);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`flowgate: deleted ${clientA.clientId}; revoked 1 live grant(s)\n`);
    expect(await accepted(bobA)).toBe(false);
    const registered = await fetch(authorizationRequest(proxy, clientA).url, { redirect: 'manual' });
    expect(registered.status).toBe(400);
    expect(registered.headers.get('location')).toBeNull();
    expect(json<Array<{ clientId: string; status: string }>>(cli('clients', 'list', '--status', 'deleted', '--json'))).toEqual([
      expect.objectContaining({ clientId: clientA.clientId, status: 'deleted' }),
    ]);

    expectOneLineFailure(cli('clients', 'delete', 'static-ide'), /static client from the configuration/);
    expect(json<{ status: string }>(cli('clients', 'show', 'static-ide', '--json')).status).toBe('active');
  });

  it('refuses unknown names and missing selections with one line and exit 1', () => {
    expectOneLineFailure(cli('clients', 'show', 'no-such-client'), /no client "no-such-client"/);
    expectOneLineFailure(cli('clients', 'delete', 'no-such-client'), /no client "no-such-client"/);
    expectOneLineFailure(cli('grants', 'revoke'), /name the grants to revoke, or select them with --subject or --client/);
    expectOneLineFailure(cli('grants', 'revoke', 'no-such-grant'), /no grant "no-such-grant".*nothing was revoked/);
    expectOneLineFailure(cli('grants', 'revoke', 'g1', '--client', 'x'), /not both/);
    const missing = flowgate(['grants', 'list', '--config', join(dir, 'missing.json')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/missing\.json\): the configuration file does not exist/);
  });
});

describe('flowgate sweep', { timeout: 180_000 }, () => {
  it('expires flows, grants and clients whose time ran out, once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-sweep-'));
    // Everything below happened two hours ago: the instance's clock is set back (the upstream
    // client compensates for the offset when it checks the IdP's ID tokens).
    const proxy = await startProxy({
      sqlitePath: join(dir, 'flowgate.db'),
      flowgate: { clock: () => Date.now() - 2 * HOUR },
      config: () => ({
        tokens: { refreshIdleTtlSeconds: 3600 },
        clients: { unusedExpirySeconds: 3600 },
        flows: { sweepIntervalSeconds: 0 },
      }),
    });
    try {
      const config = configFile(dir, proxy);
      const sweep = () => json<{ expired: { flows: number; grants: number; clients: number } }>(flowgate(['sweep', '--json', '--config', config]));
      const tokens = await tokensFor(proxy);
      const abandoned = await registerClient(proxy, { client_name: 'abandoned' });
      const started = await fetch(authorizationRequest(proxy, abandoned).url, { redirect: 'manual' });
      // The flow started: the browser is sent to the consent page, and then abandoned.
      expect(started.status).toBe(303);
      expect(new URL(started.headers.get('location')!, proxy.url).pathname).toBe('/consent');

      expect(sweep().expired).toEqual({ flows: 1, grants: 1, clients: 2 });
      const grants = json<ListedGrant[]>(flowgate(['grants', 'list', '--json', '--config', config]));
      expect(grants).toEqual([expect.objectContaining({ clientId: tokens.client.clientId, status: 'expired' })]);
      expect(sweep().expired).toEqual({ flows: 0, grants: 0, clients: 0 });

      const table = flowgate(['sweep', '--config', config]);
      expect(table.stdout).toMatch(/^EXPIRED\s+COUNT\nflows and codes\s+0\ngrants\s+0\nclients\s+0\n$/);
    } finally {
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

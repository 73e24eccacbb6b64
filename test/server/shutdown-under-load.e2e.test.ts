/**
 * SIGTERM under load loses nothing. `flowgate serve` (the compiled bin) runs in front of a
 * real upstream IdP while dozens of requests are in flight — registrations (some still
 * uploading their body), full authorizations through a headless browser (the upstream code
 * exchange slowed down), refresh-token rotations (each waiting on a slowed upstream
 * refresh), revocations — and gets SIGTERM in the middle. Then:
 *
 * - the process exits 0 after saying `stopped`;
 * - no request got a 5xx; every request that was in flight at the server when the signal
 *   came got its answer; a request failed at the network level only if it was sent around
 *   or after the signal (the server had stopped accepting);
 * - every answer the clients got is in the log, and no failed request left an effect: each
 *   201 registration is in `clients` and no failed one is; each refresh chain is rotated
 *   exactly as far as its client saw, and its last token still refreshes after a restart;
 *   each code redeemed with a 200 is redeemed and no code whose exchange failed is; each
 *   200 revocation revoked its grant and no failed one did;
 * - reopened, the store's chain verifies and every projection rebuilt from the log equals
 *   the live tables.
 *
 * On SQLite (a file in a temp dir) and, when a server is available, PostgreSQL (a fresh schema).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { sha256Base64Url } from '../../src/crypto/random.js';
import { startUpstreamIdp, type UpstreamIdp } from '../../src/demo/upstream-idp.js';
import { createFlowgate } from '../../src/flowgate.js';
import { openStore } from '../../src/store/open-store.js';
import type { TestProxy } from '../support/proxy.js';
import { testLogger } from '../support/proxy.js';
import { dropSchema, freshSchema, pgUrl } from '../support/stores.js';
import { tokensFor } from '../support/tokens.js';
import { expectLogConsistent, withProjections } from './support/log-checks.js';
import { killIfRunning, startServe, type ServeProcess } from './support/serve-process.js';
import { grantWorker, registrationWorker, revokeOne, TrafficRecorder, type GrantRun, type Registration, type Revocation, type Stop } from './support/traffic.js';

/** How long the upstream takes to answer each token request while the load runs. */
const UPSTREAM_DELAY_MS = 1200;
/** How long the slow registrations take to upload their body. */
const SLOW_BODY_MS = 1200;
/**
 * A request sent this long before SIGTERM has certainly reached the server (connection
 * accepted, request read): it must be answered. One sent later may race the closing
 * listener (a connection still in the kernel's accept queue, or a request written to an idle
 * keep-alive socket as it is closed) and fail at the network level; it must then have no effect.
 */
const SETTLED_MS = 800;
/** Requests in flight when SIGTERM is sent, at least. */
const MIN_IN_FLIGHT = 24;

const FAST_REGISTRATIONS = 3;
const SLOW_REGISTRATIONS = 16;
const GRANTS = 8;

interface Target {
  readonly name: 'sqlite' | 'postgres';
  readonly available: boolean;
}

const targets: Target[] = [
  { name: 'sqlite', available: true },
  { name: 'postgres', available: pgUrl() !== null },
];

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `condition` holds (checked every 20 ms). */
async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

for (const target of targets) {
  describe.skipIf(!target.available)(`SIGTERM under load on ${target.name}`, { timeout: 120_000 }, () => {
    let dir: string;
    let idp: UpstreamIdp;
    let serve: ServeProcess | undefined;
    let schema: string | undefined;
    let file: string;
    const env: Record<string, string> = {};

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `flowgate-shutdown-${target.name}-`));
      // Any port of 127.0.0.1: the IdP registers flowgate as a native (loopback) client.
      idp = await startUpstreamIdp({
        clients: [{ client_id: 'flowgate', client_secret: 'flowgate-upstream-secret', redirect_uris: ['http://127.0.0.1/auth/callback'] }],
      });
      if (target.name === 'postgres') {
        schema = freshSchema();
        env.FLOWGATE_DATABASE_URL = pgUrl()!;
        env.FLOWGATE_DATABASE_SCHEMA = schema;
      }
      file = join(dir, 'flowgate.config.json');
      writeFileSync(
        file,
        JSON.stringify({
          dataDir: join(dir, 'data'),
          masterKey: generateMasterKeyText(),
          serve: { port: 0, logLevel: 'warn' },
          store: { sqlitePath: join(dir, 'flowgate.db') },
          registration: { ratePerHour: 1_000_000 },
          upstream: {
            kind: 'oidc',
            issuer: idp.issuer,
            clientId: 'flowgate',
            clientSecret: 'flowgate-upstream-secret',
            scopes: ['openid', 'email', 'profile', 'offline_access'],
            // Every client refresh also refreshes upstream first (the IdP's tokens live 60 s).
            refreshThresholdSeconds: 3600,
          },
        }),
      );
    });
    afterAll(async () => {
      await killIfRunning(serve);
      await idp?.close();
      if (schema) await dropSchema(pgUrl()!, schema);
      rmSync(dir, { recursive: true, force: true });
    });

    it('finishes in-flight requests, exits 0, and every answered request is in a consistent log', async () => {
      serve = await startServe(['--config', file], env);
      onTestFailed(() => console.error(`flowgate serve's stderr:\n${serve?.stderr()}`));
      const proxy = { url: serve.url } as TestProxy; // the helpers only use the URL
      const recorder = new TrafficRecorder(serve.url);
      const stop: Stop = { now: false };
      const registrations: Registration[] = [];
      const grants: GrantRun[] = [];
      const revocations: Revocation[] = [];
      let killedAt = 0;
      let inFlightAtKill: ReturnType<TrafficRecorder['inFlight']> = [];
      recorder.install();
      try {
        // Two grants to revoke, made before the load. Also the users' first sign-ins: two
        // concurrent first sign-ins of one subject race on creating the subject's data key
        // (src/crypto/vault.ts prepareKey), which is not what this test is about.
        const started = performance.now();
        for (const user of ['alice', 'bob']) {
          const t = await tokensFor(proxy, { user });
          revocations.push({ client: t.client, refreshToken: t.refreshToken });
        }
        idp.setTokenFault({ kind: 'delay', ms: UPSTREAM_DELAY_MS });
        const workers = [
          ...Array.from({ length: FAST_REGISTRATIONS }, (_, w) => registrationWorker(proxy, `fast${w}`, stop, registrations)),
          ...Array.from({ length: SLOW_REGISTRATIONS }, (_, w) => registrationWorker(proxy, `slow${w}`, stop, registrations, SLOW_BODY_MS)),
          ...Array.from({ length: GRANTS }, (_, w) => grantWorker(proxy, stop, grants, w % 2 ? 'bob' : 'alice')),
          revokeOne(proxy, revocations[0]!),
        ];
        // Signal once every kind of request has succeeded under load, and while many requests
        // are in flight, several of them for long enough to have surely reached the server.
        await until(
          () => {
            const now = performance.now();
            const flying = recorder.inFlight(now);
            return (
              registrations.some((r) => r.outcome === 'created') &&
              revocations[0]!.outcome !== undefined &&
              grants.some((g) => g.tokens.length > 1) &&
              flying.length >= MIN_IN_FLIGHT &&
              flying.filter((r) => now - r.started >= SETTLED_MS).length >= 6
            );
          },
          60_000,
          'every kind of request done, and slow requests in flight',
        );
        workers.push(revokeOne(proxy, revocations[1]!));
        killedAt = performance.now();
        inFlightAtKill = recorder.inFlight(killedAt);
        serve.signal('SIGTERM');
        console.log(`${target.name}: SIGTERM ${Math.round(killedAt - started)} ms after the first request`);

        const exit = await serve.exited;
        expect(exit.code, serve.stderr()).toBe(0);
        expect(serve.stderr()).toContain('flowgate: SIGTERM received, finishing in-flight requests\n');
        expect(serve.stderr()).toMatch(/flowgate: stopped\n$/);
        expect(serve.stderr()).not.toContain('shutdown failed');
        await Promise.race([Promise.all(workers), delay(15_000)]);
      } finally {
        stop.now = true;
        recorder.uninstall();
        idp.setTokenFault(null);
      }

      // --- What the clients saw ---------------------------------------------------------
      const records = recorder.records;
      expect(records.filter((r) => r.ended === undefined), 'requests that never ended').toEqual([]);
      expect(inFlightAtKill.length).toBeGreaterThanOrEqual(MIN_IN_FLIGHT);
      expect(records.filter((r) => (r.status ?? 0) >= 500), 'no 5xx').toEqual([]);
      const settled = inFlightAtKill.filter((r) => killedAt - r.started >= SETTLED_MS);
      expect(settled.length).toBeGreaterThanOrEqual(6);
      // Sent well before the signal: answered, whether that was before or after it.
      const early = records.filter((r) => r.started <= killedAt - SETTLED_MS);
      expect(early.filter((r) => r.error !== undefined), 'requests sent well before SIGTERM that got no answer').toEqual([]);
      // The server stopped accepting: after the signal, new connections were refused.
      expect(records.some((r) => r.started > killedAt && r.error === 'ECONNREFUSED')).toBe(true);
      const answeredAfter = inFlightAtKill.filter((r) => r.status !== undefined);
      console.log(
        `${target.name}: ${records.length} requests, ${inFlightAtKill.length} in flight at SIGTERM (${settled.length} for ≥ ${SETTLED_MS} ms, ` +
          `${answeredAfter.length} answered), ${records.filter((r) => r.error).length} refused or reset after it`,
      );
      // --- What the log says --------------------------------------------------------------
      const config = await loadConfigFile(file, env);
      const store = withProjections(await openStore(config));
      try {
        const live = await expectLogConsistent(store);

        const clients = new Map(live.clients!.map((c) => [String(c.client_id), c]));
        const namesInLog = new Set(live.clients!.map((c) => (JSON.parse(String(c.metadata)) as { client_name?: string }).client_name));
        const created = registrations.filter((r) => r.outcome === 'created');
        expect(created.length).toBeGreaterThan(0);
        expect(registrations.filter((r) => r.outcome === 'status')).toEqual([]);
        for (const r of created) expect(clients.get(r.clientId!), `registered ${r.name}`).toMatchObject({ status: 'active' });
        for (const r of registrations.filter((x) => x.outcome === 'failed')) expect(namesInLog.has(r.name), `failed registration ${r.name} left a client`).toBe(false);

        const tokens = new Map(live.refresh_tokens!.map((t) => [String(t.token_hash), t]));
        const grantRows = new Map(live.grants!.map((g) => [String(g.grant_id), g]));
        const codes = new Map(live.client_codes!.map((c) => [String(c.code_hash), c]));
        expect(grants.filter((g) => g.exchange === 'status')).toEqual([]);
        expect(grants.flatMap((g) => g.refused), 'refreshes refused').toEqual([]);
        for (const g of grants.filter((x) => x.code !== undefined)) {
          const code = codes.get(sha256Base64Url(g.code!));
          expect(code, 'an issued code').toBeDefined();
          // A code whose exchange got no answer was not redeemed.
          expect(code!.status === 'redeemed').toBe(g.exchange === 'ok');
          if (g.exchange !== 'ok') continue;
          // Each token but the last was rotated into the next one; the last one — the one the
          // client holds, even when its next refresh got no answer — is the live one.
          const hashes = g.tokens.map((t) => sha256Base64Url(t));
          hashes.forEach((hash, i) => {
            const last = i === hashes.length - 1;
            expect(tokens.get(hash), `token ${i} of ${hashes.length}`).toMatchObject(
              last ? { status: 'active', successor_hash: null } : { status: 'rotated', successor_hash: hashes[i + 1] },
            );
          });
          expect(grantRows.get(String(tokens.get(hashes[0]!)!.grant_id))).toMatchObject({ status: 'active' });
        }
        expect(grants.some((g) => g.tokens.length > 1)).toBe(true);

        for (const r of revocations) {
          const grant = grantRows.get(String(tokens.get(sha256Base64Url(r.refreshToken))!.grant_id));
          expect(r.outcome).not.toBe('status');
          // A revocation that got no answer revoked nothing.
          expect(grant).toMatchObject({ status: r.outcome === 'ok' ? 'revoked' : 'active' });
        }
        expect(revocations[0]!.outcome).toBe('ok');
      } finally {
        await store.close();
      }
      // --- The last token of every grant still refreshes after a restart --------------------
      const restarted = await createFlowgate({ ...config, server: { ...config.server, issuer: serve.url } }, { logger: testLogger() });
      try {
        for (const g of grants.filter((x) => x.tokens.length > 0)) {
          const response = await restarted.fetch(
            new Request(`${serve.url}/token`, {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
              body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: g.tokens.at(-1)!, client_id: g.client!.clientId }),
            }),
          );
          expect(response.status, await response.clone().text()).toBe(200);
        }
      } finally {
        await restarted.close();
      }
    });
  });
}

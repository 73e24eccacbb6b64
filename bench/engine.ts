/**
 * `npm run bench:engine`: commands per second through `Engine.execute` on SQLite FULL,
 * next to flowgate's own store append rate (one event per transaction) at the same
 * durability. A command here is one step of a complete authorization flow (start, show
 * consent, approve, callback, upstream exchange, redeem, refresh), so the mix is what a
 * real login costs: reads and folds, machine checks, sealing, signing, the append and
 * every projection. Target: ≥ 0.5× the store's append rate. Medians of 5 alternating runs.
 * A second row runs both at `synchronous=NORMAL`, where a commit does not wait for the
 * disk: the ratio there is the ratio of the work itself.
 */
import { SignJWT, generateKeyPair } from 'jose';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { openEngine } from '../src/engine/create-engine.js';
import type { AccessTokenSigner } from '../src/engine/context.js';
import { deriveEventId, newCommandId } from '../src/events/ids.js';
import { openStore } from '../src/store/open-store.js';
import { generateMasterKeyText } from '../src/crypto/master-key.js';
import { clientSide, upstreamTokens } from '../test/support/flows.js';
import { compare, printHeader, secondsSince, writeResults, type Row, type RunResult } from './lib/measure.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FLOWS = Number(process.env.BENCH_FLOWS ?? 200);
const SYNC = (process.env.BENCH_SYNC ?? 'FULL') as 'FULL' | 'NORMAL';
type Sync = 'FULL' | 'NORMAL';

const { privateKey } = await generateKeyPair('ES256');
const signer: AccessTokenSigner = {
  sign: (claims) => new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'bench' }).sign(privateKey),
};

function freshConfig(synchronous: Sync) {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-engine-'));
  const config = parseConfig({
    values: { dataDir: dir, masterKey: generateMasterKeyText(), store: { sqlitePath: join(dir, 'b.db'), synchronous } },
  });
  return { config, dir };
}

/** Complete flows through the engine; the commands executed and their time (opening the engine left out). */
async function engineCommands(synchronous: Sync): Promise<RunResult> {
  const { config, dir } = freshConfig(synchronous);
  const opened = await openEngine(config, { signer, upstreamIssuer: 'http://127.0.0.1:9999' });
  const engine = opened.engine;
  let commands = 0;
  const start = process.hrtime.bigint();
  try {
    for (let i = 0; i < FLOWS; i++) {
      const client = clientSide(`client-${i % 10}`);
      const started = await engine.execute({
        type: 'StartFlow',
        clientId: client.clientId,
        redirectUri: client.redirectUri,
        codeChallenge: client.challenge,
        scopes: ['mcp:tools'],
        resource: 'http://127.0.0.1:8787/mcp',
        clientState: client.state,
        browserHash: client.browser,
      });
      await engine.execute({ type: 'ShowConsent', flowId: started.flowId, browserHash: client.browser });
      const approved = await engine.execute({ type: 'ApproveConsent', flowId: started.flowId, browserHash: client.browser });
      const accepted = await engine.execute({ type: 'AcceptCallback', upstreamState: approved.upstream.state, browserHash: client.browser });
      const issued = await engine.execute({
        type: 'CompleteUpstreamExchange',
        flowId: accepted.flowId,
        subject: `user-${i % 7}`,
        claims: null,
        tokenSet: upstreamTokens(),
        upstreamExpiresAt: Date.now() + 3600_000,
        refreshable: true,
        grantedScopes: ['mcp:tools'],
      });
      const tokens = await engine.execute({
        type: 'RedeemCode',
        code: issued.code,
        clientId: client.clientId,
        codeVerifier: client.verifier,
        redirectUri: client.redirectUri,
        resource: null,
        issueRefreshToken: true,
      });
      await engine.execute({ type: 'RefreshGrant', refreshToken: tokens.refreshToken!, clientId: client.clientId, scopes: null, resource: null });
      commands += 7;
    }
    return { ops: commands, seconds: secondsSince(start) };
  } finally {
    await opened.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One event per transaction through the store, as `bench:store` measures it (opening the store left out). */
async function storeAppends(synchronous: Sync): Promise<RunResult> {
  const { config, dir } = freshConfig(synchronous);
  const store = await openStore(config);
  const count = FLOWS * 7;
  const start = process.hrtime.bigint();
  try {
    for (let i = 0; i < count; i++) {
      const commandId = newCommandId();
      await store.append(`flow:${i}`, 0, [
        {
          eventId: deriveEventId(commandId, 0),
          type: 'code.issued',
          data: { codeHash: 'k2mR7cQ0s1m6l4zWkz6yq0u3F8pQ2oX9vJc1T5eH3nA', clientId: 'a1b2c3d4', scopes: ['mcp:tools'] },
          metadata: { commandId },
          occurredAt: Date.now(),
        },
      ]);
    }
    return { ops: count, seconds: secondsSince(start) };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

printHeader(`engine, medians of ${RUNS} runs (${FLOWS} complete flows = ${FLOWS * 7} commands per run)`);
const rows: Array<Row | undefined> = [
  await compare(
    `SQLite ${SYNC}: commands through execute`,
    { name: 'Engine.execute (flow steps)', run: () => engineCommands(SYNC) },
    { name: 'EventStore.append (1 event/tx)', run: () => storeAppends(SYNC) },
    RUNS,
    0.5,
  ),
  // Without an fsync per commit the ratio is the work ratio: what a command does besides
  // the commit, against what one append does. No target; it explains the row above.
  await compare(
    'SQLite NORMAL (no fsync per commit): commands through execute',
    { name: 'Engine.execute (flow steps)', run: () => engineCommands('NORMAL') },
    { name: 'EventStore.append (1 event/tx)', run: () => storeAppends('NORMAL') },
    RUNS,
  ),
];
writeResults('engine', rows.filter((r): r is Row => r !== undefined), { runs: RUNS, flows: FLOWS, synchronous: SYNC });

/**
 * The log of the investigation in docs/audit.md, written by the real engine into a SQLite
 * file: a registered client, a few logins, then an attacker who replays a stolen
 * authorization code and later a stolen (already rotated) refresh token, with the
 * rejections the HTTP layer records in `security_events` (as `/token` does: reuse and a
 * failed PKCE check).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Vault } from '../../../src/crypto/vault.js';
import { Engine } from '../../../src/engine/engine.js';
import { DEFAULT_ENGINE_SETTINGS } from '../../../src/engine/settings.js';
import { parseConfig } from '../../../src/config/load.js';
import { PROJECTIONS } from '../../../src/projections/index.js';
import { SecurityEvents } from '../../../src/security/security-events.js';
import { openStore } from '../../../src/store/open-store.js';
import { RecordingRandom, TestClock, TestSigner } from '../../support/engine.js';
import { clientSide, flowToCode } from '../../support/flows.js';
import { realTraffic } from './traffic.js';

/** What the scenario left, for the test (and the doc) to point at. */
export interface Investigation {
  readonly path: string;
  readonly codeReplay: { readonly flow: string; readonly grant: string };
  readonly refreshReuse: { readonly grant: string };
}

/**
 * Writes the scenario into `dir/flowgate.db` (the data directory of the CLI runs). Personal
 * data is sealed under `masterKey` (random by default; pass the CLI's to let `flowgate
 * replay` open it).
 */
export async function writeInvestigationLog(dir: string, masterKey: Uint8Array = new Uint8Array(randomBytes(32))): Promise<Investigation> {
  const path = join(dir, 'flowgate.db');
  const config = parseConfig({ values: { dataDir: dir, store: { sqlitePath: path, synchronous: 'NORMAL' } } });
  const store = await openStore(config);
  try {
    for (const projection of PROJECTIONS) store.registerProjection(projection);
    const clock = new TestClock();
    const vault = new Vault(store.db, masterKey, clock.now);
    const signer = await TestSigner.create();
    const engine = new Engine({
      store,
      vault,
      settings: DEFAULT_ENGINE_SETTINGS,
      signer,
      upstreamIssuer: 'http://127.0.0.1:9999',
      clock: clock.now,
      random: new RecordingRandom(),
    });
    const t = { engine, clock, settings: DEFAULT_ENGINE_SETTINGS } as Parameters<typeof realTraffic>[0];
    const traffic = await realTraffic(t, 4);
    // What /token records alongside, when it happened: a bad verifier and the replayed
    // code, then the reused refresh token.
    const lastEventOf = async (streamId: string) => (await store.readStream(streamId)).at(-1)!.occurredAt;
    const codeReplayAt = await lastEventOf(traffic.codeReplay.flow);
    const refreshReuseAt = await lastEventOf(traffic.refreshReuse.grant);
    await new SecurityEvents(store.db, () => codeReplayAt).record('pkce_failed', 'client-audit');
    await new SecurityEvents(store.db, () => codeReplayAt).record('reuse_detected', 'client-audit');
    await new SecurityEvents(store.db, () => refreshReuseAt).record('reuse_detected', 'client-audit');
    // A little more traffic after the incidents.
    clock.advance(60_000);
    await flowToCode(engine, clientSide('client-audit', 'http://127.0.0.1:53682/callback'));
    return { path, codeReplay: traffic.codeReplay, refreshReuse: traffic.refreshReuse };
  } finally {
    await store.close();
  }
}

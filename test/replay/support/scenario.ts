/**
 * A small, real log for the replay, retention, privacy and report tests, written by the
 * engine (never by hand): a registered client, and five flows that end differently.
 *
 * - `live`: alice's flow, redeemed, refreshed once; its grant is still live.
 * - `revoked`: bob's flow, redeemed; its client revoked the refresh token (grant revoked).
 * - `denied`: a flow whose user clicked Deny.
 * - `abandoned`: a flow nobody finished, expired by the sweeper.
 * - `replayed`: alice's second flow, redeemed, then its code replayed (reuse detected, grant
 *   revoked in the same command).
 *
 * `openScenarioEngine` builds the engine on any store target or on a SQLite file with a
 * known master key, so the compiled CLI can open the same file (`cliEnv`).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../src/config/load.js';
import type { FlowgateConfig } from '../../../src/config/schema.js';
import { generateMasterKeyText, parseMasterKey } from '../../../src/crypto/master-key.js';
import { Vault } from '../../../src/crypto/vault.js';
import { Engine } from '../../../src/engine/engine.js';
import { DEFAULT_ENGINE_SETTINGS } from '../../../src/engine/settings.js';
import { PROJECTIONS } from '../../../src/projections/index.js';
import type { EventStore } from '../../../src/store/event-store.js';
import { openStore } from '../../../src/store/open-store.js';
import { RecordingRandom, TestClock, TestSigner } from '../../support/engine.js';
import { clientSide, flowToCode } from '../../support/flows.js';
import type { StoreTarget, TestStore } from '../../support/stores.js';

/** The upstream issuer the scenario's subjects are scoped to (and the CLI configuration names). */
export const ISSUER = 'http://127.0.0.1:9999';
export const CLIENT_ID = 'client-replay';
const REDIRECT = 'http://127.0.0.1:53682/callback';

/** An engine the scenario runs on. */
export interface ScenarioEngine {
  readonly engine: Engine;
  readonly store: EventStore;
  readonly vault: Vault;
  readonly clock: TestClock;
  /** Every secret the engine made (codes, refresh tokens …), for the no-secret checks. */
  readonly random: RecordingRandom;
  readonly config: FlowgateConfig;
  readonly masterKey: string;
  dispose(): Promise<void>;
}

function build(store: EventStore, config: FlowgateConfig, masterKey: string, dispose: () => Promise<void>): Promise<ScenarioEngine> {
  for (const projection of PROJECTIONS) store.registerProjection(projection);
  const clock = new TestClock();
  const random = new RecordingRandom();
  const vault = new Vault(store.db, parseMasterKey(masterKey), clock.now);
  return TestSigner.create().then((signer) => ({
    engine: new Engine({
      store,
      vault,
      settings: DEFAULT_ENGINE_SETTINGS,
      signer,
      upstreamIssuer: ISSUER,
      clock: clock.now,
      random,
    }),
    store,
    vault,
    clock,
    random,
    config,
    masterKey,
    dispose,
  }));
}

/** The scenario's engine on a store target (SQLite in memory, or PostgreSQL). */
export async function openScenarioEngine(target: StoreTarget): Promise<ScenarioEngine> {
  const opened: TestStore = await target.open();
  return build(opened.store, opened.config, generateMasterKeyText(), () => opened.dispose());
}

/** The scenario's engine on a SQLite file in `at` (default: a new temporary directory), with a configuration file the CLI reads. */
export async function openScenarioFile(
  at?: string,
): Promise<ScenarioEngine & { readonly dir: string; readonly configFile: string; cliEnv(): Record<string, string> }> {
  const dir = at ?? mkdtempSync(join(tmpdir(), 'flowgate-replay-'));
  const masterKey = generateMasterKeyText();
  const values = {
    dataDir: dir,
    store: { sqlitePath: join(dir, 'flowgate.db'), synchronous: 'NORMAL' as const },
    upstream: { kind: 'oidc' as const, issuer: ISSUER, clientId: 'flowgate', clientSecret: 'upstream-secret' },
  };
  const configFile = join(dir, 'flowgate.config.json');
  writeFileSync(configFile, JSON.stringify(values));
  const config = parseConfig({ values });
  const store = await openStore(config);
  const built = await build(store, config, masterKey, () => store.close());
  return { ...built, dir, configFile, cliEnv: () => ({ FLOWGATE_MASTER_KEY: masterKey }) };
}

/** The streams the scenario wrote. */
export interface Scenario {
  readonly client: string;
  readonly live: { readonly flow: string; readonly grant: string };
  readonly revoked: { readonly flow: string; readonly grant: string };
  readonly denied: { readonly flow: string; readonly grantId: string };
  readonly abandoned: { readonly flow: string; readonly grantId: string };
  readonly replayed: { readonly flow: string; readonly grant: string };
  /** When the last event was written. */
  readonly endedAt: number;
}

/** Writes the scenario (see the module comment). */
export async function writeScenario(s: ScenarioEngine): Promise<Scenario> {
  const { engine, clock } = s;
  await engine.execute({
    type: 'RegisterClient',
    clientId: CLIENT_ID,
    kind: 'dynamic',
    metadata: {
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: 'Replay test client',
    },
    secretHash: null,
    allowedPatterns: [],
  });
  const complete = async (subject: string) => {
    clock.advance(1000);
    const side = clientSide(CLIENT_ID, REDIRECT);
    const f = await flowToCode(engine, side, { subject });
    clock.advance(200);
    const redeem = { type: 'RedeemCode' as const, code: f.issued.code, clientId: CLIENT_ID, codeVerifier: side.verifier, redirectUri: REDIRECT, resource: null, issueRefreshToken: true };
    const tokens = await engine.execute(redeem);
    return { flow: `flow:${f.started.flowId}`, grant: `grant:${tokens.grantId}`, tokens, redeem };
  };

  const live = await complete('alice');
  clock.advance(500);
  await engine.execute({ type: 'RefreshGrant', refreshToken: live.tokens.refreshToken!, clientId: CLIENT_ID, scopes: null, resource: null });

  const revoked = await complete('bob');
  clock.advance(500);
  await engine.execute({ type: 'RevokeRefreshToken', refreshToken: revoked.tokens.refreshToken!, clientId: CLIENT_ID });

  clock.advance(1000);
  const deniedSide = clientSide(CLIENT_ID, REDIRECT);
  const denied = await engine.execute({
    type: 'StartFlow',
    clientId: CLIENT_ID,
    redirectUri: REDIRECT,
    codeChallenge: deniedSide.challenge,
    scopes: ['mcp:tools'],
    resource: 'http://127.0.0.1:8787/mcp',
    clientState: deniedSide.state,
    browserHash: deniedSide.browser,
  });
  await engine.execute({ type: 'ShowConsent', flowId: denied.flowId, browserHash: deniedSide.browser });
  await engine.execute({ type: 'DenyConsent', flowId: denied.flowId, browserHash: deniedSide.browser });

  const replayed = await complete('alice');
  clock.advance(300);
  await engine.execute(replayed.redeem).then(
    () => {
      throw new Error('a replayed code was accepted');
    },
    () => undefined,
  );

  clock.advance(1000);
  const abandonedSide = clientSide(CLIENT_ID, REDIRECT);
  const abandoned = await engine.execute({
    type: 'StartFlow',
    clientId: CLIENT_ID,
    redirectUri: REDIRECT,
    codeChallenge: abandonedSide.challenge,
    scopes: ['mcp:tools'],
    resource: 'http://127.0.0.1:8787/mcp',
    clientState: null,
    browserHash: abandonedSide.browser,
  });
  clock.advance(DEFAULT_ENGINE_SETTINGS.flowTtlMs + 1000);
  await engine.sweep();
  return {
    client: `client:${CLIENT_ID}`,
    live: { flow: live.flow, grant: live.grant },
    revoked: { flow: revoked.flow, grant: revoked.grant },
    denied: { flow: `flow:${denied.flowId}`, grantId: denied.grantId },
    abandoned: { flow: `flow:${abandoned.flowId}`, grantId: abandoned.grantId },
    replayed: { flow: replayed.flow, grant: replayed.grant },
    endedAt: clock.now(),
  };
}

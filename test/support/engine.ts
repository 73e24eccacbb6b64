/**
 * An engine on a test store: SQLite in memory or PostgreSQL in a fresh schema, a random
 * master key, every projection, an ES256 signer, a controllable clock and a random source
 * that remembers every secret it handed out (for the no-plaintext-secret checks).
 */
import { SignJWT, generateKeyPair, type CryptoKey } from 'jose';
import { randomBytes } from 'node:crypto';
import { Vault } from '../../src/crypto/vault.js';
import { cryptoRandom, type AccessTokenClaims, type AccessTokenSigner, type Random } from '../../src/engine/context.js';
import { Engine } from '../../src/engine/engine.js';
import { DEFAULT_ENGINE_SETTINGS, type EngineSettings } from '../../src/engine/settings.js';
import { PROJECTIONS } from '../../src/projections/index.js';
import type { StoreTarget, TestStore } from './stores.js';

/** A clock tests move by hand. */
export class TestClock {
  constructor(public ms = Date.UTC(2026, 10, 29, 12, 0, 0)) {}
  now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A random source that records every secret it produced. */
export class RecordingRandom implements Random {
  readonly secrets: string[] = [];
  token(bytes = 32): string {
    const value = cryptoRandom.token(bytes);
    this.secrets.push(value);
    return value;
  }
  id(): string {
    return cryptoRandom.id();
  }
}

/** An ES256 signer with one in-memory key (the keyring arrives with the authorization server). */
export class TestSigner implements AccessTokenSigner {
  private constructor(
    readonly privateKey: CryptoKey,
    readonly publicKey: CryptoKey,
    readonly issuer: string,
  ) {}

  static async create(issuer = 'http://127.0.0.1:8787'): Promise<TestSigner> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    return new TestSigner(privateKey, publicKey, issuer);
  }

  sign(claims: AccessTokenClaims): Promise<string> {
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'test' })
      .setIssuer(this.issuer)
      .sign(this.privateKey);
  }
}

/** An engine under test and what it is made of. */
export interface TestEngine {
  readonly engine: Engine;
  readonly store: TestStore;
  readonly vault: Vault;
  readonly clock: TestClock;
  readonly random: RecordingRandom;
  readonly signer: TestSigner;
  readonly settings: EngineSettings;
  dispose(): Promise<void>;
}

/** Builds an engine on `target`. */
export async function openTestEngine(
  target: StoreTarget,
  options: { settings?: Partial<EngineSettings>; file?: boolean } = {},
): Promise<TestEngine> {
  const store = await target.open({ file: options.file ?? false });
  for (const projection of PROJECTIONS) store.store.registerProjection(projection);
  const clock = new TestClock();
  const random = new RecordingRandom();
  const vault = new Vault(store.store.db, new Uint8Array(randomBytes(32)), clock.now);
  const signer = await TestSigner.create();
  const settings = { ...DEFAULT_ENGINE_SETTINGS, ...options.settings };
  const engine = new Engine({
    store: store.store,
    vault,
    settings,
    signer,
    upstreamIssuer: 'http://127.0.0.1:9999',
    clock: clock.now,
    random,
  });
  return { engine, store, vault, clock, random, signer, settings, dispose: () => store.dispose() };
}

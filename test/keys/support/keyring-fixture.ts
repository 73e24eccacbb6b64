/**
 * A keyring on a test store (SQLite or PostgreSQL), a clock tests move by hand, and a
 * second "instance": another Keyring on the same database, either through the same store
 * or through a store of its own (another connection pool, or another SQLite connection).
 */
import { randomBytes } from 'node:crypto';
import { Vault } from '../../../src/crypto/vault.js';
import { Keyring, type KeyringOptions } from '../../../src/keys/keyring.js';
import type { EventStore } from '../../../src/store/event-store.js';
import { openStore } from '../../../src/store/open-store.js';
import { TestClock } from '../../support/engine.js';
import type { StoreTarget, TestStore } from '../../support/stores.js';

export const ISSUER = 'https://auth.example.test';
export const RESOURCE = 'https://mcp.example.test/mcp';
export const HOUR_MS = 3_600_000;

/** A keyring under test. */
export interface TestKeyring {
  readonly keyring: Keyring;
  readonly store: TestStore;
  readonly vault: Vault;
  readonly clock: TestClock;
  readonly masterKey: Uint8Array;
  readonly options: KeyringOptions;
  /** Another keyring instance on the same store (same connection or pool). */
  sibling(options?: Partial<KeyringOptions>): Promise<Keyring>;
  /** Another store on the same database (own connection or pool) and a keyring on it. */
  secondInstance(options?: Partial<KeyringOptions>): Promise<{ store: EventStore; keyring: Keyring }>;
  dispose(): Promise<void>;
}

/** Opens a store on `target` and a keyring on it. */
export async function openTestKeyring(
  target: StoreTarget,
  options: Partial<KeyringOptions> & { file?: boolean } = {},
): Promise<TestKeyring> {
  const { file, ...keyringOptions } = options;
  const store = await target.open({ file: file ?? false });
  const clock = new TestClock();
  const masterKey = new Uint8Array(randomBytes(32));
  const vault = new Vault(store.store.db, masterKey, clock.now);
  const base: KeyringOptions = { accessTokenTtlMs: HOUR_MS, clock: clock.now, ...keyringOptions };
  const keyring = await Keyring.open(store.store.db, vault, base);
  const extraStores: EventStore[] = [];
  return {
    keyring,
    store,
    vault,
    clock,
    masterKey,
    options: base,
    sibling: (more = {}) => Keyring.open(store.store.db, new Vault(store.store.db, masterKey, clock.now), { ...base, ...more }),
    async secondInstance(more = {}) {
      const second = await openStore(store.config);
      extraStores.push(second);
      const keyring2 = await Keyring.open(second.db, new Vault(second.db, masterKey, clock.now), { ...base, ...more });
      return { store: second, keyring: keyring2 };
    },
    async dispose() {
      for (const s of extraStores) await s.close().catch(() => {});
      await store.dispose();
    },
  };
}

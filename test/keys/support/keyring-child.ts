/**
 * Child process for the cross-process keyring races: opens the store the environment names
 * (SQLite file or PostgreSQL schema) with the shared master key, waits for the shared start
 * time, opens the keyring (racing the other processes to create the first keys), fires
 * KEYRING_ROTATIONS rotations at once, signs one token, and prints what happened as JSON.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfigFile } from '../../../src/config/load.js';
import { resolveMasterKey } from '../../../src/crypto/master-key.js';
import { Vault } from '../../../src/crypto/vault.js';
import { Keyring } from '../../../src/keys/keyring.js';
import { keyringOptionsFrom } from '../../../src/keys/settings.js';
import { openStore } from '../../../src/store/open-store.js';

const env = process.env;
const config = await loadConfigFile(undefined, env);
const masterKey = resolveMasterKey({ configured: config.masterKey, dataDir: config.dataDir, requireConfigured: true });
const store = await openStore(config);
const vault = new Vault(store.db, masterKey.bytes);
const startAt = Number(env.KEYRING_START_AT);
while (Date.now() < startAt) await sleep(1);
const keyring = await Keyring.open(store.db, vault, keyringOptionsFrom(config));
const rotations = await Promise.allSettled(
  Array.from({ length: Number(env.KEYRING_ROTATIONS ?? 3) }, () => keyring.rotate('access_token')),
);
const now = Math.floor(Date.now() / 1000);
const token = await keyring.accessTokenSigner(env.KEYRING_ISSUER!).sign({
  sub: 'child',
  aud: env.KEYRING_RESOURCE!,
  client_id: 'child-client',
  scope: 'read',
  jti: `child-${process.pid}`,
  iat: now,
  exp: now + 600,
});
await store.close();
process.stdout.write(
  JSON.stringify({
    token,
    rotations: rotations.map((r) =>
      r.status === 'fulfilled' ? { ok: true, action: r.value.action } : { ok: false, error: (r.reason as { code?: string }).code ?? String(r.reason) },
    ),
  }) + '\n',
);

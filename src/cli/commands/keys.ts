/**
 * `flowgate keys list|rotate|retire|prune|generate-master|rewrap`: the keyring in the store
 * (src/keys/keyring.ts) and the master key (src/keys/master-key-rewrap.ts), from the command line. Opens the store and the master key the
 * usual configuration names; every refusal is one line on stderr and exit 1.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { loadConfigFile } from '../../config/load.js';
import { generateMasterKeyText, MasterKeyError, masterKeyWarning, parseMasterKey, resolveMasterKey } from '../../crypto/master-key.js';
import { Vault } from '../../crypto/vault.js';
import { Keyring } from '../../keys/keyring.js';
import { rewrapMasterKey, type RewrapCounts, type RewrapResult } from '../../keys/master-key-rewrap.js';
import { keyringOptionsFrom } from '../../keys/settings.js';
import { KEY_PURPOSES, type KeyInfo, type KeyPurpose } from '../../keys/types.js';
import { openStore } from '../../store/open-store.js';
import { isoOrNull, say, textTable, when, type Column } from '../table.js';
import { configOption } from './options.js';

interface ConfigOptions {
  readonly config?: string;
}

/** Opens the configured store and keyring, runs `use`, and closes the store. */
async function withKeyring(options: ConfigOptions, use: (keyring: Keyring, refreshSeconds: number) => Promise<void>): Promise<void> {
  const config = await loadConfigFile(options.config, process.env);
  const masterKey = resolveMasterKey({
    configured: config.masterKey,
    dataDir: config.dataDir,
    requireConfigured: config.store.databaseUrl !== undefined,
  });
  const warning = masterKeyWarning(masterKey);
  if (warning) process.stderr.write(`flowgate: warning: ${warning}\n`);
  const store = await openStore(config);
  try {
    const keyring = await Keyring.open(store.db, new Vault(store.db, masterKey.bytes), keyringOptionsFrom(config));
    await use(keyring, config.keys.refreshSeconds);
  } finally {
    await store.close();
  }
}

const COLUMNS: ReadonlyArray<Column<KeyInfo>> = [
  ['KID', (k) => k.kid],
  ['PURPOSE', (k) => k.purpose],
  ['ALG', (k) => k.alg],
  ['STATE', (k) => k.state],
  ['CREATED', (k) => when(k.createdAt)],
  ['ACTIVATED', (k) => when(k.activatedAt)],
  ['RETIRED', (k) => when(k.retiredAt)],
  ['NOT AFTER', (k) => when(k.notAfter)],
  ['REMOVED', (k) => when(k.removedAt)],
];

/** The keys as an aligned text table. */
export function keyTable(keys: readonly KeyInfo[]): string {
  return textTable(COLUMNS, keys);
}

/** The keys as JSON (times in ISO 8601, null when absent). */
export function keyJson(keys: readonly KeyInfo[]): string {
  const iso = isoOrNull;
  return JSON.stringify(
    keys.map((k) => ({
      kid: k.kid,
      purpose: k.purpose,
      alg: k.alg,
      state: k.state,
      createdAt: iso(k.createdAt),
      activatedAt: iso(k.activatedAt),
      retiredAt: iso(k.retiredAt),
      notAfter: iso(k.notAfter),
      removedAt: iso(k.removedAt),
      publicJwk: k.publicJwk,
    })),
    null,
    2,
  );
}

/** Reads the new master key from `path` (the form `FLOWGATE_MASTER_KEY` takes), never from argv. */
export function readNewMasterKey(path: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new MasterKeyError(`cannot read the new master key from ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return parseMasterKey(text);
  } catch (error) {
    throw new MasterKeyError(`${path}: ${(error as Error).message}`);
  }
}

const REWRAP_COLUMNS: ReadonlyArray<Column<readonly [string, RewrapCounts]>> = [
  ['TABLE', ([table]) => table],
  ['REWRAPPED', ([, c]) => String(c.rewrapped)],
  ['ALREADY NEW', ([, c]) => String(c.alreadyNew)],
  ['SKIPPED', ([, c]) => String(c.skipped)],
];

/** A rotation's counts as a text table (SKIPPED: destroyed data keys, removed signing keys). */
export function rewrapTable(result: RewrapResult): string {
  return textTable(REWRAP_COLUMNS, [
    ['data_keys', result.dataKeys],
    ['signing_keys', result.signingKeys],
  ]);
}

/** Registers `keys` and its subcommands on the program. */
export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('manage the signing keys (access tokens, cookies, audit anchors) kept in the store');

  keys
    .command('list')
    .description('list every signing key and its state')
    .addOption(configOption())
    .option('--json', 'print JSON instead of a table')
    .action(async (options: ConfigOptions & { json?: boolean }) => {
      await withKeyring(options, async (keyring) => {
        const all = await keyring.list();
        say(options.json ? keyJson(all) : keyTable(all));
      });
    });

  keys
    .command('rotate')
    .description('stage a next key (published, not signing yet); run again to make it active and retire the old one')
    .addOption(configOption())
    .addOption(
      new Option('--purpose <purpose>', 'which keys to rotate (anchor keys never rotate)')
        .choices([...KEY_PURPOSES])
        .default('access_token'),
    )
    .action(async (options: ConfigOptions & { purpose: KeyPurpose }) => {
      await withKeyring(options, async (keyring, refreshSeconds) => {
        const result = await keyring.rotate(options.purpose);
        const seen = `running instances see it within ${refreshSeconds} s`;
        if (result.action === 'staged') {
          say(
            `flowgate: ${result.purpose}: staged ${result.next.kid} as the next key (${result.purpose === 'access_token' ? 'published in the JWKS, ' : ''}not signing yet; ${seen}); ` +
              `run \`flowgate keys rotate --purpose ${result.purpose}\` again to make it active`,
          );
        } else {
          const retired = result.retired ? `; ${result.retired.kid} retired, trusted until ${when(result.retired.notAfter)}` : '';
          say(`flowgate: ${result.purpose}: ${result.active.kid} is now active${retired} (${seen})`);
        }
      });
    });

  keys
    .command('retire')
    .description('retire a key: an active one is replaced at once by the next key, or by a new one')
    .argument('<kid>', 'the key to retire (see `flowgate keys list`)')
    .addOption(configOption())
    .option('--now', 'stop trusting it at once, for a compromised key: every token it signed is refused')
    .action(async (kid: string, options: ConfigOptions & { now?: boolean }) => {
      await withKeyring(options, async (keyring) => {
        const result = await keyring.retire(kid, { immediate: options.now === true });
        const until = `trusted until ${when(result.key.notAfter)}`;
        if (!result.changed) {
          say(`flowgate: ${kid} was already retired (${until})`);
          return;
        }
        const replaced = result.replacement ? `; ${result.replacement.kid} is now the active ${result.key.purpose} key` : '';
        say(`flowgate: retired ${kid} (${result.key.purpose}), ${until}${replaced}`);
      });
    });

  keys
    .command('prune')
    .description('remove retired keys whose tokens have all expired (erases their private part; anchor keys are kept)')
    .addOption(configOption())
    .action(async (options: ConfigOptions) => {
      await withKeyring(options, async (keyring) => {
        const { removed } = await keyring.prune();
        say(removed.length === 0 ? 'flowgate: nothing to prune' : `flowgate: removed ${removed.length} retired key(s): ${removed.join(', ')}`);
      });
    });

  keys
    .command('rewrap')
    .description(
      'rotate the master key: re-wrap every data key and re-seal every signing key with the new key, in one transaction; then restart every instance with the new key',
    )
    .addOption(configOption())
    .requiredOption('--new-master-key-file <file>', 'file holding the new master key (as `flowgate keys generate-master` prints it); never pass the key itself on the command line')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: ConfigOptions & { newMasterKeyFile: string; json?: boolean }) => {
      const config = await loadConfigFile(options.config, process.env);
      const current = resolveMasterKey({
        configured: config.masterKey,
        dataDir: config.dataDir,
        requireConfigured: config.store.databaseUrl !== undefined,
      });
      const next = readNewMasterKey(options.newMasterKeyFile);
      const store = await openStore(config);
      let result: RewrapResult;
      try {
        result = await rewrapMasterKey(store.db, current.bytes, next);
      } finally {
        await store.close();
      }
      if (options.json) {
        say(JSON.stringify(result, null, 2));
        return;
      }
      say(rewrapTable(result));
      if (result.dataKeys.rewrapped + result.signingKeys.rewrapped === 0) {
        say('flowgate: nothing to re-wrap: every key is already under the new master key (or there are none)');
        return;
      }
      const where = current.source === 'configured' ? 'FLOWGATE_MASTER_KEY' : `FLOWGATE_MASTER_KEY (or replace ${current.path})`;
      say(`flowgate: the keys are now under the new master key; restart every instance with it in ${where}, and keep the old key until they run`);
    });

  keys
    .command('generate-master')
    .description('print a new random master key, for FLOWGATE_MASTER_KEY')
    .action(() => {
      say(generateMasterKeyText());
    });
}

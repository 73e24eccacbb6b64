/**
 * `flowgate keys list|rotate|retire|prune|generate-master`: the keyring in the store
 * (src/keys/keyring.ts), from the command line. Opens the store and the master key the
 * usual configuration names; every refusal is one line on stderr and exit 1.
 *
 * @module
 */
import { Option, type Command } from 'commander';
import { loadConfigFile } from '../../config/load.js';
import { generateMasterKeyText, masterKeyWarning, resolveMasterKey } from '../../crypto/master-key.js';
import { Vault } from '../../crypto/vault.js';
import { Keyring } from '../../keys/keyring.js';
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
    .command('generate-master')
    .description('print a new random master key, for FLOWGATE_MASTER_KEY')
    .action(() => {
      say(generateMasterKeyText());
    });
}

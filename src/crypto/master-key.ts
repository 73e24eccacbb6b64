/**
 * The master key: the root of envelope encryption (it wraps every data key) and of the
 * keyring's key material at rest. Configured with `FLOWGATE_MASTER_KEY`; for development a
 * key is generated into the data directory, and every start warns about it.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FlowgateError } from '../errors/flowgate-error.js';

/** A 256-bit master key and where it came from. */
export interface MasterKey {
  readonly bytes: Uint8Array;
  /** `configured`: from configuration; `generated`: created now in the data dir; `file`: an earlier generated one. */
  readonly source: 'configured' | 'generated' | 'file';
  /** The file holding a development key. */
  readonly path?: string;
}

/** The master key is missing or malformed. */
export class MasterKeyError extends FlowgateError {
  constructor(message: string) {
    super('ERR_MASTER_KEY', message);
  }
}

/** Parses a master key written as 43 base64url characters or 64 hex digits (32 bytes). */
export function parseMasterKey(text: string): Uint8Array {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return new Uint8Array(Buffer.from(value, 'hex'));
  if (/^[A-Za-z0-9_-]{43}$/.test(value)) {
    const bytes = Buffer.from(value, 'base64url');
    if (bytes.length === 32) return new Uint8Array(bytes);
  }
  throw new MasterKeyError('the master key must be 32 bytes written as 43 base64url characters or 64 hex digits');
}

/** A new random master key in the form `FLOWGATE_MASTER_KEY` takes. */
export function generateMasterKeyText(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The master key to use. A configured key wins. Without one, a development key is read
 * from (or generated into) `<dataDir>/master.key`, unless `requireConfigured` (several
 * instances on PostgreSQL must share one key, so a per-machine file would be wrong).
 */
export function resolveMasterKey(options: {
  readonly configured?: string;
  readonly dataDir: string;
  readonly requireConfigured?: boolean;
}): MasterKey {
  if (options.configured) return { bytes: parseMasterKey(options.configured), source: 'configured' };
  if (options.requireConfigured) {
    throw new MasterKeyError(
      'FLOWGATE_MASTER_KEY is required with PostgreSQL (every instance must share it); generate one with `flowgate keys generate-master`',
    );
  }
  const path = resolve(join(options.dataDir, 'master.key'));
  if (existsSync(path)) return { bytes: parseMasterKey(readFileSync(path, 'utf8')), source: 'file', path };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${generateMasterKeyText()}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { bytes: parseMasterKey(readFileSync(path, 'utf8')), source: 'generated', path };
}

/** The warning a development master key deserves, or undefined for a configured one. */
export function masterKeyWarning(key: MasterKey): string | undefined {
  if (key.source === 'configured') return undefined;
  return `using a development master key from ${key.path}: anyone who can read that file can decrypt the stored upstream tokens; set FLOWGATE_MASTER_KEY for production`;
}

/**
 * The keys file of `flowgate export --with-keys` (docs/privacy.md, "Export and restore"):
 * the rows of `data_keys` (every data key wrapped by the master key; destroyed keys as
 * tombstones, so a restore keeps them destroyed) and of `signing_keys` (public JWKs, and
 * private JWKs sealed with the master key). No key is ever written in the clear: the file
 * is useless without the master key, and a restore needs the same master key.
 *
 * ```
 * {"kind":"header","format":"flowgate-keys","version":1,"createdAt":…}
 * {"kind":"data_key","keyId":…,"wrappedKey":…|null,"createdAt":…,"destroyedAt":…|null}
 * {"kind":"signing_key","kid":…,"purpose":…,…}
 * {"kind":"end","keys":N,"digest":…}
 * ```
 *
 * @module
 */
import type { Kysely, Transaction } from 'kysely';
import { z } from 'zod';
import { decryptCompactDir } from '../crypto/jwe-dir.js';
import { FlowgateError } from '../errors/flowgate-error.js';
import type { LineSink } from './line-sink.js';
import { LineDigest, LogFileError, parseLine } from './log-lines.js';
import { canonicalJson } from '../events/canonical-json.js';

const ms = z.number().int().nonnegative();

const keyHeaderSchema = z.strictObject({
  kind: z.literal('header'),
  format: z.literal('flowgate-keys'),
  version: z.literal(1),
  createdAt: ms,
});

const dataKeyLineSchema = z.strictObject({
  kind: z.literal('data_key'),
  keyId: z.string().min(1),
  wrappedKey: z.string().min(1).nullable(),
  createdAt: ms,
  destroyedAt: ms.nullable(),
});

const signingKeyLineSchema = z.strictObject({
  kind: z.literal('signing_key'),
  kid: z.string().min(1),
  purpose: z.enum(['access_token', 'cookie', 'anchor']),
  alg: z.string().min(1),
  state: z.enum(['next', 'active', 'retired']),
  publicJwk: z.string().nullable(),
  privateSealed: z.string().nullable(),
  createdAt: ms,
  activatedAt: ms.nullable(),
  retiredAt: ms.nullable(),
  notAfter: ms.nullable(),
  removedAt: ms.nullable(),
});

const keyEndSchema = z.strictObject({ kind: z.literal('end'), keys: z.number().int().nonnegative(), digest: z.string() });

const keyBodySchema = z.discriminatedUnion('kind', [dataKeyLineSchema, signingKeyLineSchema, keyEndSchema]);

type KeyBody = z.infer<typeof keyBodySchema>;

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Writes every data key and signing key, wrapped as stored, to `sink`. */
export async function exportKeys(db: Kysely<any>, sink: LineSink, now: number): Promise<{ dataKeys: number; signingKeys: number }> {
  const digest = new LineDigest();
  const put = (value: object) => {
    const text = `${canonicalJson(value)}\n`;
    digest.add(text);
    sink.write(text);
  };
  put({ kind: 'header', format: 'flowgate-keys', version: 1, createdAt: now });
  const dataKeys = await db.selectFrom('data_keys').selectAll().orderBy('key_id').execute();
  for (const row of dataKeys) {
    put({
      kind: 'data_key',
      keyId: row.key_id,
      wrappedKey: row.wrapped_key,
      createdAt: Number(row.created_at),
      destroyedAt: num(row.destroyed_at),
    });
  }
  const signingKeys = await db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
  for (const row of signingKeys) {
    put({
      kind: 'signing_key',
      kid: row.kid,
      purpose: row.purpose,
      alg: row.alg,
      state: row.state,
      publicJwk: row.public_jwk,
      privateSealed: row.private_sealed,
      createdAt: Number(row.created_at),
      activatedAt: num(row.activated_at),
      retiredAt: num(row.retired_at),
      notAfter: num(row.not_after),
      removedAt: num(row.removed_at),
    });
  }
  sink.write(`${canonicalJson({ kind: 'end', keys: dataKeys.length + signingKeys.length, digest: digest.hex() })}\n`);
  await sink.close();
  return { dataKeys: dataKeys.length, signingKeys: signingKeys.length };
}

/** The keys file does not fit this store or this master key. */
export class KeyImportError extends FlowgateError {
  constructor(message: string) {
    super('ERR_KEY_IMPORT', message);
  }
}

/** The parsed keys of a keys file. */
export interface KeyFile {
  readonly dataKeys: ReadonlyArray<z.infer<typeof dataKeyLineSchema>>;
  readonly signingKeys: ReadonlyArray<z.infer<typeof signingKeyLineSchema>>;
}

/** Parses a keys file's text (every line checked; the `end` line's count and digest too). */
export function parseKeyFile(text: string, file: string): KeyFile {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) throw new LogFileError(file, 1, 'empty file');
  parseLine(keyHeaderSchema, lines[0]!, file, 1);
  const digest = new LineDigest();
  digest.add(`${lines[0]}\n`);
  const dataKeys: Array<z.infer<typeof dataKeyLineSchema>> = [];
  const signingKeys: Array<z.infer<typeof signingKeyLineSchema>> = [];
  let end: Extract<KeyBody, { kind: 'end' }> | undefined;
  for (let i = 1; i < lines.length; i++) {
    if (end) throw new LogFileError(file, i + 1, 'a line after the end line');
    const line = parseLine(keyBodySchema, lines[i]!, file, i + 1);
    if (line.kind === 'end') {
      end = line;
      continue;
    }
    digest.add(`${lines[i]}\n`);
    if (line.kind === 'data_key') dataKeys.push(line);
    else signingKeys.push(line);
  }
  if (!end) throw new LogFileError(file, lines.length, 'no end line: the file is truncated');
  if (end.keys !== dataKeys.length + signingKeys.length || end.digest !== digest.hex()) {
    throw new LogFileError(file, lines.length, 'the end line does not match the keys before it (the file was changed)');
  }
  return { dataKeys, signingKeys };
}

/**
 * Checks that `masterKey` unwraps the file's keys (one live data key, or one sealed private
 * key), so a restore with the wrong master key is refused before anything is written.
 */
export function checkMasterKey(keys: KeyFile, masterKey: Uint8Array): void {
  const sample = keys.dataKeys.find((k) => k.wrappedKey !== null)?.wrappedKey ?? keys.signingKeys.find((k) => k.privateSealed)?.privateSealed;
  if (!sample) return;
  try {
    decryptCompactDir(masterKey, sample);
  } catch {
    throw new KeyImportError('the keys file was wrapped with another master key than the configured one (FLOWGATE_MASTER_KEY); nothing was imported');
  }
}

/** Inserts the keys, in the caller's transaction, into empty key tables. */
export async function insertKeys(trx: Transaction<any>, keys: KeyFile): Promise<void> {
  for (const table of ['data_keys', 'signing_keys'] as const) {
    const row = await trx.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
    if (Number(row?.n ?? 0) > 0) {
      throw new KeyImportError(`${table} is not empty in the target store; keys are restored only into a store that has none (nothing was imported)`);
    }
  }
  for (const k of keys.dataKeys) {
    await trx
      .insertInto('data_keys')
      .values({ key_id: k.keyId, wrapped_key: k.wrappedKey, created_at: k.createdAt, destroyed_at: k.destroyedAt })
      .execute();
  }
  for (const k of keys.signingKeys) {
    await trx
      .insertInto('signing_keys')
      .values({
        kid: k.kid,
        purpose: k.purpose,
        alg: k.alg,
        state: k.state,
        public_jwk: k.publicJwk,
        private_sealed: k.privateSealed,
        created_at: k.createdAt,
        activated_at: k.activatedAt,
        retired_at: k.retiredAt,
        not_after: k.notAfter,
        removed_at: k.removedAt,
      })
      .execute();
  }
}

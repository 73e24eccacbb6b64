/**
 * The fields of an event payload as a replay shows them (docs/replay.md, "What a timeline
 * shows"). Three kinds:
 *
 * - **personal**: the upstream subject and claims (`subjectSealed`, `claimsSealed`), sealed
 *   with the subject's data key; opened when the key exists, `(erased)` once `flowgate
 *   forget` destroyed it (docs/privacy.md);
 * - **secret**: every other sealed value (client state, proxy PKCE verifier, upstream
 *   tokens); never opened, only named;
 * - **plain**: ids, hashes, pseudonyms, scopes, times, reasons.
 *
 * @module
 */
import type { Kysely } from 'kysely';
import { decodeJweHeader } from '../crypto/jwe-dir.js';
import { subjectKeyId, type SealPurpose, type Vault } from '../crypto/vault.js';
import type { JsonValue } from '../events/canonical-json.js';

/** A personal field, opened or not. */
export type PersonalValue =
  | { readonly status: 'open'; readonly value: JsonValue }
  /** Its subject key was destroyed (`flowgate forget`). */
  | { readonly status: 'erased' }
  /**
   * `sealed`: no vault to open it with, or a store that never held its key (an import
   * without the keys file); `unreadable`: the value does not open with its key (changed).
   */
  | { readonly status: 'sealed' | 'unreadable' };

/** An event's fields, sorted into the three kinds. */
export interface EventFields {
  readonly plain: Readonly<Record<string, JsonValue>>;
  /** Names of sealed secret fields present in the payload. */
  readonly secret: readonly string[];
  readonly personal: Readonly<Record<string, PersonalValue>>;
}

/** Sealed personal fields: payload field → (shown name, seal purpose). */
const PERSONAL: Readonly<Record<string, { name: string; purpose: SealPurpose; json: boolean }>> = {
  subjectSealed: { name: 'subject', purpose: 'subject', json: false },
  claimsSealed: { name: 'claims', purpose: 'claims', json: true },
};

/** Whether a payload field holds a sealed value. */
export function isSealedField(name: string): boolean {
  return /Sealed$/.test(name);
}

/**
 * Opens personal values with a vault, telling a destroyed subject key (`erased`) from one
 * this store does not hold at all (`sealed`: e.g. a log imported without its keys file),
 * which the vault alone reports alike.
 */
export class PersonalOpener {
  readonly #destroyed = new Map<string, boolean>();

  constructor(
    private readonly vault: Vault,
    private readonly db: Kysely<any>,
  ) {}

  /** Opens a value sealed with the key of `subjectRef` for `purpose` (`json`: parse it). */
  async open(subjectRef: unknown, purpose: SealPurpose, sealed: string, json: boolean): Promise<PersonalValue> {
    if (typeof subjectRef !== 'string') return { status: 'unreadable' };
    const keyId = subjectKeyId(subjectRef);
    try {
      const opened = await this.vault.open(keyId, purpose, sealed);
      if (opened.ok) return { status: 'open', value: json ? (JSON.parse(opened.value) as JsonValue) : opened.value };
    } catch {
      return { status: 'unreadable' };
    }
    // The row that sealed it: the subject key's generation named in the value's header.
    const rowId = decodeJweHeader(sealed).kid;
    return (await this.#wasDestroyed(typeof rowId === 'string' ? rowId : keyId)) ? { status: 'erased' } : { status: 'sealed' };
  }

  async #wasDestroyed(keyId: string): Promise<boolean> {
    let destroyed = this.#destroyed.get(keyId);
    if (destroyed === undefined) {
      const row = await this.db.selectFrom('data_keys').select('destroyed_at').where('key_id', '=', keyId).executeTakeFirst();
      destroyed = row !== undefined && row.destroyed_at !== null;
      this.#destroyed.set(keyId, destroyed);
    }
    return destroyed;
  }
}

/** Sorts an event payload's fields; personal ones are opened with `opener` when given. */
export async function eventFields(data: JsonValue, opener?: PersonalOpener): Promise<EventFields> {
  const plain: Record<string, JsonValue> = {};
  const secret: string[] = [];
  const personal: Record<string, PersonalValue> = {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { plain, secret, personal };
  for (const [key, p] of Object.entries(PERSONAL)) {
    const value = data[key];
    if (typeof value === 'string') personal[p.name] = opener ? await opener.open(data.subjectRef, p.purpose, value, p.json) : { status: 'sealed' };
  }
  for (const [key, value] of Object.entries(data)) {
    if (PERSONAL[key]) continue;
    if (isSealedField(key)) {
      if (value !== null) secret.push(key);
      continue;
    }
    plain[key] = value;
  }
  return { plain, secret, personal };
}

/** How a personal value reads in text: its value, or `(erased)`, `(sealed)`, `(unreadable)`. */
export function personalText(value: PersonalValue): string {
  if (value.status !== 'open') return `(${value.status})`;
  return typeof value.value === 'string' ? value.value : JSON.stringify(value.value);
}

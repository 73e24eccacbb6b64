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
import { subjectKeyId, type SealPurpose, type Vault } from '../crypto/vault.js';
import type { JsonValue } from '../events/canonical-json.js';

/** A personal field, opened or not. */
export type PersonalValue =
  | { readonly status: 'open'; readonly value: JsonValue }
  | { readonly status: 'erased' }
  /** No vault to open it with (or the value does not open: changed, or sealed elsewhere). */
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

async function openPersonal(vault: Vault | undefined, subjectRef: unknown, purpose: SealPurpose, sealed: string, json: boolean): Promise<PersonalValue> {
  if (!vault || typeof subjectRef !== 'string') return { status: 'sealed' };
  try {
    const opened = await vault.open(subjectKeyId(subjectRef), purpose, sealed);
    if (!opened.ok) return { status: 'erased' };
    return { status: 'open', value: json ? (JSON.parse(opened.value) as JsonValue) : opened.value };
  } catch {
    return { status: 'unreadable' };
  }
}

/** Sorts an event payload's fields; personal ones are opened with `vault` when given. */
export async function eventFields(data: JsonValue, vault?: Vault): Promise<EventFields> {
  const plain: Record<string, JsonValue> = {};
  const secret: string[] = [];
  const personal: Record<string, PersonalValue> = {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { plain, secret, personal };
  for (const [key, p] of Object.entries(PERSONAL)) {
    const value = data[key];
    if (typeof value === 'string') personal[p.name] = await openPersonal(vault, data.subjectRef, p.purpose, value, p.json);
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

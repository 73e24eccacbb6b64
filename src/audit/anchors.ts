/**
 * Signed anchors (docs/audit.md, "Signed anchors"). An anchor is a compact JWS, signed with
 * the keyring's `anchor` key, over (canonical JSON):
 *
 * ```
 * { v: 1,
 *   position,            the global position anchored: every event up to it is covered
 *   events,              how many events there are up to `position`
 *   streams,             how many streams have an event up to `position`
 *   headsDigest,         LtHash16 of [stream_id, version, hash] of every stream's head as of
 *                        `position` (src/audit/lthash.ts), as SHA-256 hex with the count
 *   heads?,              { stream_id: { version, hash } } when there are at most 256 streams
 *   digest,              D = SHA-256("flowgate/anchor/v1" ‖ D_prev ‖ entries), entries =
 *                        u64be(global_position) ‖ hash (64 hex characters) of every event
 *                        after the previous anchor's position, up to `position`, in global
 *                        order; D_prev = the previous anchor's digest (32 zero bytes for
 *                        the first anchor)
 *   previous,            { position, digest } of the anchor this one continues, or null
 *   locator: { step, digests },  the segment cut into at most 256 ranges of `step`
 *                        positions, each range's SHA-256 over its entries truncated to 16
 *                        bytes (base64url, concatenated): a change is located to a range
 *   issuedAt, kid }
 * ```
 *
 * Chaining each digest on the previous one covers every event from the first anchor on with
 * constant work per new anchor, and makes a reordering across streams (the global position
 * is not in the per-stream chains) change the digest. The anchors table is append-only
 * (migration 0006); anchors written to a file outside the database also reveal deleted
 * anchor rows.
 *
 * @module
 */
import { CompactSign, compactVerify, decodeProtectedHeader, importJWK, type JSONWebKeySet, type JWK } from 'jose';
import { createHash, type Hash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import { canonicalJson } from '../events/canonical-json.js';
import { anchorJwks } from '../keys/jwks.js';
import { selectAllKeys } from '../keys/key-table.js';
import type { SigningKey } from '../keys/access-token-signer.js';
import type { Head } from './stream-auditor.js';

/** The JWS `typ` of an anchor. */
export const ANCHOR_TYP = 'flowgate-anchor+json';
/** Anchors list every stream's head when there are at most this many streams. */
export const HEADS_INLINE_MAX = 256;
/** The locator cuts an anchor's segment into at most this many ranges. */
export const LOCATOR_RANGES = 256;
const DIGEST_LABEL = 'flowgate/anchor/v1';
const ZERO = Buffer.alloc(32);

/** What an anchor signs. */
export interface AnchorPayload {
  readonly v: 1;
  readonly position: number;
  readonly events: number;
  readonly streams: number;
  readonly headsDigest: string;
  readonly heads?: Readonly<Record<string, Head>>;
  readonly digest: string;
  readonly previous: { readonly position: number; readonly digest: string } | null;
  readonly locator: { readonly step: number; readonly digests: string };
  readonly issuedAt: number;
  readonly kid: string;
}

/** An anchor and where it came from. */
export interface Anchor {
  readonly jws: string;
  readonly payload: AnchorPayload;
  /** `database` (row id) or the file it was read from. */
  readonly source: { readonly database: number } | { readonly file: string; readonly line: number };
}

/** The row of `audit_anchors` (migration 0006). */
export interface AuditAnchorsTable {
  anchor_id: number;
  position: number;
  previous_position: number | null;
  digest: string;
  kid: string;
  issued_at: number;
  jws: string;
}

/** The locator's range size for a segment. */
export function locatorStep(from: number, to: number): number {
  return Math.max(1, Math.ceil((to - from) / LOCATOR_RANGES));
}

/** Where an anchored range now starts in the log, for findings. */
export interface RangeFirst {
  readonly position: number;
  readonly streamId: string;
  readonly version: number;
}

/**
 * The digest and locator of one anchor segment `(from, to]`, fed every event of it in
 * global order.
 */
export class SegmentDigest {
  readonly #hash: Hash;
  readonly step: number;
  readonly #ranges: Buffer[] = [];
  readonly #firsts: Array<RangeFirst | null> = [];
  #range = -1;
  #rangeHash: Hash | null = null;
  events = 0;

  constructor(
    readonly from: number,
    readonly to: number,
    seed: string | null,
  ) {
    this.step = locatorStep(from, to);
    this.#hash = createHash('sha256').update(DIGEST_LABEL).update(seed ? Buffer.from(seed, 'hex') : ZERO);
  }

  #closeRangesBefore(index: number): void {
    while (this.#range < index) {
      if (this.#rangeHash) this.#ranges.push(this.#rangeHash.digest().subarray(0, 16));
      else if (this.#range >= 0) this.#ranges.push(createHash('sha256').digest().subarray(0, 16));
      this.#range++;
      this.#rangeHash = null;
      if (this.#range < index) this.#firsts.push(null);
    }
  }

  /** One event of the segment. */
  add(position: number, hash: string, streamId: string, version: number): void {
    const entry = Buffer.alloc(8 + hash.length);
    entry.writeBigUInt64BE(BigInt(position));
    entry.write(hash, 8, 'latin1');
    this.#hash.update(entry);
    const index = Math.floor((position - this.from - 1) / this.step);
    if (index !== this.#range) {
      this.#closeRangesBefore(index);
      this.#firsts.push({ position, streamId, version });
    }
    this.#rangeHash ??= createHash('sha256');
    this.#rangeHash.update(entry);
    this.events++;
  }

  /** The digest (hex), the locator (base64url) and the first event now in each range. */
  finish(): { digest: string; locator: string; firsts: Array<RangeFirst | null> } {
    const ranges = Math.ceil((this.to - this.from) / this.step);
    this.#closeRangesBefore(ranges);
    return { digest: this.#hash.digest('hex'), locator: Buffer.concat(this.#ranges).toString('base64url'), firsts: this.#firsts };
  }
}

/** Signs an anchor payload (without `kid`, which comes from the key). */
export async function signAnchor(key: SigningKey, payload: Omit<AnchorPayload, 'kid'>): Promise<{ jws: string; payload: AnchorPayload }> {
  const full: AnchorPayload = { ...payload, kid: key.kid };
  const jws = await new CompactSign(new TextEncoder().encode(canonicalJson(full)))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ANCHOR_TYP })
    .sign(key.privateKey);
  return { jws, payload: full };
}

/** Why an anchor was refused. */
export class AnchorVerificationError extends Error {}

function isHex64(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

function checkPayload(value: unknown): AnchorPayload {
  const p = value as Record<string, any>;
  const ok =
    p !== null &&
    typeof p === 'object' &&
    p.v === 1 &&
    Number.isSafeInteger(p.position) &&
    Number.isSafeInteger(p.events) &&
    Number.isSafeInteger(p.streams) &&
    isHex64(p.headsDigest) &&
    isHex64(p.digest) &&
    (p.previous === null || (Number.isSafeInteger(p.previous?.position) && isHex64(p.previous?.digest))) &&
    Number.isSafeInteger(p.locator?.step) &&
    p.locator.step >= 1 &&
    typeof p.locator?.digests === 'string' &&
    Number.isSafeInteger(p.issuedAt) &&
    typeof p.kid === 'string' &&
    (p.heads === undefined || (typeof p.heads === 'object' && p.heads !== null));
  if (!ok) throw new AnchorVerificationError('the payload is not a flowgate anchor');
  return p as AnchorPayload;
}

/** Verifies an anchor's signature with the anchor JWKS and returns its payload. */
export async function verifyAnchor(jws: string, jwks: JSONWebKeySet): Promise<AnchorPayload> {
  let kid: string | undefined;
  try {
    const header = decodeProtectedHeader(jws);
    kid = header.kid;
    if (header.typ !== ANCHOR_TYP) throw new AnchorVerificationError(`typ is ${String(header.typ)}, not ${ANCHOR_TYP}`);
  } catch (error) {
    if (error instanceof AnchorVerificationError) throw error;
    throw new AnchorVerificationError('not a compact JWS');
  }
  const jwk = jwks.keys.find((k) => k.kid === kid) as JWK | undefined;
  if (!jwk) throw new AnchorVerificationError(`signed with key ${String(kid)}, which is not an anchor key of this keyring`);
  let payload: AnchorPayload;
  try {
    const key = await importJWK(jwk, jwk.alg);
    const verified = await compactVerify(jws, key, { algorithms: ['ES256', 'EdDSA'] });
    payload = checkPayload(JSON.parse(new TextDecoder().decode(verified.payload)));
  } catch (error) {
    if (error instanceof AnchorVerificationError) throw error;
    throw new AnchorVerificationError(`the signature does not verify (${(error as Error).message})`);
  }
  if (payload.kid !== kid) throw new AnchorVerificationError('the payload names another key than the header');
  return payload;
}

/** The anchor JWKS, read from the store's keyring table (no master key needed to verify). */
export async function anchorJwksOf(db: Kysely<any>, now = Date.now()): Promise<JSONWebKeySet> {
  return anchorJwks(await selectAllKeys(db), now);
}

/** Light rows of every stored anchor, by position (the JWS is fetched when needed). */
export async function listStoredAnchors(
  db: Kysely<any>,
): Promise<Array<{ id: number; position: number; previousPosition: number | null }>> {
  const rows = await db
    .selectFrom('audit_anchors')
    .select(['anchor_id', 'position', 'previous_position'])
    .orderBy('position')
    .orderBy('anchor_id')
    .execute();
  return rows.map((r) => ({
    id: Number(r.anchor_id),
    position: Number(r.position),
    previousPosition: r.previous_position === null ? null : Number(r.previous_position),
  }));
}

/** The JWS of a stored anchor. */
export async function storedAnchorJws(db: Kysely<any>, id: number): Promise<string | undefined> {
  const row = await db.selectFrom('audit_anchors').select('jws').where('anchor_id', '=', id).executeTakeFirst();
  return row?.jws as string | undefined;
}

/** Whether the database holds exactly this anchor. */
export async function isStored(db: Kysely<any>, anchor: { jws: string; payload: AnchorPayload }): Promise<boolean> {
  const rows = await db.selectFrom('audit_anchors').select('jws').where('position', '=', anchor.payload.position).execute();
  return rows.some((r) => r.jws === anchor.jws);
}

/** Stores an anchor; returns its row id. */
export async function storeAnchor(db: Kysely<any>, anchor: { jws: string; payload: AnchorPayload }): Promise<number> {
  const row = await db
    .insertInto('audit_anchors')
    .values({
      position: anchor.payload.position,
      previous_position: anchor.payload.previous?.position ?? null,
      digest: anchor.payload.digest,
      kid: anchor.payload.kid,
      issued_at: anchor.payload.issuedAt,
      jws: anchor.jws,
    })
    .returning('anchor_id')
    .executeTakeFirstOrThrow();
  return Number(row.anchor_id);
}

/** The compact JWS lines of an anchors file (blank lines and `#` comments skipped). */
export async function readAnchorFile(path: string): Promise<Array<{ jws: string; line: number }>> {
  const text = await readFile(path, 'utf8');
  const out: Array<{ jws: string; line: number }> = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line !== '' && !line.startsWith('#')) out.push({ jws: line, line: i + 1 });
  });
  return out;
}

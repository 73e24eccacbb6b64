/**
 * A realistic event log generated directly as rows, for the audit tests and `npm run
 * bench:audit`: registered clients, then interleaved authorization flows (start, consent,
 * upstream redirect, callback, exchange + code, redemption + grant + access token) and
 * refreshes, every event legal for its machine, with the metadata the engine writes
 * (command id, correlation id, machine id/version/from/to) and a correct hash chain.
 *
 * The rows are sealed here rather than through the engine (one command at a time) so a
 * million events take seconds. The JSON is built with keys already in canonical order and
 * `JSON.stringify` (RFC 8785 for these values); `test/audit/synthetic-log.unit.test.ts`
 * checks every row against the store's own `sealEvent`.
 */
import Database from 'better-sqlite3';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { deriveEventId } from '../../../src/events/ids.js';
import { EVENT_COLUMNS, type EventStore } from '../../../src/store/event-store.js';
import { chainHash, genesisHash } from '../../../src/store/hash-chain.js';

/** A sealed row, without its global position (the database assigns it). */
export interface SyntheticRow {
  readonly event_id: string;
  readonly stream_id: string;
  readonly stream_version: number;
  readonly type: string;
  readonly schema_version: number;
  readonly data: string;
  readonly metadata: string;
  readonly occurred_at: number;
  readonly payload_hash: string;
  readonly prev_hash: string;
  readonly hash: string;
}

/** How much and what kind of traffic. */
export interface SyntheticOptions {
  /** Stop after about this many events (a command is never cut in half). */
  readonly events: number;
  /** Flows in progress at once (their commands interleave in the log). */
  readonly concurrency?: number;
  /** Registered clients (each a `client:` stream with one event). */
  readonly clients?: number;
  /** Every n-th flow's grant is refreshed once; 0 = never. */
  readonly refreshEvery?: number;
  /** Clock start (ms). */
  readonly t0?: number;
}

const FLOW = { id: 'authorization-flow', version: '1' };
const GRANT = { id: 'token-grant', version: '1' };
const CLIENT = { id: 'client-registration', version: '1' };
const RESOURCE = 'https://mcp.example.test/mcp';
const REDIRECT = 'http://127.0.0.1:53682/callback';

/** Random base64url text from one big pool of random bytes (fast). */
class RandomText {
  #pool = randomBytes(1 << 20);
  #at = 0;
  text(bytes: number): string {
    if (this.#at + bytes > this.#pool.length) {
      this.#pool = randomBytes(1 << 20);
      this.#at = 0;
    }
    const out = this.#pool.toString('base64url', this.#at, this.#at + bytes);
    this.#at += bytes;
    return out;
  }
  /** Something shaped like a compact JWE (`dir`, A256GCM) of `plain` bytes. */
  sealed(kid: string, plain: number): string {
    const header = Buffer.from(`{"alg":"dir","enc":"A256GCM","kid":"${kid}","fgp":"x"}`).toString('base64url');
    return `${header}..${this.text(12)}.${this.text(plain)}.${this.text(16)}`;
  }
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function b64Sha(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/** Per-stream chain state. */
interface StreamHead {
  version: number;
  hash: string;
}

/** Seals events (keys of `data` must already be in canonical order). */
class Sealer {
  readonly #heads = new Map<string, StreamHead>();

  seal(
    commandId: string,
    index: number,
    streamId: string,
    type: string,
    data: Record<string, unknown>,
    at: number,
    machine: { id: string; version: string },
    from: string,
    to: string,
  ): SyntheticRow {
    const head = this.#heads.get(streamId) ?? { version: 0, hash: genesisHash(streamId) };
    const version = head.version + 1;
    const dataText = JSON.stringify(data);
    const metadata = `{"commandId":"${commandId}","correlationId":"${commandId}","machine":{"from":"${from}","id":"${machine.id}","to":"${to}","version":"${machine.version}"}}`;
    const eventId = deriveEventId(commandId, index);
    const envelope = `{"event_id":"${eventId}","metadata":${metadata},"occurred_at":${at},"schema_version":1,"stream_id":${JSON.stringify(streamId)},"stream_version":${version},"type":"${type}"}`;
    const payloadHash = sha256Hex(dataText);
    const hash = chainHash(head.hash, envelope, payloadHash);
    this.#heads.set(streamId, { version, hash });
    return {
      event_id: eventId,
      stream_id: streamId,
      stream_version: version,
      type,
      schema_version: 1,
      data: dataText,
      metadata,
      occurred_at: at,
      payload_hash: payloadHash,
      prev_hash: head.hash,
      hash,
    };
  }

  /** Forgets a finished stream (keeps memory flat over millions of events). */
  forget(streamId: string): void {
    this.#heads.delete(streamId);
  }
}

interface FlowState {
  step: number;
  flowId: string;
  grantId: string;
  clientId: string;
  browserHash: string;
  challenge: string;
  stateHash: string;
  codeHash: string;
  refreshHash: string;
  refresh: boolean;
  started: number;
}

/**
 * The log, one command (its rows, in append order) at a time. Memory stays flat: only the
 * flows in progress are held.
 */
export function* syntheticCommands(options: SyntheticOptions): Generator<SyntheticRow[]> {
  const random = new RandomText();
  const sealer = new Sealer();
  const concurrency = options.concurrency ?? 64;
  const clients = Math.max(1, options.clients ?? 20);
  const refreshEvery = options.refreshEvery ?? 2;
  let now = options.t0 ?? Date.UTC(2026, 10, 29, 12, 0, 0);
  let emitted = 0;
  const clientIds: string[] = [];

  for (let c = 0; c < clients && emitted < options.events; c++) {
    const clientId = `client-${random.text(9)}`;
    clientIds.push(clientId);
    const commandId = randomUUID();
    now += 3;
    const row = sealer.seal(
      commandId,
      0,
      `client:${clientId}`,
      'client.registered',
      {
        allowedPatterns: [],
        clientId,
        kind: 'dynamic',
        metadata: {
          client_name: `Client ${c}`,
          grant_types: ['authorization_code', 'refresh_token'],
          redirect_uris: [REDIRECT],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        },
        secretHash: null,
        unusedTtlMs: 7_776_000_000,
      },
      now,
      CLIENT,
      'new',
      'active',
    );
    sealer.forget(row.stream_id);
    emitted += 1;
    yield [row];
  }

  let flowCounter = 0;
  const newFlow = (): FlowState => {
    flowCounter++;
    return {
      step: 0,
      flowId: random.text(16),
      grantId: random.text(16),
      clientId: clientIds[flowCounter % clientIds.length]!,
      browserHash: random.text(32),
      challenge: random.text(32),
      stateHash: random.text(32),
      codeHash: random.text(32),
      refreshHash: random.text(32),
      refresh: refreshEvery > 0 && flowCounter % refreshEvery === 0,
      started: 0,
    };
  };
  const active: FlowState[] = Array.from({ length: concurrency }, newFlow);
  let turn = 0;
  while (emitted < options.events) {
    const slot = turn++ % active.length;
    const f = active[slot]!;
    const commandId = randomUUID();
    now += 2;
    const flow = `flow:${f.flowId}`;
    const grant = `grant:${f.grantId}`;
    const rows: SyntheticRow[] = [];
    const seal = (stream: string, type: string, data: Record<string, unknown>, machine: typeof FLOW, from: string, to: string) =>
      rows.push(sealer.seal(commandId, rows.length, stream, type, data, now, machine, from, to));
    switch (f.step) {
      case 0:
        f.started = now;
        seal(
          flow,
          'flow.started',
          {
            browserHash: f.browserHash,
            clientId: f.clientId,
            clientStateSealed: random.sealed(`grant:${f.grantId}`, 22),
            codeChallenge: f.challenge,
            codeChallengeMethod: 'S256',
            expiresAt: now + 900_000,
            flowId: f.flowId,
            grantId: f.grantId,
            redirectUri: REDIRECT,
            resource: RESOURCE,
            scopes: ['mcp:tools'],
          },
          FLOW,
          'new',
          'started',
        );
        break;
      case 1:
        seal(flow, 'consent.shown', { browserHash: f.browserHash }, FLOW, 'started', 'consent_shown');
        break;
      case 2:
        seal(flow, 'consent.approved', { basis: 'user', browserHash: f.browserHash }, FLOW, 'consent_shown', 'consent_approved');
        seal(
          flow,
          'upstream.redirected',
          {
            nonceHash: random.text(32),
            proxyVerifierSealed: random.sealed(`grant:${f.grantId}`, 43),
            stateExpiresAt: now + 600_000,
            upstreamStateHash: f.stateHash,
          },
          FLOW,
          'consent_approved',
          'upstream_redirected',
        );
        break;
      case 3:
        seal(
          flow,
          'upstream.callback_accepted',
          { browserHash: f.browserHash, upstreamStateHash: f.stateHash },
          FLOW,
          'upstream_redirected',
          'callback_accepted',
        );
        break;
      case 4: {
        const subjectRef = b64Sha(`subject:${flowCounter % 5000}`);
        seal(
          flow,
          'upstream.tokens_received',
          {
            claimsSealed: random.sealed(`subject:${subjectRef}`, 30),
            grantId: f.grantId,
            grantedScopes: ['mcp:tools'],
            subjectRef,
            subjectSealed: random.sealed(`subject:${subjectRef}`, 8),
            tokenSetSealed: random.sealed(`grant:${f.grantId}`, 150),
            upstreamExpiresAt: now + 3_600_000,
            upstreamRefreshable: true,
          },
          FLOW,
          'callback_accepted',
          'tokens_received',
        );
        seal(
          flow,
          'code.issued',
          {
            clientId: f.clientId,
            codeChallenge: f.challenge,
            codeHash: f.codeHash,
            expiresAt: now + 300_000,
            grantId: f.grantId,
            redirectUri: REDIRECT,
            resource: RESOURCE,
            scopes: ['mcp:tools'],
          },
          FLOW,
          'tokens_received',
          'code_issued',
        );
        break;
      }
      case 5: {
        seal(
          flow,
          'code.redeemed',
          { clientId: f.clientId, codeHash: f.codeHash, redirectUri: REDIRECT, resource: null, verifierChallenge: f.challenge },
          FLOW,
          'code_issued',
          'code_redeemed',
        );
        seal(
          grant,
          'grant.created',
          {
            absoluteExpiresAt: now + 7_776_000_000,
            clientId: f.clientId,
            flowId: f.flowId,
            graceMs: 0,
            grantId: f.grantId,
            idleTtlMs: 2_592_000_000,
            refreshTokenHash: f.refreshHash,
            resource: RESOURCE,
            scopes: ['mcp:tools'],
            subjectRef: b64Sha(`subject:${flowCounter % 5000}`),
          },
          GRANT,
          'new',
          'live.idle',
        );
        seal(grant, 'access_token.issued', { expiresAt: now + 3_600_000, jti: random.text(16), scopes: ['mcp:tools'] }, GRANT, 'live.idle', 'live.idle');
        sealer.forget(flow);
        break;
      }
      case 6: {
        const next = random.text(32);
        seal(grant, 'refresh_token.rotated', { newHash: next, presentedHash: f.refreshHash, scopes: ['mcp:tools'] }, GRANT, 'live.idle', 'live.idle');
        seal(grant, 'access_token.issued', { expiresAt: now + 3_600_000, jti: random.text(16), scopes: ['mcp:tools'] }, GRANT, 'live.idle', 'live.idle');
        break;
      }
    }
    f.step++;
    if (f.step === 6 && !f.refresh) f.step = 7;
    if (f.step === 7) {
      sealer.forget(grant);
      active[slot] = newFlow();
    }
    emitted += rows.length;
    yield rows;
  }
}

const COLUMNS = EVENT_COLUMNS;

/**
 * Bulk-loads a synthetic log into a migrated SQLite file (raw better-sqlite3, large
 * transactions, `synchronous=OFF` while loading). Returns the number of events written.
 */
export function seedSqliteFile(path: string, options: SyntheticOptions): number {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const insert = db.prepare(
      `INSERT INTO events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
    );
    let count = 0;
    let batch: SyntheticRow[] = [];
    const flush = db.transaction((rows: SyntheticRow[]) => {
      for (const r of rows) insert.run(COLUMNS.map((c) => r[c]));
    });
    for (const rows of syntheticCommands(options)) {
      batch.push(...rows);
      count += rows.length;
      if (batch.length >= 20_000) {
        flush(batch);
        batch = [];
      }
    }
    if (batch.length) flush(batch);
    db.pragma('wal_checkpoint(TRUNCATE)');
    return count;
  } finally {
    db.close();
  }
}

/** Appends a synthetic log through kysely (any dialect; the database assigns positions). */
export async function seedStore(store: EventStore, options: SyntheticOptions): Promise<number> {
  let count = 0;
  let batch: SyntheticRow[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    await store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 200) {
        await trx.insertInto('events').values(rows.slice(i, i + 200).map((r) => ({ ...r }))).execute();
      }
    });
  };
  for (const rows of syntheticCommands(options)) {
    batch.push(...rows);
    count += rows.length;
    if (batch.length >= 5000) await flush();
  }
  await flush();
  return count;
}

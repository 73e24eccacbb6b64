/**
 * Verifies a retention archive written by `flowgate prune` (docs/privacy.md, "Retention";
 * docs/store.md, "Retention"):
 *
 * - **on its own**: every line parses; every stream's events chain from its genesis hash,
 *   versions 1, 2, 3 …; each stream's checkpoint line names its last event and the digest
 *   of its event lines; the `end` line counts the events and digests every line before it;
 * - **against the store** (when one is given): every archived stream has a
 *   `stream_checkpoints` row with the same version, hash and archive digest, and the log
 *   holds none of the rows it covers any more.
 *
 * The store's checkpoint is what makes a rewritten archive evident: its digest was written
 * in the same transaction that removed the events. Memory grows with one stream, not with
 * the archive.
 *
 * @module
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Kysely } from 'kysely';
import { bodyLineSchema, eventLineProblem, headerLineSchema, LineDigest, LogFileError, parseLine, lineText } from '../../store/log-lines.js';

/** One problem in an archive, located by line (and stream when there is one). */
export interface ArchiveFinding {
  readonly line: number;
  readonly streamId: string | null;
  readonly kind:
    | 'line'
    | 'chain'
    | 'digest'
    | 'truncated'
    | 'checkpoint.missing'
    | 'checkpoint.mismatch'
    | 'not_removed';
  readonly reason: string;
}

/** What verifying an archive found. */
export interface ArchiveReport {
  readonly file: string;
  readonly cutoff: number | null;
  readonly createdAt: number | null;
  readonly streams: number;
  readonly events: number;
  /** Whether the archive was compared with a store's checkpoints. */
  readonly againstStore: boolean;
  readonly findings: readonly ArchiveFinding[];
}

interface OpenStream {
  readonly streamId: string;
  readonly firstLine: number;
  version: number;
  hash: string | undefined;
  digest: LineDigest;
  broken: boolean;
  events: number;
}

interface ClosedStream {
  readonly streamId: string;
  readonly line: number;
  readonly throughVersion: number;
  readonly throughHash: string;
  readonly archiveDigest: string;
}

/** Verifies the archive at `file`; with `db`, against that store's checkpoints too. */
export async function verifyArchive(file: string, options: { readonly db?: Kysely<any> } = {}): Promise<ArchiveReport> {
  const findings: ArchiveFinding[] = [];
  const add = (f: ArchiveFinding) => {
    if (findings.length < 1000) findings.push(f);
  };
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  const whole = new LineDigest();
  const closed: ClosedStream[] = [];
  const seen = new Set<string>();
  let current: OpenStream | undefined;
  let lineNo = 0;
  let events = 0;
  let cutoff: number | null = null;
  let createdAt: number | null = null;
  let ended = false;

  const finishStream = (at: number, reason: string) => {
    if (current) add({ line: at, streamId: current.streamId, kind: 'chain', reason });
    current = undefined;
  };

  for await (const text of lines) {
    lineNo++;
    try {
      if (lineNo === 1) {
        const header = parseLine(headerLineSchema, text, file, 1);
        if (header.type !== 'archive') throw new LogFileError(file, 1, 'an export, not a retention archive');
        cutoff = header.cutoff;
        createdAt = header.createdAt;
        whole.add(`${text}\n`);
        continue;
      }
      if (ended) throw new LogFileError(file, lineNo, 'a line after the end line');
      const line = parseLine(bodyLineSchema, text, file, lineNo);
      if (line.kind === 'end') {
        ended = true;
        if (current) finishStream(lineNo, `${current.streamId} has no checkpoint line (the archive is cut)`);
        if (line.events !== events || line.digest !== whole.hex()) {
          add({ line: lineNo, streamId: null, kind: 'digest', reason: 'the end line does not match the lines before it (a line was changed, added or removed)' });
        }
        continue;
      }
      whole.add(`${text}\n`);
      if (line.kind === 'event') {
        events++;
        if (current && current.streamId !== line.streamId) {
          finishStream(lineNo, `${current.streamId} ends without its checkpoint line`);
        }
        if (!current) {
          if (seen.has(line.streamId)) add({ line: lineNo, streamId: line.streamId, kind: 'chain', reason: `${line.streamId} appears twice in the archive` });
          seen.add(line.streamId);
          current = { streamId: line.streamId, firstLine: lineNo, version: 0, hash: undefined, digest: new LineDigest(), broken: false, events: 0 };
        }
        current.digest.add(lineText(line));
        current.events++;
        if (!current.broken) {
          const problem =
            line.version !== current.version + 1
              ? `version ${line.version} where version ${current.version + 1} was due (an event is missing)`
              : eventLineProblem(line, current.hash);
          if (problem) {
            add({ line: lineNo, streamId: line.streamId, kind: 'chain', reason: `version ${line.version}: ${problem}` });
            current.broken = true;
          }
        }
        current.version = line.version;
        current.hash = line.hash;
      } else if (line.kind === 'checkpoint') {
        if (!current || current.streamId !== line.streamId) {
          add({ line: lineNo, streamId: line.streamId, kind: 'chain', reason: `a checkpoint for ${line.streamId} without its events before it` });
          current = undefined;
          continue;
        }
        const digest = current.digest.hex();
        if (line.throughVersion !== current.version || line.throughHash !== current.hash) {
          add({ line: lineNo, streamId: line.streamId, kind: 'chain', reason: `the checkpoint names version ${line.throughVersion}, the archive ends at version ${current.version} with another hash` });
        }
        if (line.archiveDigest !== digest) {
          add({ line: lineNo, streamId: line.streamId, kind: 'digest', reason: "the stream's lines do not match the digest of its checkpoint (a line was changed)" });
        }
        closed.push({ streamId: line.streamId, line: lineNo, throughVersion: current.version, throughHash: current.hash!, archiveDigest: digest });
        current = undefined;
      } else {
        add({ line: lineNo, streamId: null, kind: 'line', reason: `a ${line.kind} line has no place in an archive` });
      }
    } catch (error) {
      if (!(error instanceof LogFileError)) throw error;
      add({ line: lineNo, streamId: null, kind: 'line', reason: error.message });
      if (lineNo === 1) break;
    }
  }
  if (lineNo === 0) add({ line: 1, streamId: null, kind: 'truncated', reason: 'the archive is empty' });
  else if (!ended && findings.every((f) => f.line !== 1)) {
    if (current) finishStream(lineNo, `${current.streamId} has no checkpoint line (the archive is cut)`);
    add({ line: lineNo, streamId: null, kind: 'truncated', reason: 'no end line: the archive is cut short, or its prune did not finish' });
  }

  if (options.db) await compareWithStore(options.db, closed, add);
  return { file, cutoff, createdAt, streams: closed.length, events, againstStore: options.db !== undefined, findings };
}

async function compareWithStore(db: Kysely<any>, closed: readonly ClosedStream[], add: (f: ArchiveFinding) => void): Promise<void> {
  for (let i = 0; i < closed.length; i += 200) {
    const slice = closed.slice(i, i + 200);
    const ids = slice.map((s) => s.streamId);
    const checkpoints = new Map(
      (await db.selectFrom('stream_checkpoints').selectAll().where('stream_id', 'in', ids).execute()).map((r) => [r.stream_id as string, r]),
    );
    const remaining = new Map(
      (
        await db
          .selectFrom('events')
          .select(['stream_id', (eb) => eb.fn.min('stream_version').as('v')])
          .where('stream_id', 'in', ids)
          .groupBy('stream_id')
          .execute()
      ).map((r) => [r.stream_id as string, Number(r.v)]),
    );
    for (const s of slice) {
      const row = checkpoints.get(s.streamId);
      if (!row) {
        add({
          line: s.line,
          streamId: s.streamId,
          kind: 'checkpoint.missing',
          reason: remaining.has(s.streamId)
            ? 'the store has no checkpoint for this stream and still holds its events: this part of the prune did not commit'
            : 'the store has no checkpoint for this stream (another database, or the checkpoint was removed)',
        });
        continue;
      }
      const mismatch: string[] = [];
      if (Number(row.through_version) !== s.throughVersion) mismatch.push(`version ${row.through_version} in the store, ${s.throughVersion} in the archive`);
      if (row.through_hash !== s.throughHash) mismatch.push('the last hash differs');
      if (row.archive_digest !== s.archiveDigest) mismatch.push("the stream's lines do not match the digest recorded when it was pruned");
      if (mismatch.length > 0) add({ line: s.line, streamId: s.streamId, kind: 'checkpoint.mismatch', reason: mismatch.join('; ') });
      const min = remaining.get(s.streamId);
      if (min !== undefined && min <= s.throughVersion) {
        add({ line: s.line, streamId: s.streamId, kind: 'not_removed', reason: `the log still holds version ${min}, which the checkpoint covers` });
      }
    }
  }
}

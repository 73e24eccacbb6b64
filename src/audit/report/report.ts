/**
 * `flowgate report`: a stream's HTML report (its statechart, drawn from the definition of
 * the machine version it was written with, the path it took, its timeline), and for
 * `--all` one report per recently active stream plus an index (docs/replay.md, "Reports").
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { findMachine } from '../../../machines/registry.js';
import type { Vault } from '../../crypto/vault.js';
import { machineTransitions } from '../../engine/statechart.js';
import { findStreams, type StreamKind } from '../../replay/find-streams.js';
import { readTimeline, type Timeline } from '../../replay/timeline.js';
import type { EventStore } from '../../store/event-store.js';
import { indexPage, streamPage, type IndexEntry } from './page.js';
import { takenPath } from './path.js';
import { statechartSvg } from './statechart-svg.js';

/** The HTML report of one timeline. */
export async function timelineReport(timeline: Timeline, options: { generatedAt: number; index?: string }): Promise<string> {
  const entry = timeline.machine ? findMachine(timeline.machine.id, timeline.machine.version) : undefined;
  const svg = entry
    ? await statechartSvg(entry.machine, takenPath(timeline, machineTransitions(entry.machine)))
    : '<p class="bad">this stream was written by a machine version this flowgate does not know</p>';
  return streamPage(timeline, svg, options);
}

/** The file name of a stream's page (`flow:abc` → `flow_abc.html`). */
export function pageFileName(streamId: string): string {
  return `${streamId.replace(/[^A-Za-z0-9._-]/g, '_')}.html`;
}

/** Writes one stream's report to `file`. */
export async function writeStreamReport(store: EventStore, streamId: string, file: string, options: { vault?: Vault; now: number }): Promise<Timeline> {
  const timeline = await readTimeline(store, streamId, options.vault ? { vault: options.vault } : {});
  writeFileSync(file, await timelineReport(timeline, { generatedAt: options.now }));
  return timeline;
}

/**
 * Writes a report for every flow and grant active since `since` next to `indexFile`, and
 * the index linking them; returns the entries.
 */
export async function writeAllReports(
  store: EventStore,
  indexFile: string,
  options: { vault?: Vault; since: number | null; limit: number; kinds: readonly StreamKind[]; now: number },
): Promise<IndexEntry[]> {
  const found = await findStreams(
    store.db,
    { kinds: options.kinds, ...(options.since !== null ? { since: options.since } : {}), limit: options.limit },
    options.vault,
  );
  const dir = dirname(indexFile);
  const index = basename(indexFile);
  const entries: IndexEntry[] = [];
  for (const stream of found) {
    const timeline = await readTimeline(store, stream.streamId, options.vault ? { vault: options.vault } : {});
    const href = pageFileName(stream.streamId);
    writeFileSync(join(dir, href), await timelineReport(timeline, { generatedAt: options.now, index }));
    entries.push({ streamId: stream.streamId, href, state: stream.state, clientId: stream.clientId, events: stream.events, firstAt: stream.firstAt, lastAt: stream.lastAt });
  }
  writeFileSync(indexFile, indexPage(entries, { generatedAt: options.now, since: options.since }));
  return entries;
}

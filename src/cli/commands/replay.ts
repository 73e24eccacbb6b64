/**
 * `flowgate replay <stream id>`: one stream's timeline, re-folded through the machine
 * version it was written with (docs/replay.md): one line per event with its time, type,
 * state before → after and the fields that matter; personal data opened with its subject
 * key, or `(erased)` once forgotten; secrets only named. `--json` for scripts.
 *
 * @module
 */
import type { Command } from 'commander';
import type { EventStore } from '../../store/event-store.js';
import { timelineJson, timelineText } from '../../replay/render.js';
import { readTimeline } from '../../replay/timeline.js';
import { withOperatorEngine, type ConfigOptions } from '../operator-engine.js';
import { say, sayJson } from '../table.js';
import { configOption } from './options.js';

const CATEGORIES = ['flow', 'grant', 'client'] as const;

/**
 * The stream an argument names: a full stream id (`flow:<id>`), or a bare id tried as a
 * flow, a grant and a client in that order.
 */
export async function resolveStreamId(store: EventStore, argument: string): Promise<string> {
  const colon = argument.indexOf(':');
  if (colon > 0 && (CATEGORIES as readonly string[]).includes(argument.slice(0, colon))) return argument;
  for (const category of CATEGORIES) {
    const candidate = `${category}:${argument}`;
    if ((await store.streamVersion(candidate)) > 0) return candidate;
  }
  return argument;
}

/** Registers `replay` on the program. */
export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description("one stream's timeline, re-folded through its machine: time, event, state before → after, fields")
    .argument('<stream-id>', 'flow:<id>, grant:<id> or client:<id> (a bare id is tried as each); see flowgate flows')
    .addOption(configOption())
    .option('--json', 'print JSON instead of text')
    .action(async (argument: string, options: ConfigOptions & { json?: boolean }) => {
      await withOperatorEngine(options, async ({ engine, vault }) => {
        const streamId = await resolveStreamId(engine.store, argument);
        const timeline = await readTimeline(engine.store, streamId, { vault });
        if (options.json) sayJson(timelineJson(timeline));
        else say(timelineText(timeline));
      });
    });
}



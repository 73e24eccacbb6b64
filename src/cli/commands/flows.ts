/**
 * `flowgate flows`: finds the streams to replay (docs/replay.md, "Finding streams") by
 * client, by upstream subject (looked up by its pseudonymous reference, as `flowgate grants`
 * does), by activity in a period and by current machine state. A table on a terminal,
 * `--json` for scripts.
 *
 * @module
 */
import { Option, type Command } from 'commander';
import { subjectRefOf } from '../../engine/subject-ref.js';
import { FlowgateError } from '../../errors/flowgate-error.js';
import { personalText } from '../../replay/fields.js';
import { findStreams, type FoundStream, type StreamKind } from '../../replay/find-streams.js';
import { withOperatorEngine, type ConfigOptions } from '../operator-engine.js';
import { isoOrNull, say, sayJson, textTable, when, type Column } from '../table.js';
import { parseTime } from './audit.js';
import { configOption } from './options.js';

interface FlowsOptions extends ConfigOptions {
  readonly client?: string;
  readonly subject?: string;
  readonly since?: string;
  readonly until?: string;
  readonly state?: string;
  readonly kind: 'flow' | 'grant' | 'client' | 'all';
  readonly limit: number;
  readonly json?: boolean;
}

const COLUMNS: ReadonlyArray<Column<FoundStream>> = [
  ['STREAM', (s) => s.streamId],
  ['STATE', (s) => s.state],
  ['CLIENT ID', (s) => s.clientId],
  ['SUBJECT', (s) => (s.subject ? personalText(s.subject) : '-')],
  ['EVENTS', (s) => String(s.events)],
  ['FIRST', (s) => when(s.firstAt)],
  ['LAST', (s) => when(s.lastAt)],
];

function streamJson(s: FoundStream): Record<string, unknown> {
  return {
    streamId: s.streamId,
    kind: s.kind,
    state: s.state,
    clientId: s.clientId,
    subjectRef: s.subjectRef,
    subject: s.subject === null ? null : s.subject.status === 'open' ? s.subject.value : `(${s.subject.status})`,
    events: s.events,
    firstAt: isoOrNull(s.firstAt),
    lastAt: isoOrNull(s.lastAt),
  };
}

function parseLimit(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new FlowgateError('ERR_USAGE', `--limit must be an integer from 1 to 100000, not ${JSON.stringify(text)}`);
  return n;
}

/** Registers `flows` on the program. */
export function registerFlows(program: Command): void {
  program
    .command('flows')
    .description('find flows and grants (and clients) to replay: by client, subject, period and state, most recently active first')
    .addOption(configOption())
    .option('--client <client-id>', 'streams of this client')
    .option('--subject <subject>', "streams of this upstream user (the identity provider's subject identifier)")
    .option('--since <time>', 'streams with an event at or after this time (ISO 8601, epoch ms, or an age like 24h, 7d)')
    .option('--until <time>', 'streams with an event before this time')
    .option('--state <state>', 'streams whose machine is in this state now (e.g. code_redeemed, expired, live, revoked)')
    .addOption(new Option('--kind <kind>', 'which streams').choices(['flow', 'grant', 'client', 'all']).default('all'))
    .addOption(new Option('--limit <n>', 'at most this many').argParser(parseLimit).default(100))
    .option('--json', 'print JSON instead of a table')
    .action(async (options: FlowsOptions) => {
      const now = Date.now();
      const since = options.since === undefined ? undefined : parseTime('--since', options.since, now);
      const until = options.until === undefined ? undefined : parseTime('--until', options.until, now);
      await withOperatorEngine(options, async ({ engine, vault, upstreamIssuer }) => {
        let subjectRef: string | undefined;
        if (options.subject !== undefined) {
          if (upstreamIssuer === undefined) {
            throw new FlowgateError('ERR_NO_UPSTREAM', '--subject needs the upstream section of the configuration (subjects are scoped to its issuer)');
          }
          subjectRef = await subjectRefOf(vault, upstreamIssuer, options.subject);
        }
        const kinds: StreamKind[] = options.kind === 'all' ? ['flow', 'grant', 'client'] : [options.kind];
        const found = await findStreams(
          engine.store.db,
          {
            kinds,
            ...(options.client !== undefined ? { clientId: options.client } : {}),
            ...(subjectRef !== undefined ? { subjectRef } : {}),
            ...(since !== undefined ? { since } : {}),
            ...(until !== undefined ? { until } : {}),
            ...(options.state !== undefined ? { state: options.state } : {}),
            limit: options.limit,
          },
          vault,
        );
        if (options.json) sayJson(found.map(streamJson));
        else if (found.length === 0) say('flowgate: no streams match');
        else say(textTable(COLUMNS, found));
      });
    });
}

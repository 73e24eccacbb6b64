/** Builders for test events. */
import { deriveEventId, newCommandId } from '../../src/events/ids.js';
import type { JsonValue } from '../../src/events/canonical-json.js';
import type { NewEvent } from '../../src/store/types.js';

let clock = Date.UTC(2026, 10, 29, 10, 0, 0);

/** `count` events of one command, with ids derived from its command id. */
export function commandEvents(
  count: number,
  options: { commandId?: string; type?: string; data?: (i: number) => JsonValue; startIndex?: number } = {},
): NewEvent[] {
  const commandId = options.commandId ?? newCommandId();
  return Array.from({ length: count }, (_, i) => ({
    eventId: deriveEventId(commandId, (options.startIndex ?? 0) + i),
    type: options.type ?? 'test.happened',
    data: options.data ? options.data(i) : { n: i, note: `event ${i}`, nested: { list: [1, 'two', null] } },
    metadata: { commandId, machine: { id: 'test', version: '1' } },
    occurredAt: clock++,
  }));
}

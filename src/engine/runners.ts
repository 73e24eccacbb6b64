/**
 * One {@link MachineRunner} per known machine version, built once per process.
 *
 * @module
 */
import { CURRENT_MACHINES, findMachine, type MachineEntry } from '../../machines/registry.js';
import type { StoredEvent } from '../store/types.js';
import { UnknownMachineError } from './errors.js';
import { MachineRunner, type MachineEvent } from './machine-runner.js';

const runners = new Map<string, MachineRunner>();

/** The runner of a machine entry. */
export function runnerFor(entry: MachineEntry): MachineRunner {
  const key = `${entry.id}@${entry.version}`;
  let runner = runners.get(key);
  if (!runner) {
    runner = new MachineRunner(entry.machine);
    runners.set(key, runner);
  }
  return runner;
}

/** The category of a stream id (`flow:abc` → `flow`). */
export function categoryOf(streamId: string): string {
  const colon = streamId.indexOf(':');
  return colon < 0 ? streamId : streamId.slice(0, colon);
}

/** The machine a new stream of this id's category is written with. */
export function currentMachineFor(streamId: string): MachineEntry {
  const entry = CURRENT_MACHINES[categoryOf(streamId)];
  if (!entry) throw new UnknownMachineError(streamId, `(no machine for category ${categoryOf(streamId)})`);
  return entry;
}

/** The machine an existing stream was written with (from its first event's metadata). */
export function machineOfStream(streamId: string, first: StoredEvent): MachineEntry {
  const machine = first.metadata.machine as { id?: unknown; version?: unknown } | undefined;
  const id = typeof machine?.id === 'string' ? machine.id : '';
  const version = typeof machine?.version === 'string' ? machine.version : '';
  const entry = findMachine(id, version);
  if (!entry) throw new UnknownMachineError(streamId, `${id}@${version}`);
  return entry;
}

/** A stored event as the machine sees it. */
export function toMachineEvent(event: StoredEvent): MachineEvent {
  return { ...(event.data as Record<string, unknown>), type: event.type, at: event.occurredAt };
}

/**
 * Every machine version flowgate has ever shipped. A stream replays against the version it
 * was started with (recorded in each event's metadata), so old versions stay here.
 *
 * @module
 */
import type { AnyStateMachine } from 'xstate';
import { AUTHORIZATION_FLOW, AUTHORIZATION_FLOW_VERSION, authorizationFlowMachine } from './authorization-flow.js';
import { CLIENT_REGISTRATION, CLIENT_REGISTRATION_VERSION, clientRegistrationMachine } from './client-registration.js';
import { TOKEN_GRANT, TOKEN_GRANT_VERSION, tokenGrantMachine } from './token-grant.js';

/** A machine and the version string recorded with its events. */
export interface MachineEntry {
  readonly id: string;
  readonly version: string;
  readonly machine: AnyStateMachine;
  /** The stream id prefix of its streams (`flow`, `grant`, `client`). */
  readonly category: string;
}

/** Every known machine version. */
export const MACHINES: readonly MachineEntry[] = [
  { id: AUTHORIZATION_FLOW, version: AUTHORIZATION_FLOW_VERSION, machine: authorizationFlowMachine, category: 'flow' },
  { id: TOKEN_GRANT, version: TOKEN_GRANT_VERSION, machine: tokenGrantMachine, category: 'grant' },
  { id: CLIENT_REGISTRATION, version: CLIENT_REGISTRATION_VERSION, machine: clientRegistrationMachine, category: 'client' },
];

/** The version new streams of each category are written with. */
export const CURRENT_MACHINES: Readonly<Record<string, MachineEntry>> = {
  flow: MACHINES[0]!,
  grant: MACHINES[1]!,
  client: MACHINES[2]!,
};

/** The machine for `id@version`, or undefined when this code does not know it. */
export function findMachine(id: string, version: string): MachineEntry | undefined {
  return MACHINES.find((m) => m.id === id && m.version === version);
}

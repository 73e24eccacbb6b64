/**
 * The sweeper's commands: expire one overdue flow or grant. Each checks with the stream's
 * machine (the guard compares the event time with the deadline) and does nothing when the
 * stream is not overdue any more — a sweeper racing with a user changes nothing wrongly.
 *
 * @module
 */
import { grantDeadline, type TokenGrantContext } from '../../../machines/token-grant.js';
import { flowStream } from './flow-support.js';
import { grantStream } from './grant-support.js';
import type { CommandHandler } from './types.js';

/** Expire an overdue flow. */
export interface ExpireFlow {
  readonly type: 'ExpireFlow';
  readonly flowId: string;
}

/** The `ExpireFlow` handler. */
export const expireFlow: CommandHandler<ExpireFlow, { readonly expired: boolean }> = {
  retryOnConflict: true,
  async decide(session, command) {
    const flow = await session.load(flowStream(command.flowId));
    if (!flow.exists || !session.accepts(flow.streamId, 'flow.expired', {})) return { expired: false };
    session.emit(flow.streamId, 'flow.expired', {});
    return { expired: true };
  },
};

/** Expire an overdue grant. */
export interface ExpireGrant {
  readonly type: 'ExpireGrant';
  readonly grantId: string;
}

/** The `ExpireGrant` handler. */
export const expireGrant: CommandHandler<ExpireGrant, { readonly expired: boolean }> = {
  retryOnConflict: true,
  async decide(session, command) {
    const grant = await session.load<TokenGrantContext>(grantStream(command.grantId));
    if (!grant.exists || !grant.state.startsWith('live') || session.now < grantDeadline(grant.context)) {
      return { expired: false };
    }
    const reason = session.now >= grant.context.absoluteExpiresAt ? 'absolute' : 'idle';
    session.emit(grant.streamId, 'grant.expired', { reason });
    return { expired: true };
  },
};

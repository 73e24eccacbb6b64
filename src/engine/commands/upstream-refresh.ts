/**
 * Refreshing a grant's upstream tokens, once per grant at a time across instances: the
 * instance whose `upstream.refresh_requested` lands takes a lease (the store's optimistic
 * concurrency decides who); the others see the lease and wait for its outcome. A lease
 * left by a crashed instance can be taken over once it ends.
 *
 * @module
 */
import type { TokenGrantContext } from '../../../machines/token-grant.js';
import { grantKeyId } from '../../crypto/vault.js';
import type { UpstreamTokenSet } from './upstream-callback.js';
import { upstreamErrorCode } from './flow-support.js';
import { grantStream } from './grant-support.js';
import type { CommandHandler } from './types.js';

/** Ask for the lease to refresh a grant's upstream tokens. */
export interface RequestUpstreamRefresh {
  readonly type: 'RequestUpstreamRefresh';
  readonly grantId: string;
}

/** Either this caller holds the lease, or someone else does (wait for their outcome). */
export type UpstreamRefreshLease =
  | { readonly acquired: true; readonly requestId: string; readonly leaseUntil: number }
  | { readonly acquired: false; readonly reason: 'busy'; readonly leaseUntil: number }
  | { readonly acquired: false; readonly reason: 'inactive' };

/** The `RequestUpstreamRefresh` handler. It never retries: losing the race means someone else refreshes. */
export const requestUpstreamRefresh: CommandHandler<RequestUpstreamRefresh, UpstreamRefreshLease> = {
  retryOnConflict: false,
  async decide(session, command, context) {
    const grant = await session.load<TokenGrantContext>(grantStream(command.grantId));
    if (!grant.exists || !grant.state.startsWith('live')) return { acquired: false, reason: 'inactive' };
    const requestId = context.random.id();
    const leaseUntil = session.now + context.settings.upstreamRefreshLeaseMs;
    const event = { requestId, leaseUntil };
    if (!session.accepts(grant.streamId, 'upstream.refresh_requested', event)) {
      const lease = grant.context.upstreamRefresh;
      return lease ? { acquired: false, reason: 'busy', leaseUntil: lease.leaseUntil } : { acquired: false, reason: 'inactive' };
    }
    session.emit(grant.streamId, 'upstream.refresh_requested', event);
    return { acquired: true, requestId, leaseUntil };
  },
};

/** Record refreshed upstream tokens (by the lease holder). */
export interface CompleteUpstreamRefresh {
  readonly type: 'CompleteUpstreamRefresh';
  readonly grantId: string;
  readonly requestId: string;
  readonly tokenSet: UpstreamTokenSet;
  readonly upstreamExpiresAt: number | null;
  readonly refreshable: boolean;
}

/** The `CompleteUpstreamRefresh` handler. */
export const completeUpstreamRefresh: CommandHandler<CompleteUpstreamRefresh, void> = {
  retryOnConflict: true,
  async decide(session, command, context) {
    const grant = await session.loadExisting<TokenGrantContext>(grantStream(command.grantId));
    const tokenSetSealed = await context.vault.seal(grantKeyId(command.grantId), 'upstream_tokens', JSON.stringify(command.tokenSet));
    session.emit(grant.streamId, 'upstream.refreshed', {
      requestId: command.requestId,
      tokenSetSealed,
      upstreamExpiresAt: command.upstreamExpiresAt,
      upstreamRefreshable: command.refreshable,
    });
  },
};

/** Record a failed upstream refresh; a definitive failure (`invalid_grant`) revokes the grant. */
export interface FailUpstreamRefresh {
  readonly type: 'FailUpstreamRefresh';
  readonly grantId: string;
  readonly requestId: string;
  readonly error: string;
  readonly definitive: boolean;
}

/** The `FailUpstreamRefresh` handler. */
export const failUpstreamRefresh: CommandHandler<FailUpstreamRefresh, void> = {
  retryOnConflict: true,
  async decide(session, command) {
    const grant = await session.loadExisting<TokenGrantContext>(grantStream(command.grantId));
    session.emit(grant.streamId, 'upstream.refresh_failed', {
      requestId: command.requestId,
      error: upstreamErrorCode(command.error),
      definitive: command.definitive,
    });
    if (command.definitive) session.emit(grant.streamId, 'grant.revoked', { reason: 'upstream_rejected' });
  },
};

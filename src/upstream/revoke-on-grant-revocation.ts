/**
 * Upstream revocation when flowgate revokes a grant (RFC 7009 §2, towards the upstream).
 *
 * When `upstream.revokeOnGrantRevocation` is on, every committed `grant.revoked` — by its
 * client at `/revoke`, by an operator (`flowgate grants revoke`), or by flowgate itself on a
 * replayed code or a reused refresh token — also revokes that grant's upstream tokens at
 * the upstream's revocation endpoint, so a stolen grant is dead at the provider too, not
 * only behind flowgate. Not when the upstream itself rejected the grant (nothing is left to
 * revoke). Only upstream tokens are ever sent upstream, never flowgate's.
 *
 * Revocation runs after the commit, off the request path; a failure is logged (never the
 * token) and does not undo flowgate's revocation. `drain()` waits for the calls in flight,
 * for shutdown and for commands that exit right after revoking.
 *
 * @module
 */
import type { StoredEvent } from '../store/types.js';
import type { UpstreamTokenSet } from './types.js';

/** Grant streams are `grant:<grant id>` (`grantStream`). */
const GRANT_STREAM_PREFIX = 'grant:';

/** `grant.revoked` reasons after which the upstream is not asked (it ended the grant itself). */
const UPSTREAM_ALREADY_ENDED = new Set(['upstream_rejected']);

/** What the revoker needs. */
export interface UpstreamRevokerDeps {
  /** The grant's upstream token set, opened with its data key; undefined if there is none. */
  tokenSet(grantId: string): Promise<UpstreamTokenSet | undefined>;
  /** Revokes the set at the upstream (refresh token first, then access token). */
  revoke(tokenSet: UpstreamTokenSet): Promise<unknown>;
  readonly log: { warn(obj: object, msg?: string): void };
}

/** Revokes the upstream tokens of grants flowgate has revoked. */
export class UpstreamRevoker {
  readonly #deps: UpstreamRevokerDeps;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(deps: UpstreamRevokerDeps) {
    this.#deps = deps;
  }

  /** Looks at committed events (the engine's `onCommitted`) and starts a revocation for each revoked grant. */
  observe(events: readonly StoredEvent[]): void {
    for (const event of events) {
      if (event.type !== 'grant.revoked' || !event.streamId.startsWith(GRANT_STREAM_PREFIX)) continue;
      const reason = (event.data as { reason?: unknown } | null)?.reason;
      if (typeof reason === 'string' && UPSTREAM_ALREADY_ENDED.has(reason)) continue;
      this.#track(this.#revoke(event.streamId.slice(GRANT_STREAM_PREFIX.length)));
    }
  }

  /** Revokes one grant's upstream tokens now (resolves when the upstream has answered or failed). */
  revokeGrant(grantId: string): Promise<void> {
    const call = this.#revoke(grantId);
    this.#track(call);
    return call;
  }

  /** Waits for the revocations in flight, at most `timeoutMs`. */
  async drain(timeoutMs = 5_000): Promise<void> {
    if (this.#inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    });
    await Promise.race([Promise.allSettled([...this.#inFlight]), timeout]);
    clearTimeout(timer);
  }

  #track(call: Promise<void>): void {
    this.#inFlight.add(call);
    void call.finally(() => this.#inFlight.delete(call));
  }

  async #revoke(grantId: string): Promise<void> {
    try {
      const tokenSet = await this.#deps.tokenSet(grantId);
      if (tokenSet) await this.#deps.revoke(tokenSet);
    } catch (error) {
      this.#deps.log.warn({ grantId, error: (error as Error).message }, 'upstream revocation failed');
    }
  }
}

/**
 * A grant's upstream tokens, for tools that call upstream APIs and for the refresh grant.
 *
 * The upstream access token is refreshed only when it has expired or is about to (the
 * upstream client's threshold), and **once per grant at a time across instances**: the
 * instance whose `upstream.refresh_requested` the store accepts holds the lease and calls
 * the upstream; the others wait for its outcome and reuse it. A definitive rejection
 * (`invalid_grant`) revokes the grant; an outage answers `temporarily_unavailable` and keeps
 * it. So does an upstream `invalid_client`: the upstream refused flowgate's own client
 * credentials, an operator's misconfiguration that is logged at error level and must not end
 * every user's grant. An upstream that gave no `expires_in`, or no refresh token (GitHub
 * OAuth apps), is trusted until it rejects the token.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { grantKeyId, type Vault } from '../crypto/vault.js';
import type { Engine } from '../engine/engine.js';
import { InvalidGrant, TemporarilyUnavailable } from '../oauth/errors.js';
import { findUpstreamTokenSet, type UpstreamTokenSetRecord } from '../projections/upstream-token-sets.js';
import type { JsonValue } from '../events/canonical-json.js';
import type { UpstreamTokens as RefreshedTokens, UpstreamTokenSet } from '../upstream/types.js';
import { UpstreamError } from '../upstream/upstream-error.js';

/** What the service needs from the upstream client. */
export interface UpstreamRefresher {
  refresh(tokenSet: UpstreamTokenSet): Promise<RefreshedTokens>;
  isExpiring(expiresAt: number | null, issuedAt?: number): boolean;
}

/** Something that logs warnings and errors (pino-compatible). */
interface Log {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the operator reads when the upstream refuses flowgate's own credentials. */
export const UPSTREAM_CLIENT_REJECTED =
  'upstream refresh refused flowgate\'s own client credentials (invalid_client): upstream.clientId, ' +
  'upstream.clientSecret or the client assertion key is misconfigured or was rotated at the identity ' +
  'provider; grants are kept and clients are told temporarily_unavailable until the configuration is fixed';

/** The upstream tokens of grants. */
export class UpstreamTokenService {
  constructor(
    private readonly deps: {
      readonly engine: Engine;
      readonly vault: Vault;
      readonly upstream: UpstreamRefresher;
      readonly log?: Log;
      /** How often a waiting instance looks for the lease holder's result. */
      readonly pollMs?: number;
    },
  ) {}

  #row(grantId: string): Promise<UpstreamTokenSetRecord | undefined> {
    return findUpstreamTokenSet(this.deps.engine.store.db, grantId);
  }

  async #open(row: UpstreamTokenSetRecord): Promise<UpstreamTokenSet> {
    const opened = await this.deps.vault.open(grantKeyId(row.grantId), 'upstream_tokens', row.tokenSetSealed);
    if (!opened.ok) throw new InvalidGrant('the grant was erased', { detail: 'grant key destroyed' });
    return JSON.parse(opened.value) as Record<string, JsonValue>;
  }

  /** Whether the grant's upstream access token must be refreshed before use. */
  #stale(row: UpstreamTokenSetRecord): boolean {
    return row.refreshable && this.deps.upstream.isExpiring(row.upstreamExpiresAt, row.updatedAt);
  }

  /**
   * Makes sure the grant's upstream access token is usable, refreshing it when it expired
   * (see the module comment). Throws `invalid_grant` or `temporarily_unavailable`.
   */
  async ensureFresh(grantId: string): Promise<UpstreamTokenSetRecord> {
    for (let round = 0; round < 3; round++) {
      const row = await this.#row(grantId);
      if (!row) throw new InvalidGrant('the grant has no upstream tokens', { detail: `no upstream token set for ${grantId}` });
      if (!this.#stale(row)) return row;
      const lease = await this.deps.engine.execute({ type: 'RequestUpstreamRefresh', grantId }).catch((error: unknown) => {
        if ((error as { code?: string }).code === 'ERR_CONCURRENCY') return { acquired: false as const, reason: 'busy' as const, leaseUntil: this.deps.engine.now() + 1000 };
        throw error;
      });
      if (!lease.acquired && lease.reason === 'inactive') throw new InvalidGrant('the grant is no longer active');
      if (lease.acquired) return this.#refresh(row, lease.requestId);
      await this.#await(row, lease.leaseUntil);
    }
    throw new TemporarilyUnavailable('the upstream tokens could not be refreshed; try again');
  }

  /** Waits for another instance's refresh to land (or its lease to end). */
  async #await(row: UpstreamTokenSetRecord, leaseUntil: number): Promise<void> {
    const pollMs = this.deps.pollMs ?? 25;
    while (this.deps.engine.now() < leaseUntil + pollMs) {
      await sleep(pollMs);
      const now = await this.#row(row.grantId);
      if (!now || now.updatedAt !== row.updatedAt || !this.#stale(now)) return;
      const grant = await this.deps.engine.store.db
        .selectFrom('grants')
        .select('status')
        .where('grant_id', '=', row.grantId)
        .executeTakeFirst();
      if (grant && grant.status !== 'active') throw new InvalidGrant('the grant is no longer active');
      const lease = await this.deps.engine.store.readStream(`grant:${row.grantId}`);
      if (lease.at(-1)?.type === 'upstream.refresh_failed') return;
    }
  }

  async #refresh(row: UpstreamTokenSetRecord, requestId: string): Promise<UpstreamTokenSetRecord> {
    const grantId = row.grantId;
    try {
      const tokens = await this.deps.upstream.refresh(await this.#open(row));
      await this.deps.engine.execute({
        type: 'CompleteUpstreamRefresh',
        grantId,
        requestId,
        tokenSet: tokens.tokenSet,
        upstreamExpiresAt: tokens.expiresAt,
        refreshable: tokens.refreshable,
      });
      return (await this.#row(grantId))!;
    } catch (error) {
      const upstream = error instanceof UpstreamError ? error : undefined;
      // Only the upstream's verdict on the grant itself ends it; `invalid_client` (flowgate's
      // credentials), outages and anything unexpected keep it.
      const definitive = upstream?.kind === 'definitive' && upstream.reason === 'invalid_grant';
      await this.deps.engine
        .execute({ type: 'FailUpstreamRefresh', grantId, requestId, error: upstream?.upstreamError ?? upstream?.reason ?? 'error', definitive })
        .catch(() => {});
      if (upstream?.reason === 'invalid_client') {
        // Fixed text, the reason, the upstream's error code and status: no credentials, no upstream text.
        this.deps.log?.error({ grantId, reason: upstream.reason, upstreamError: upstream.upstreamError, status: upstream.status }, UPSTREAM_CLIENT_REJECTED);
      } else {
        this.deps.log?.warn({ grantId, reason: upstream?.reason ?? 'error', definitive }, 'upstream refresh failed');
      }
      if (definitive) throw new InvalidGrant('the identity provider no longer accepts this grant', { detail: 'upstream invalid_grant' });
      throw new TemporarilyUnavailable('the identity provider is not reachable; try again', { detail: upstream?.detail ?? String(error) });
    }
  }

  /** The grant's upstream access token, refreshed first when it expired. */
  async accessToken(grantId: string): Promise<string> {
    const row = await this.ensureFresh(grantId);
    const tokenSet = await this.#open(row);
    const token = tokenSet.access_token;
    if (typeof token !== 'string') throw new InvalidGrant('the grant has no upstream access token');
    return token;
  }

  /** The grant's upstream token set (for upstream revocation). */
  async tokenSet(grantId: string): Promise<UpstreamTokenSet | undefined> {
    const row = await this.#row(grantId);
    return row ? this.#open(row) : undefined;
  }
}

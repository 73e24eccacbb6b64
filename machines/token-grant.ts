/**
 * One token family (a grant): created when a code is redeemed, it issues access tokens,
 * rotates its refresh token on every use, detects reuse of a retired refresh token and
 * revokes the whole family, refreshes the upstream tokens one instance at a time, and
 * expires (absolute and idle deadlines).
 *
 * Grace window G (`graceMs`, default 0): with G = 0 every use of a retired refresh token —
 * a concurrent loser included — is reuse. With G > 0 the first use of the token retired
 * last, within G of its rotation and while the family has a single live branch, rotates
 * again (a second live branch); any other use of a retired token is reuse. After one such
 * retry the family keeps two live branches until it ends, so grace is spent.
 *
 * Access tokens are revocable one by one (`access_token.revoked`) only while the grant is
 * alive (before its deadlines); a token of an overdue grant is already inactive.
 *
 * @module
 */
import { assign, setup } from 'xstate';

/** Machine id, recorded with every event. */
export const TOKEN_GRANT = 'token-grant';
/** Version of this definition. */
export const TOKEN_GRANT_VERSION = '1';

/** Why a grant was revoked. */
export type RevocationReason =
  | 'client_revoked'
  | 'code_reuse'
  | 'refresh_token_reuse'
  | 'upstream_rejected'
  | 'operator';

/** A code was redeemed: the family starts. */
export interface GrantCreated {
  readonly type: 'grant.created';
  readonly at: number;
  readonly grantId: string;
  readonly flowId: string;
  readonly clientId: string;
  readonly subjectRef: string;
  readonly scopes: readonly string[];
  readonly resource: string;
  /** Hash of the first refresh token, or null when the client gets none. */
  readonly refreshTokenHash: string | null;
  readonly absoluteExpiresAt: number;
  readonly idleTtlMs: number;
  readonly graceMs: number;
}

/** An access token (JWT) was issued; its `jti` is the handle for revocation. */
export interface AccessTokenIssued {
  readonly type: 'access_token.issued';
  readonly at: number;
  readonly jti: string;
  readonly expiresAt: number;
  readonly scopes: readonly string[];
}

/** A refresh token was used: the presented one is retired, a new one is live. */
export interface RefreshTokenRotated {
  readonly type: 'refresh_token.rotated';
  readonly at: number;
  readonly presentedHash: string;
  readonly newHash: string;
  readonly scopes: readonly string[];
}

/** A retired refresh token was presented outside the grace rule. */
export interface RefreshTokenReuseDetected {
  readonly type: 'refresh_token.reuse_detected';
  readonly at: number;
  readonly presentedHash: string;
}

/** The owning client revoked one access token (RFC 7009). */
export interface AccessTokenRevoked {
  readonly type: 'access_token.revoked';
  readonly at: number;
  readonly jti: string;
}

/** The whole family is dead: every refresh and access token of it. */
export interface GrantRevoked {
  readonly type: 'grant.revoked';
  readonly at: number;
  readonly reason: RevocationReason;
}

/** One instance took the lease to refresh the upstream tokens. */
export interface UpstreamRefreshRequested {
  readonly type: 'upstream.refresh_requested';
  readonly at: number;
  readonly requestId: string;
  readonly leaseUntil: number;
}

/** The upstream tokens were refreshed. */
export interface UpstreamRefreshed {
  readonly type: 'upstream.refreshed';
  readonly at: number;
  readonly requestId: string;
  readonly tokenSetSealed: string;
  readonly upstreamExpiresAt: number | null;
  readonly upstreamRefreshable: boolean;
}

/** The upstream refresh failed; `definitive` (invalid_grant) means the grant must go. */
export interface UpstreamRefreshFailed {
  readonly type: 'upstream.refresh_failed';
  readonly at: number;
  readonly requestId: string;
  readonly error: string;
  readonly definitive: boolean;
}

/** The grant ran past its absolute or idle deadline. */
export interface GrantExpired {
  readonly type: 'grant.expired';
  readonly at: number;
  readonly reason: 'absolute' | 'idle';
}

/** Every event of a token grant. */
export type TokenGrantEvent =
  | GrantCreated
  | AccessTokenIssued
  | RefreshTokenRotated
  | RefreshTokenReuseDetected
  | AccessTokenRevoked
  | GrantRevoked
  | UpstreamRefreshRequested
  | UpstreamRefreshed
  | UpstreamRefreshFailed
  | GrantExpired;

/** The refresh token retired last, for the grace rule. */
export interface RetiredRefresh {
  readonly hash: string;
  readonly retiredAt: number;
  readonly graceUsed: boolean;
}

/** What the machine remembers about a grant. */
export interface TokenGrantContext {
  readonly grantId: string;
  readonly flowId: string;
  readonly clientId: string;
  readonly subjectRef: string;
  readonly scopes: readonly string[];
  readonly resource: string;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  readonly absoluteExpiresAt: number;
  readonly idleTtlMs: number;
  readonly graceMs: number;
  readonly activeRefreshHashes: readonly string[];
  readonly lastRetired: RetiredRefresh | null;
  readonly upstreamRefresh: { readonly requestId: string; readonly leaseUntil: number } | null;
  readonly revokedReason: RevocationReason | null;
  /** Access tokens issued and revoked one by one (counts; the jtis live in `jti_mappings`). */
  readonly accessTokensIssued: number;
  readonly accessTokensRevoked: number;
}

const EMPTY: TokenGrantContext = {
  grantId: '',
  flowId: '',
  clientId: '',
  subjectRef: '',
  scopes: [],
  resource: '',
  createdAt: 0,
  lastUsedAt: 0,
  absoluteExpiresAt: 0,
  idleTtlMs: 0,
  graceMs: 0,
  activeRefreshHashes: [],
  lastRetired: null,
  upstreamRefresh: null,
  revokedReason: null,
  accessTokensIssued: 0,
  accessTokensRevoked: 0,
};

type Ctx = { context: TokenGrantContext; event: TokenGrantEvent };

/** The moment the grant stops being usable. */
export function grantDeadline(context: TokenGrantContext): number {
  return Math.min(context.absoluteExpiresAt, context.lastUsedAt + context.idleTtlMs);
}

function alive({ context, event }: Ctx): boolean {
  return event.at < grantDeadline(context);
}

/**
 * The first use of the token retired last, within the grace window, while the family has a
 * single live branch (never when G = 0). Grace is tied to the immediately preceding token
 * only (security-invariants §1.17-3), so a family never has more than two live tokens.
 */
function graceEligible(context: TokenGrantContext, hash: string, at: number): boolean {
  const retired = context.lastRetired;
  return (
    context.graceMs > 0 &&
    retired !== null &&
    retired.hash === hash &&
    !retired.graceUsed &&
    context.activeRefreshHashes.length === 1 &&
    at - retired.retiredAt < context.graceMs
  );
}

function narrows(requested: readonly string[], granted: readonly string[]): boolean {
  return requested.every((s) => granted.includes(s));
}

/** The token-grant machine, version 1. */
export const tokenGrantMachine = setup({
  types: {
    context: {} as TokenGrantContext,
    events: {} as TokenGrantEvent,
  },
  guards: {
    canIssue: (args: Ctx) => args.event.type === 'access_token.issued' && alive(args) && narrows(args.event.scopes, args.context.scopes),
    canRotate: (args: Ctx) => {
      const { context, event } = args;
      if (event.type !== 'refresh_token.rotated' || !alive(args) || !narrows(event.scopes, context.scopes)) return false;
      if (event.newHash === event.presentedHash || context.activeRefreshHashes.includes(event.newHash)) return false;
      return context.activeRefreshHashes.includes(event.presentedHash) || graceEligible(context, event.presentedHash, event.at);
    },
    isReuse: ({ context, event }: Ctx) =>
      event.type === 'refresh_token.reuse_detected' &&
      !context.activeRefreshHashes.includes(event.presentedHash) &&
      !graceEligible(context, event.presentedHash, event.at),
    canRevokeAccessToken: (args: Ctx) => alive(args) && args.context.accessTokensRevoked < args.context.accessTokensIssued,
    canRequestUpstreamRefresh: (args: Ctx) => alive(args),
    leaseExpired: (args: Ctx) =>
      alive(args) && args.context.upstreamRefresh !== null && args.event.at >= args.context.upstreamRefresh.leaseUntil,
    ownsLease: ({ context, event }: Ctx) =>
      (event.type === 'upstream.refreshed' || event.type === 'upstream.refresh_failed') &&
      context.upstreamRefresh !== null &&
      context.upstreamRefresh.requestId === event.requestId,
    pastDeadline: ({ context, event }: Ctx) =>
      event.type === 'grant.expired' &&
      (event.reason === 'absolute'
        ? event.at >= context.absoluteExpiresAt
        : event.at >= context.lastUsedAt + context.idleTtlMs),
  },
  actions: {
    create: assign(({ event }) => {
      if (event.type !== 'grant.created') return {};
      return {
        grantId: event.grantId,
        flowId: event.flowId,
        clientId: event.clientId,
        subjectRef: event.subjectRef,
        scopes: event.scopes,
        resource: event.resource,
        createdAt: event.at,
        lastUsedAt: event.at,
        absoluteExpiresAt: event.absoluteExpiresAt,
        idleTtlMs: event.idleTtlMs,
        graceMs: event.graceMs,
        activeRefreshHashes: event.refreshTokenHash ? [event.refreshTokenHash] : [],
      };
    }),
    rotate: assign(({ context, event }) => {
      if (event.type !== 'refresh_token.rotated') return {};
      const wasActive = context.activeRefreshHashes.includes(event.presentedHash);
      return {
        lastUsedAt: event.at,
        activeRefreshHashes: [...context.activeRefreshHashes.filter((h) => h !== event.presentedHash), event.newHash],
        lastRetired: wasActive
          ? { hash: event.presentedHash, retiredAt: event.at, graceUsed: false }
          : { ...context.lastRetired!, graceUsed: true },
      };
    }),
    takeLease: assign(({ event }) =>
      event.type === 'upstream.refresh_requested'
        ? { upstreamRefresh: { requestId: event.requestId, leaseUntil: event.leaseUntil } }
        : {},
    ),
    releaseLease: assign({ upstreamRefresh: null }),
    revoke: assign(({ event }) =>
      event.type === 'grant.revoked' ? { revokedReason: event.reason, activeRefreshHashes: [] } : {},
    ),
    forgetRefreshTokens: assign({ activeRefreshHashes: [] }),
    countIssued: assign(({ context }) => ({ accessTokensIssued: context.accessTokensIssued + 1 })),
    countRevoked: assign(({ context }) => ({ accessTokensRevoked: context.accessTokensRevoked + 1 })),
  },
}).createMachine({
  id: TOKEN_GRANT,
  version: TOKEN_GRANT_VERSION,
  context: EMPTY,
  initial: 'new',
  states: {
    new: {
      on: { 'grant.created': { target: 'live', actions: 'create' } },
    },
    live: {
      initial: 'idle',
      on: {
        'access_token.issued': { guard: 'canIssue', actions: 'countIssued' },
        'refresh_token.rotated': { guard: 'canRotate', actions: 'rotate' },
        'refresh_token.reuse_detected': { target: 'reuse_detected', guard: 'isReuse', actions: 'forgetRefreshTokens' },
        'access_token.revoked': { guard: 'canRevokeAccessToken', actions: 'countRevoked' },
        'grant.revoked': { target: 'revoked', actions: 'revoke' },
        'grant.expired': { target: 'expired', guard: 'pastDeadline', actions: 'forgetRefreshTokens' },
      },
      states: {
        idle: {
          on: {
            'upstream.refresh_requested': { target: 'refreshing', guard: 'canRequestUpstreamRefresh', actions: 'takeLease' },
          },
        },
        refreshing: {
          on: {
            'upstream.refreshed': { target: 'idle', guard: 'ownsLease', actions: 'releaseLease' },
            'upstream.refresh_failed': { target: 'idle', guard: 'ownsLease', actions: 'releaseLease' },
            'upstream.refresh_requested': { target: 'refreshing', guard: 'leaseExpired', actions: 'takeLease' },
          },
        },
      },
    },
    reuse_detected: {
      on: { 'grant.revoked': { target: 'revoked', actions: 'revoke' } },
    },
    revoked: { type: 'final' },
    expired: { type: 'final' },
  },
});

/**
 * Event-payload factories for the three machines: in each state, the events worth trying
 * with payloads that satisfy the guards from the current context (the code's hash, client
 * and challenge at redemption; `at >= expiresAt` for expiry; the lease's request id …).
 * Sealed fields carry opaque placeholders: projections only copy them.
 *
 * Ids are namespaced (`flow-<ns>`, `grant-<ns>`, `client-<ns>`) so every path runs on its own
 * streams and rows of one shared store.
 */
import type { AuthorizationFlowContext } from '../../../machines/authorization-flow.js';
import type { ClientRegistrationContext } from '../../../machines/client-registration.js';
import { MACHINES, type MachineEntry } from '../../../machines/registry.js';
import type { TokenGrantContext } from '../../../machines/token-grant.js';
import type { JsonValue } from '../../../src/events/canonical-json.js';
import type { Candidate, MachineModel } from './paths.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 86_400 * SECOND;

/** Lifetimes the factories use (the engine's defaults). */
export const TTL = {
  flow: 15 * MINUTE,
  code: 5 * MINUTE,
  upstreamState: 10 * MINUTE,
  accessToken: 60 * MINUTE,
  refreshIdle: 30 * DAY,
  refreshAbsolute: 90 * DAY,
  grace: 10 * SECOND,
  lease: 30 * SECOND,
  clientUnused: 90 * DAY,
} as const;

export const REDIRECT_URI = 'http://127.0.0.1:53682/callback';
export const RESOURCE = 'http://127.0.0.1:8787/mcp';
export const REQUESTED_SCOPES = ['mcp:tools', 'mcp:read'] as const;
/** The upstream grants less than was requested: the code and the grant carry only these. */
export const GRANTED_SCOPES = ['mcp:tools'] as const;

/** The ids of namespace `ns`. */
export function ids(ns: string) {
  return {
    flowId: `flow-${ns}`,
    grantId: `grant-${ns}`,
    clientId: `client-${ns}`,
    browserHash: `browser-hash-${ns}`,
    codeChallenge: `challenge-${ns}`,
    subjectRef: `subject-ref-${ns}`,
  };
}

function entry(id: string): MachineEntry {
  const found = MACHINES.find((m) => m.id === id);
  if (!found) throw new Error(`no machine ${id}`);
  return found;
}

function c(type: string, payload: Record<string, JsonValue>, variant = 'default', at?: number): Candidate {
  return at === undefined ? { type, variant, payload } : { type, variant, payload, at };
}

// ---------------------------------------------------------------------------------------
// authorization-flow

/** States in which `flow.expired` uses the flow's deadline (`pastDeadline`). */
const OPEN = new Set(['started', 'consent_shown', 'consent_approved', 'upstream_redirected', 'callback_accepted', 'tokens_received']);

/** The authorization-flow model. Features: how consent was given. */
export const authorizationFlowModel: MachineModel<AuthorizationFlowContext> = {
  entry: entry('authorization-flow'),
  features: (_state, ctx) => ctx.consentBasis,
  candidates(state, ctx, now, ns) {
    const id = ids(ns);
    const out: Candidate[] = [];
    const expire = (deadline: number) => out.push(c('flow.expired', {}, 'default', Math.max(now, deadline)));
    switch (state) {
      case 'new':
        out.push(
          c('flow.started', {
            flowId: id.flowId,
            grantId: id.grantId,
            clientId: id.clientId,
            redirectUri: REDIRECT_URI,
            codeChallenge: id.codeChallenge,
            codeChallengeMethod: 'S256',
            scopes: [...REQUESTED_SCOPES],
            resource: RESOURCE,
            clientStateSealed: `sealed:client_state:${ns}`,
            browserHash: id.browserHash,
            expiresAt: now + TTL.flow,
          }),
        );
        break;
      case 'started':
        out.push(c('consent.shown', { browserHash: ctx.browserHash }));
        out.push(c('consent.approved', { basis: 'remembered', browserHash: ctx.browserHash }, 'remembered'));
        out.push(c('consent.approved', { basis: 'disabled', browserHash: ctx.browserHash }, 'disabled'));
        break;
      case 'consent_shown':
        out.push(c('consent.approved', { basis: 'user', browserHash: ctx.browserHash }, 'user'));
        out.push(c('consent.denied', { browserHash: ctx.browserHash }));
        break;
      case 'consent_approved':
        out.push(
          c('upstream.redirected', {
            upstreamStateHash: `upstream-state-hash-${ns}`,
            proxyVerifierSealed: `sealed:proxy_verifier:${ns}`,
            nonceHash: `nonce-hash-${ns}`,
            stateExpiresAt: Math.min(now + TTL.upstreamState, ctx.expiresAt),
          }),
        );
        break;
      case 'upstream_redirected':
        out.push(c('upstream.callback_accepted', { upstreamStateHash: ctx.upstreamStateHash, browserHash: ctx.browserHash }));
        out.push(c('upstream.error_received', { upstreamStateHash: ctx.upstreamStateHash, error: 'access_denied' }));
        break;
      case 'callback_accepted':
        out.push(
          c('upstream.tokens_received', {
            grantId: ctx.grantId,
            subjectRef: ids(ns).subjectRef,
            subjectSealed: `sealed:subject:${ns}`,
            claimsSealed: `sealed:claims:${ns}`,
            tokenSetSealed: `sealed:upstream_tokens:${ns}:${now}`,
            upstreamExpiresAt: now + 60 * MINUTE,
            upstreamRefreshable: true,
            grantedScopes: [...GRANTED_SCOPES],
          }),
        );
        out.push(c('upstream.exchange_failed', { error: 'invalid_grant' }));
        break;
      case 'tokens_received':
        out.push(
          c('code.issued', {
            codeHash: `code-hash-${ns}`,
            clientId: ctx.clientId,
            redirectUri: ctx.redirectUri,
            codeChallenge: ctx.codeChallenge,
            scopes: ctx.scopes.filter((s) => ctx.grantedScopes.includes(s)),
            resource: ctx.resource,
            grantId: ctx.grantId,
            expiresAt: now + TTL.code,
          }),
        );
        break;
      case 'code_issued':
        out.push(c('code.redeemed', redemption(ctx)));
        expire(ctx.codeExpiresAt!);
        break;
      case 'code_redeemed':
        out.push(c('code.reuse_detected', redemption(ctx)));
        break;
    }
    if (OPEN.has(state)) expire(ctx.expiresAt);
    return out;
  },
};

function redemption(ctx: AuthorizationFlowContext): Record<string, JsonValue> {
  return {
    codeHash: ctx.codeHash,
    clientId: ctx.clientId,
    redirectUri: ctx.redirectUri,
    verifierChallenge: ctx.codeChallenge,
    resource: ctx.resource,
  };
}

/** The flow steps that lead to a redeemed code (what precedes `grant.created`). */
export const FLOW_TO_REDEEMED = [
  { type: 'flow.started', variant: 'default' },
  { type: 'consent.shown', variant: 'default' },
  { type: 'consent.approved', variant: 'user' },
  { type: 'upstream.redirected', variant: 'default' },
  { type: 'upstream.callback_accepted', variant: 'default' },
  { type: 'upstream.tokens_received', variant: 'default' },
  { type: 'code.issued', variant: 'default' },
  { type: 'code.redeemed', variant: 'default' },
] as const;

// ---------------------------------------------------------------------------------------
// token-grant

/**
 * The token-grant model. Features, in `live.idle`: live refresh tokens (0, 1, or 2 and more
 * after a grace rotation), whether a token was retired and its grace used, whether the grant
 * has a grace window, and whether access tokens were issued and one revoked. After the grant
 * ends only the retired-token and access-token parts matter (the projections show them).
 * `live.refreshing` is not split (its own transitions are covered from one representative).
 */
export const tokenGrantModel: MachineModel<TokenGrantContext> = {
  entry: entry('token-grant'),
  features: (state, ctx) => {
    if (state === 'live.refreshing') return null;
    const retired = ctx.lastRetired === null ? 'none' : ctx.lastRetired.graceUsed ? 'grace-used' : 'retired';
    const access = ctx.accessTokensRevoked > 0 ? 'revoked' : ctx.accessTokensIssued > 0 ? 'issued' : 'none';
    if (!state.startsWith('live')) return [retired, access];
    return [Math.min(ctx.activeRefreshHashes.length, 2), retired, ctx.graceMs > 0, access];
  },
  candidates(state, ctx, now, ns) {
    const id = ids(ns);
    const out: Candidate[] = [];
    if (state === 'new') {
      const created = (refreshTokenHash: string | null, graceMs: number): Record<string, JsonValue> => ({
        grantId: id.grantId,
        flowId: id.flowId,
        clientId: id.clientId,
        subjectRef: id.subjectRef,
        scopes: [...GRANTED_SCOPES],
        resource: RESOURCE,
        refreshTokenHash,
        absoluteExpiresAt: now + TTL.refreshAbsolute,
        idleTtlMs: TTL.refreshIdle,
        graceMs,
      });
      out.push(c('grant.created', created(`refresh-hash-${ns}-${now}`, 0), 'refresh'));
      out.push(c('grant.created', created(null, 0), 'no-refresh'));
      out.push(c('grant.created', created(`refresh-hash-${ns}-${now}`, TTL.grace), 'refresh-grace'));
      return out;
    }
    if (state === 'reuse_detected') {
      out.push(c('grant.revoked', { reason: 'refresh_token_reuse' }));
      return out;
    }
    if (!state.startsWith('live')) return out;

    out.push(c('access_token.issued', { jti: `jti-${ns}-${ctx.accessTokensIssued + 1}`, expiresAt: now + TTL.accessToken, scopes: [...ctx.scopes] }));
    if (ctx.accessTokensIssued > 0) out.push(c('access_token.revoked', { jti: `jti-${ns}-${ctx.accessTokensIssued}` }));
    const rotate = (presentedHash: string, variant: string) =>
      out.push(c('refresh_token.rotated', { presentedHash, newHash: `refresh-hash-${ns}-${now}`, scopes: [...ctx.scopes] }, variant));
    if (ctx.activeRefreshHashes.length > 0) rotate(ctx.activeRefreshHashes[ctx.activeRefreshHashes.length - 1]!, 'live-token');
    const retired = ctx.lastRetired;
    if (retired !== null && !retired.graceUsed && ctx.graceMs > 0) rotate(retired.hash, 'within-grace');
    if (retired !== null) out.push(c('refresh_token.reuse_detected', { presentedHash: retired.hash }));
    out.push(c('grant.revoked', { reason: 'client_revoked' }, 'client_revoked'));
    out.push(c('grant.expired', { reason: 'idle' }, 'idle', Math.max(now, ctx.lastUsedAt + ctx.idleTtlMs)));
    out.push(c('grant.expired', { reason: 'absolute' }, 'absolute', Math.max(now, ctx.absoluteExpiresAt)));
    if (state === 'live.idle') {
      out.push(c('upstream.refresh_requested', { requestId: `request-${ns}-${now}`, leaseUntil: now + TTL.lease }));
    }
    if (state === 'live.refreshing' && ctx.upstreamRefresh !== null) {
      const { requestId, leaseUntil } = ctx.upstreamRefresh;
      out.push(
        c('upstream.refreshed', {
          requestId,
          tokenSetSealed: `sealed:upstream_tokens:${ns}:${now}`,
          upstreamExpiresAt: now + 60 * MINUTE,
          upstreamRefreshable: true,
        }),
      );
      out.push(c('upstream.refresh_failed', { requestId, error: 'temporarily_unavailable', definitive: false }));
      const takeover = Math.max(now, leaseUntil);
      out.push(c('upstream.refresh_requested', { requestId: `request-${ns}-${takeover}`, leaseUntil: takeover + TTL.lease }, 'takeover', takeover));
    }
    return out;
  },
};

// ---------------------------------------------------------------------------------------
// client-registration

function metadata(ns: string, name: string): Record<string, JsonValue> {
  return {
    redirect_uris: [REDIRECT_URI],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    client_name: `${name} ${ns}`,
  };
}

/** The client-registration model. Features: the kind, and whether it was used since registration. */
export const clientRegistrationModel: MachineModel<ClientRegistrationContext> = {
  entry: entry('client-registration'),
  keyTargetless: true,
  features: (_state, ctx) => [ctx.kind, ctx.lastUsedAt > ctx.registeredAt],
  candidates(state, ctx, now, ns) {
    const id = ids(ns);
    const out: Candidate[] = [];
    if (state === 'new') {
      const registered = (kind: string, secretHash: string | null, unusedTtlMs: number | null) => ({
        clientId: id.clientId,
        kind,
        metadata: metadata(ns, 'Client'),
        secretHash,
        allowedPatterns: kind === 'static' ? [] : ['http://127.0.0.1:*/callback'],
        unusedTtlMs,
      });
      out.push(c('client.registered', registered('dynamic', null, TTL.clientUnused), 'dynamic'));
      out.push(c('client.registered', registered('metadata_document', null, TTL.clientUnused), 'metadata_document'));
      out.push(c('client.registered', registered('static', `secret-hash-${ns}`, null), 'static'));
      return out;
    }
    if (state !== 'active') return out;
    out.push(c('client.metadata_refreshed', { metadata: metadata(ns, `Renamed at ${now}`), secretHash: ctx.kind === 'static' ? `secret-hash-${ns}-${now}` : null }));
    out.push(c('client.used', {}));
    if (ctx.unusedTtlMs !== null) out.push(c('client.expired', {}, 'default', Math.max(now, ctx.lastUsedAt + ctx.unusedTtlMs)));
    out.push(c('client.deleted', { by: 'operator' }, 'operator'));
    out.push(c('client.deleted', { by: 'configuration' }, 'configuration'));
    return out;
  },
};

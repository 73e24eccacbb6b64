/**
 * The authorization flow (fastmcp's OAuthTransaction): one MCP client's authorization
 * request, from `/authorize` through flowgate's consent page and the upstream login to a
 * code the client redeems once.
 *
 * Pure: guards read only context and event; actions are only `assign`; every id, hash,
 * time and random value arrives in the event. Expiry is a guard on `event.at`.
 *
 * @module
 */
import { assign, setup } from 'xstate';

/** Machine id, recorded with every event. */
export const AUTHORIZATION_FLOW = 'authorization-flow';
/** Version of this definition; a behaviour change gets a new file and a new version. */
export const AUTHORIZATION_FLOW_VERSION = '1';

/** How consent was given (the log always says why a flow went upstream). */
export type ConsentBasis = 'user' | 'remembered' | 'disabled';

/** `/authorize` accepted a request (OAuth 2.1 §4.1.1). */
export interface FlowStarted {
  readonly type: 'flow.started';
  readonly at: number;
  readonly flowId: string;
  /** Allocated now, so its data key can protect the proxy verifier and upstream tokens. */
  readonly grantId: string;
  readonly clientId: string;
  /** Already validated against the client's registration. */
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly codeChallengeMethod: 'S256';
  readonly scopes: readonly string[];
  /** The configured resource (RFC 8707) the flow is for. */
  readonly resource: string;
  /** The client's `state`, sealed with the grant key; null when the client sent none. */
  readonly clientStateSealed: string | null;
  /** SHA-256 of the browser-binding cookie of the browser that started the flow. */
  readonly browserHash: string;
  /** The flow must reach the code before this time. */
  readonly expiresAt: number;
}

/** The consent page was rendered for the first time. */
export interface ConsentShown {
  readonly type: 'consent.shown';
  readonly at: number;
  readonly browserHash: string;
}

/** Consent was given; `basis` says how. */
export interface ConsentApproved {
  readonly type: 'consent.approved';
  readonly at: number;
  readonly basis: ConsentBasis;
  readonly browserHash: string;
}

/** The user clicked Deny. */
export interface ConsentDenied {
  readonly type: 'consent.denied';
  readonly at: number;
  readonly browserHash: string;
}

/** The browser was sent to the upstream authorization endpoint. */
export interface UpstreamRedirected {
  readonly type: 'upstream.redirected';
  readonly at: number;
  /** SHA-256 of the upstream `state` (the value itself never enters the log). */
  readonly upstreamStateHash: string;
  /** The proxy's own PKCE verifier, sealed with the grant key. */
  readonly proxyVerifierSealed: string;
  /** SHA-256 of the OIDC nonce, when one was sent. */
  readonly nonceHash: string | null;
  /** The upstream `state` is single-use and expires at this time. */
  readonly stateExpiresAt: number;
}

/** The upstream called back with a code from the right browser: the intent to exchange it. */
export interface UpstreamCallbackAccepted {
  readonly type: 'upstream.callback_accepted';
  readonly at: number;
  readonly upstreamStateHash: string;
  readonly browserHash: string;
}

/** The upstream called back with an error (its code only, never its text). */
export interface UpstreamErrorReceived {
  readonly type: 'upstream.error_received';
  readonly at: number;
  readonly upstreamStateHash: string;
  readonly error: string;
}

/** The upstream code was exchanged for tokens. */
export interface UpstreamTokensReceived {
  readonly type: 'upstream.tokens_received';
  readonly at: number;
  /** The flow's grant, whose key seals the token set. */
  readonly grantId: string;
  /** Keyed hash of the upstream subject (a pseudonym; see docs/privacy.md). */
  readonly subjectRef: string;
  /** The upstream subject, sealed with the subject's key. */
  readonly subjectSealed: string;
  /** Upstream claims (email, name …) sealed with the subject's key; null when none. */
  readonly claimsSealed: string | null;
  /** The upstream token set, sealed with the grant key. */
  readonly tokenSetSealed: string;
  readonly upstreamExpiresAt: number | null;
  readonly upstreamRefreshable: boolean;
  /** What the upstream granted (translated to flowgate's scope names). */
  readonly grantedScopes: readonly string[];
}

/** Exchanging the upstream code failed. */
export interface UpstreamExchangeFailed {
  readonly type: 'upstream.exchange_failed';
  readonly at: number;
  readonly error: string;
}

/** flowgate issued its own authorization code, bound to everything the redemption must match. */
export interface CodeIssued {
  readonly type: 'code.issued';
  readonly at: number;
  readonly codeHash: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly scopes: readonly string[];
  readonly resource: string;
  readonly grantId: string;
  readonly expiresAt: number;
}

/** What a redemption presents, after client authentication (done by the HTTP layer). */
interface RedemptionFields {
  readonly at: number;
  readonly codeHash: string;
  /** The authenticated client. */
  readonly clientId: string;
  /** The `redirect_uri` sent at the token endpoint, or null when none was sent. */
  readonly redirectUri: string | null;
  /** S256 of the presented `code_verifier` (public: it equals the challenge when right). */
  readonly verifierChallenge: string;
  /** The configured resource the request named, or null when none was sent. */
  readonly resource: string | null;
}

/** The code was redeemed (once). */
export interface CodeRedeemed extends RedemptionFields {
  readonly type: 'code.redeemed';
}

/** A redeemed code was presented again with valid client authentication and PKCE. */
export interface CodeReuseDetected extends RedemptionFields {
  readonly type: 'code.reuse_detected';
}

/** The flow ran past its deadline. */
export interface FlowExpired {
  readonly type: 'flow.expired';
  readonly at: number;
}

/** Every event of an authorization flow. */
export type AuthorizationFlowEvent =
  | FlowStarted
  | ConsentShown
  | ConsentApproved
  | ConsentDenied
  | UpstreamRedirected
  | UpstreamCallbackAccepted
  | UpstreamErrorReceived
  | UpstreamTokensReceived
  | UpstreamExchangeFailed
  | CodeIssued
  | CodeRedeemed
  | CodeReuseDetected
  | FlowExpired;

/** What the machine remembers about a flow. */
export interface AuthorizationFlowContext {
  readonly flowId: string;
  readonly grantId: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly scopes: readonly string[];
  readonly resource: string;
  readonly browserHash: string;
  readonly startedAt: number;
  readonly expiresAt: number;
  readonly consentBasis: ConsentBasis | null;
  readonly upstreamStateHash: string | null;
  readonly stateExpiresAt: number | null;
  readonly subjectRef: string | null;
  readonly grantedScopes: readonly string[];
  readonly codeHash: string | null;
  readonly codeExpiresAt: number | null;
  readonly redeemedAt: number | null;
}

const EMPTY: AuthorizationFlowContext = {
  flowId: '',
  grantId: '',
  clientId: '',
  redirectUri: '',
  codeChallenge: '',
  scopes: [],
  resource: '',
  browserHash: '',
  startedAt: 0,
  expiresAt: 0,
  consentBasis: null,
  upstreamStateHash: null,
  stateExpiresAt: null,
  subjectRef: null,
  grantedScopes: [],
  codeHash: null,
  codeExpiresAt: null,
  redeemedAt: null,
};

type Ctx = { context: AuthorizationFlowContext; event: AuthorizationFlowEvent };

/** Redemption rules (OAuth 2.1 §4.1.3, RFC 7636 §4.6): the code's own client, verifier, redirect URI and resource. */
function presentsBinding({ context, event }: Ctx): boolean {
  if (event.type !== 'code.redeemed' && event.type !== 'code.reuse_detected') return false;
  return (
    event.codeHash === context.codeHash &&
    event.clientId === context.clientId &&
    event.verifierChallenge === context.codeChallenge &&
    (event.redirectUri === null || event.redirectUri === context.redirectUri) &&
    (event.resource === null || event.resource === context.resource)
  );
}

/** Every step before the code needs the flow to be within its deadline. */
function beforeDeadline({ context, event }: Ctx): boolean {
  return event.at < context.expiresAt;
}

/** The authorization-flow machine, version 1. */
export const authorizationFlowMachine = setup({
  types: {
    context: {} as AuthorizationFlowContext,
    events: {} as AuthorizationFlowEvent,
  },
  guards: {
    beforeDeadline,
    sameBrowser: ({ context, event }: Ctx) => 'browserHash' in event && event.browserHash === context.browserHash,
    userApproval: (args: Ctx) =>
      args.event.type === 'consent.approved' && args.event.basis === 'user' && beforeDeadline(args) && args.event.browserHash === args.context.browserHash,
    silentApproval: (args: Ctx) =>
      args.event.type === 'consent.approved' && args.event.basis !== 'user' && beforeDeadline(args) && args.event.browserHash === args.context.browserHash,
    stateIsCurrent: ({ context, event }: Ctx) =>
      (event.type === 'upstream.callback_accepted' || event.type === 'upstream.error_received') &&
      event.upstreamStateHash === context.upstreamStateHash &&
      context.stateExpiresAt !== null &&
      event.at < context.stateExpiresAt &&
      event.at < context.expiresAt &&
      (event.type === 'upstream.error_received' || event.browserHash === context.browserHash),
    codeMatchesFlow: ({ context, event }: Ctx) =>
      event.type === 'code.issued' &&
      event.at < context.expiresAt &&
      event.clientId === context.clientId &&
      event.redirectUri === context.redirectUri &&
      event.codeChallenge === context.codeChallenge &&
      event.resource === context.resource &&
      event.grantId === context.grantId &&
      event.scopes.every((s) => context.scopes.includes(s) && context.grantedScopes.includes(s)),
    redeemable: (args: Ctx) =>
      presentsBinding(args) && args.context.codeExpiresAt !== null && args.event.at < args.context.codeExpiresAt,
    replayed: presentsBinding,
    sameGrant: ({ context, event }: Ctx) => event.type === 'upstream.tokens_received' && event.grantId === context.grantId,
    pastDeadline: ({ context, event }: Ctx) => event.at >= context.expiresAt,
    codePastExpiry: ({ context, event }: Ctx) => context.codeExpiresAt !== null && event.at >= context.codeExpiresAt,
  },
  actions: {
    start: assign(({ event }) => {
      if (event.type !== 'flow.started') return {};
      return {
        flowId: event.flowId,
        grantId: event.grantId,
        clientId: event.clientId,
        redirectUri: event.redirectUri,
        codeChallenge: event.codeChallenge,
        scopes: event.scopes,
        resource: event.resource,
        browserHash: event.browserHash,
        startedAt: event.at,
        expiresAt: event.expiresAt,
      };
    }),
    approve: assign(({ event }) => (event.type === 'consent.approved' ? { consentBasis: event.basis } : {})),
    redirect: assign(({ event }) =>
      event.type === 'upstream.redirected'
        ? { upstreamStateHash: event.upstreamStateHash, stateExpiresAt: event.stateExpiresAt }
        : {},
    ),
    receiveTokens: assign(({ event }) =>
      event.type === 'upstream.tokens_received'
        ? { subjectRef: event.subjectRef, grantedScopes: event.grantedScopes }
        : {},
    ),
    issueCode: assign(({ event }) =>
      event.type === 'code.issued' ? { codeHash: event.codeHash, codeExpiresAt: event.expiresAt } : {},
    ),
    redeem: assign(({ event }) => ({ redeemedAt: event.at })),
  },
}).createMachine({
  id: AUTHORIZATION_FLOW,
  version: AUTHORIZATION_FLOW_VERSION,
  context: EMPTY,
  initial: 'new',
  states: {
    new: {
      on: { 'flow.started': { target: 'started', actions: 'start' } },
    },
    started: {
      on: {
        'consent.shown': { target: 'consent_shown', guard: 'sameBrowser' },
        'consent.approved': { target: 'consent_approved', guard: 'silentApproval', actions: 'approve' },
        'flow.expired': { target: 'expired', guard: 'pastDeadline' },
      },
    },
    consent_shown: {
      on: {
        'consent.approved': { target: 'consent_approved', guard: 'userApproval', actions: 'approve' },
        'consent.denied': { target: 'denied', guard: 'sameBrowser' },
        'flow.expired': { target: 'expired', guard: 'pastDeadline' },
      },
    },
    consent_approved: {
      on: {
        'upstream.redirected': { target: 'upstream_redirected', guard: 'beforeDeadline', actions: 'redirect' },
        'flow.expired': { target: 'expired', guard: 'pastDeadline' },
      },
    },
    upstream_redirected: {
      on: {
        'upstream.callback_accepted': { target: 'callback_accepted', guard: 'stateIsCurrent' },
        'upstream.error_received': { target: 'upstream_failed', guard: 'stateIsCurrent' },
        'flow.expired': { target: 'expired', guard: 'pastDeadline' },
      },
    },
    callback_accepted: {
      on: {
        'upstream.tokens_received': { target: 'tokens_received', guard: 'sameGrant', actions: 'receiveTokens' },
        'upstream.exchange_failed': { target: 'upstream_failed' },
        'flow.expired': { target: 'expired', guard: 'pastDeadline' },
      },
    },
    tokens_received: {
      on: {
        'code.issued': { target: 'code_issued', guard: 'codeMatchesFlow', actions: 'issueCode' },
        'flow.expired': { target: 'expired', guard: 'pastDeadline' },
      },
    },
    code_issued: {
      on: {
        'code.redeemed': { target: 'code_redeemed', guard: 'redeemable', actions: 'redeem' },
        'flow.expired': { target: 'expired', guard: 'codePastExpiry' },
      },
    },
    code_redeemed: {
      on: {
        'code.reuse_detected': { target: 'reuse_detected', guard: 'replayed' },
      },
    },
    reuse_detected: { type: 'final' },
    denied: { type: 'final' },
    upstream_failed: { type: 'final' },
    expired: { type: 'final' },
  },
});

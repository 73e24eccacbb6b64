/**
 * Steps several flow commands share: loading a flow with its deadline enforced, checking
 * the browser, sending the browser upstream, opening sealed values.
 *
 * @module
 */
import type { AuthorizationFlowContext } from '../../../machines/authorization-flow.js';
import { grantKeyId } from '../../crypto/vault.js';
import { sha256Base64Url } from '../../crypto/random.js';
import { s256Challenge } from '../../oauth/pkce.js';
import type { EngineContext } from '../context.js';
import { FlowError } from '../errors.js';
import type { Session, StreamView } from '../session.js';
import { CommitThenThrow } from './types.js';

/** States from which a flow can still expire. */
const OPEN_STATES = new Set([
  'started',
  'consent_shown',
  'consent_approved',
  'upstream_redirected',
  'callback_accepted',
  'tokens_received',
]);

/** The stream id of a flow. */
export function flowStream(flowId: string): string {
  return `flow:${flowId}`;
}

/**
 * Loads a flow that must exist and be within its deadline. A flow found past its deadline
 * is expired in the log (`flow.expired`) and the command refused.
 */
export async function loadLiveFlow(session: Session, flowId: string): Promise<StreamView<AuthorizationFlowContext>> {
  const flow = await session.load<AuthorizationFlowContext>(flowStream(flowId));
  if (!flow.exists) throw new FlowError('not_found', 'unknown or expired authorization request');
  if (OPEN_STATES.has(flow.state) && session.now >= flow.context.expiresAt) {
    session.emit(flow.streamId, 'flow.expired', {});
    throw new CommitThenThrow(new FlowError('expired', 'this authorization request has expired; start again from your application'));
  }
  return flow;
}

/** Refuses a step taken from a browser other than the one that started the flow. */
export function requireSameBrowser(flow: StreamView<AuthorizationFlowContext>, browserHash: string): void {
  if (flow.context.browserHash !== browserHash) {
    throw new FlowError('browser_mismatch', 'this authorization request belongs to another browser session');
  }
}

/** What the HTTP layer needs to send the browser to the upstream. */
export interface UpstreamRedirect {
  /** The upstream `state` (only its hash is stored). */
  readonly state: string;
  /** The proxy's PKCE verifier and its S256 challenge. */
  readonly codeVerifier: string;
  readonly codeChallenge: string;
  /** The OIDC nonce (only its hash is stored). */
  readonly nonce: string;
}

/** Emits `upstream.redirected` with fresh state, verifier and nonce. */
export async function redirectUpstream(
  session: Session,
  context: EngineContext,
  flow: StreamView<AuthorizationFlowContext>,
): Promise<UpstreamRedirect> {
  const state = context.random.token(32);
  const codeVerifier = context.random.token(32);
  const nonce = context.random.token(24);
  const proxyVerifierSealed = await context.vault.seal(grantKeyId(flow.context.grantId), 'proxy_verifier', codeVerifier);
  session.emit(flow.streamId, 'upstream.redirected', {
    upstreamStateHash: sha256Base64Url(state),
    proxyVerifierSealed,
    nonceHash: sha256Base64Url(nonce),
    stateExpiresAt: Math.min(session.now + context.settings.upstreamStateTtlMs, flow.context.expiresAt),
  });
  return { state, codeVerifier, codeChallenge: s256Challenge(codeVerifier), nonce };
}

/** The client's `state` of a flow, opened (null when the client sent none). */
export async function openClientState(context: EngineContext, flow: StreamView<AuthorizationFlowContext>): Promise<string | null> {
  const started = flow.events.find((e) => e.type === 'flow.started');
  const sealed = (started?.data as { clientStateSealed?: string | null } | undefined)?.clientStateSealed ?? null;
  if (sealed === null) return null;
  const opened = await context.vault.open(grantKeyId(flow.context.grantId), 'client_state', sealed);
  return opened.ok ? opened.value : null;
}

/** Where the client gets its answer: its redirect URI and its `state`. */
export interface ClientReturn {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly clientState: string | null;
}

/** The client's redirect URI and state for a flow. */
export async function clientReturn(context: EngineContext, flow: StreamView<AuthorizationFlowContext>): Promise<ClientReturn> {
  return {
    clientId: flow.context.clientId,
    redirectUri: flow.context.redirectUri,
    clientState: await openClientState(context, flow),
  };
}

/** An upstream error code reduced to its RFC 6749 token (never upstream text). */
export function upstreamErrorCode(error: string): string {
  return /^[a-z_]{1,64}/.exec(error)?.[0] ?? 'unknown';
}

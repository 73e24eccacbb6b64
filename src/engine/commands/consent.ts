/**
 * The consent page's commands: `ShowConsent` (first render recorded; re-renders and other
 * tabs of the same browser change nothing), `ApproveConsent` (recorded with basis `user`,
 * then the browser goes upstream) and `DenyConsent`. The CSRF token is checked by the HTTP
 * layer; the browser binding and the flow's state are checked here, and the state machine
 * makes each decision single-use.
 *
 * @module
 */
import { FlowError } from '../errors.js';
import {
  clientReturn,
  loadLiveFlow,
  redirectUpstream,
  requireSameBrowser,
  type ClientReturn,
  type UpstreamRedirect,
} from './flow-support.js';
import type { CommandHandler } from './types.js';

/** What the consent page shows about a flow. */
export interface ConsentView {
  readonly flowId: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly resource: string;
  readonly expiresAt: number;
}

/** Render the consent page. */
export interface ShowConsent {
  readonly type: 'ShowConsent';
  readonly flowId: string;
  readonly browserHash: string;
}

/** Approve on the consent page. */
export interface ApproveConsent {
  readonly type: 'ApproveConsent';
  readonly flowId: string;
  readonly browserHash: string;
}

/** Deny on the consent page. */
export interface DenyConsent {
  readonly type: 'DenyConsent';
  readonly flowId: string;
  readonly browserHash: string;
}

function alreadyDecided(): FlowError {
  return new FlowError('already_used', 'this authorization request was already decided');
}

/** The `ShowConsent` handler. */
export const showConsent: CommandHandler<ShowConsent, ConsentView> = {
  retryOnConflict: true,
  async decide(session, command) {
    const flow = await loadLiveFlow(session, command.flowId);
    requireSameBrowser(flow, command.browserHash);
    if (flow.state === 'started') session.emit(flow.streamId, 'consent.shown', { browserHash: command.browserHash });
    else if (flow.state !== 'consent_shown') throw alreadyDecided();
    const c = flow.context;
    return { flowId: c.flowId, clientId: c.clientId, redirectUri: c.redirectUri, scopes: c.scopes, resource: c.resource, expiresAt: c.expiresAt };
  },
};

/** The `ApproveConsent` handler. */
export const approveConsent: CommandHandler<ApproveConsent, { readonly upstream: UpstreamRedirect; readonly grantId: string }> = {
  retryOnConflict: true,
  async decide(session, command, context) {
    const flow = await loadLiveFlow(session, command.flowId);
    requireSameBrowser(flow, command.browserHash);
    if (flow.state !== 'consent_shown') throw alreadyDecided();
    const approved = session.emit(flow.streamId, 'consent.approved', { basis: 'user', browserHash: command.browserHash });
    const upstream = await redirectUpstream(session, context, approved);
    return { upstream, grantId: flow.context.grantId };
  },
};

/** The `DenyConsent` handler. */
export const denyConsent: CommandHandler<DenyConsent, ClientReturn> = {
  retryOnConflict: true,
  async decide(session, command, context) {
    const flow = await loadLiveFlow(session, command.flowId);
    requireSameBrowser(flow, command.browserHash);
    if (flow.state !== 'consent_shown') throw alreadyDecided();
    session.emit(flow.streamId, 'consent.denied', { browserHash: command.browserHash });
    return clientReturn(context, flow);
  },
};

/**
 * `StartFlow`: `/authorize` accepted a request (OAuth 2.1 §4.1.1). Allocates the flow and
 * its grant id, creates the grant's data key, seals the client's `state`. With silent
 * consent (`remember` or `off` modes) it records `consent.approved` with its basis and
 * sends the browser upstream in the same append, so the log always says why a flow went
 * upstream.
 *
 * @module
 */
import type { AuthorizationFlowContext, ConsentBasis } from '../../../machines/authorization-flow.js';
import { grantKeyId } from '../../crypto/vault.js';
import { flowStream, redirectUpstream, type UpstreamRedirect } from './flow-support.js';
import type { CommandHandler } from './types.js';

/** Start a flow. */
export interface StartFlow {
  readonly type: 'StartFlow';
  readonly clientId: string;
  /** Validated against the client's registration by the HTTP layer. */
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly scopes: readonly string[];
  /** The configured resource the request is for. */
  readonly resource: string;
  readonly clientState: string | null;
  readonly browserHash: string;
  /** Approve without showing the consent page (`remember` or `off` consent modes). */
  readonly silentConsent?: Exclude<ConsentBasis, 'user'>;
}

/** What `StartFlow` returns. */
export interface StartFlowResult {
  readonly flowId: string;
  readonly grantId: string;
  readonly expiresAt: number;
  /** Present when consent was silent: where to send the browser now. */
  readonly upstream?: UpstreamRedirect;
}

/** The `StartFlow` handler. */
export const startFlow: CommandHandler<StartFlow, StartFlowResult> = {
  retryOnConflict: false,
  async decide(session, command, context) {
    const flowId = context.random.id();
    const grantId = context.random.id();
    await session.useKey(context.vault, grantKeyId(grantId));
    const clientStateSealed =
      command.clientState === null ? null : await context.vault.seal(grantKeyId(grantId), 'client_state', command.clientState);
    const expiresAt = session.now + context.settings.flowTtlMs;
    await session.load(flowStream(flowId));
    let flow = session.emit(flowStream(flowId), 'flow.started', {
      flowId,
      grantId,
      clientId: command.clientId,
      redirectUri: command.redirectUri,
      codeChallenge: command.codeChallenge,
      codeChallengeMethod: 'S256',
      scopes: [...command.scopes],
      resource: command.resource,
      clientStateSealed,
      browserHash: command.browserHash,
      expiresAt,
    });
    if (!command.silentConsent) return { flowId, grantId, expiresAt };
    flow = session.emit(flow.streamId, 'consent.approved', { basis: command.silentConsent, browserHash: command.browserHash });
    const upstream = await redirectUpstream(session, context, flow as typeof flow & { context: AuthorizationFlowContext });
    return { flowId, grantId, expiresAt, upstream };
  },
};

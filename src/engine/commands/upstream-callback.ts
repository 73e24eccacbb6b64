/**
 * The upstream callback's commands. `AcceptCallback` finds the flow by the hash of the
 * upstream `state`, insists on the browser that approved consent (another browser gets a
 * 403 and no code: GHSA-rww4-4w9c-7733), consumes the state (single use) and records the
 * intent to exchange the code. `RecordUpstreamError` ends a flow the upstream refused.
 * `CompleteUpstreamExchange` stores the sealed upstream tokens and issues flowgate's own
 * code; `FailUpstreamExchange` records a failed exchange.
 *
 * @module
 */
import type { AuthorizationFlowContext } from '../../../machines/authorization-flow.js';
import { sha256Base64Url } from '../../crypto/random.js';
import { grantKeyId, subjectKeyId } from '../../crypto/vault.js';
import type { JsonValue } from '../../events/canonical-json.js';
import { findTransactionByUpstreamState, type TransactionRecord } from '../../projections/transactions.js';
import { FlowError } from '../errors.js';
import type { Session, StreamView } from '../session.js';
import { clientReturn, flowStream, loadLiveFlow, requireSameBrowser, upstreamErrorCode, type ClientReturn } from './flow-support.js';
import type { CommandHandler } from './types.js';
import { subjectRefOf } from '../subject-ref.js';
import type { EngineContext } from '../context.js';

async function flowByUpstreamState(
  session: Session,
  context: EngineContext,
  upstreamState: string,
): Promise<{ flow: StreamView<AuthorizationFlowContext>; row: TransactionRecord }> {
  const stateHash = sha256Base64Url(upstreamState);
  const row = await findTransactionByUpstreamState(context.db, stateHash);
  if (!row) throw new FlowError('not_found', 'unknown or expired authorization state');
  const flow = await loadLiveFlow(session, row.flowId);
  if (flow.state !== 'upstream_redirected' || flow.context.upstreamStateHash !== stateHash) {
    throw new FlowError('already_used', 'this authorization response was already used');
  }
  if (flow.context.stateExpiresAt === null || session.now >= flow.context.stateExpiresAt) {
    throw new FlowError('expired', 'this authorization response arrived too late; start again from your application');
  }
  return { flow, row };
}

/** The upstream called back with a code. */
export interface AcceptCallback {
  readonly type: 'AcceptCallback';
  readonly upstreamState: string;
  readonly browserHash: string;
}

/** What the exchange needs. */
export interface AcceptedCallback {
  readonly flowId: string;
  readonly grantId: string;
  readonly clientId: string;
  /** The proxy's own PKCE verifier for the upstream exchange. */
  readonly codeVerifier: string;
  /** SHA-256 of the nonce sent upstream, to compare with the ID token's. */
  readonly nonceHash: string | null;
  readonly scopes: readonly string[];
}

/** The `AcceptCallback` handler. */
export const acceptCallback: CommandHandler<AcceptCallback, AcceptedCallback> = {
  retryOnConflict: true,
  async decide(session, command, context) {
    // `row` is the flow's read-view row found by this very state hash (checked against the stream).
    const { flow, row } = await flowByUpstreamState(session, context, command.upstreamState);
    requireSameBrowser(flow, command.browserHash);
    const opened = await context.vault.open(grantKeyId(flow.context.grantId), 'proxy_verifier', row.proxyVerifierSealed!);
    if (!opened.ok) throw new FlowError('not_found', 'unknown or expired authorization state');
    session.emit(flow.streamId, 'upstream.callback_accepted', {
      upstreamStateHash: flow.context.upstreamStateHash!,
      browserHash: command.browserHash,
    });
    return {
      flowId: flow.context.flowId,
      grantId: flow.context.grantId,
      clientId: flow.context.clientId,
      codeVerifier: opened.value,
      nonceHash: row.nonceHash,
      scopes: flow.context.scopes,
    };
  },
};

/** The upstream called back with an error. */
export interface RecordUpstreamError {
  readonly type: 'RecordUpstreamError';
  readonly upstreamState: string;
  /** Only the browser that started the flow may end it (whoever else holds the state may not). */
  readonly browserHash: string;
  /** The upstream's error code (its description is never kept). */
  readonly error: string;
}

/** The `RecordUpstreamError` handler. */
export const recordUpstreamError: CommandHandler<RecordUpstreamError, ClientReturn> = {
  retryOnConflict: true,
  async decide(session, command, context) {
    const { flow } = await flowByUpstreamState(session, context, command.upstreamState);
    requireSameBrowser(flow, command.browserHash);
    session.emit(flow.streamId, 'upstream.error_received', {
      upstreamStateHash: flow.context.upstreamStateHash!,
      error: upstreamErrorCode(command.error),
    });
    return clientReturn(context, flow);
  },
};

/** The upstream tokens, as received (sealed before they reach the log). */
export type UpstreamTokenSet = Readonly<Record<string, JsonValue>>;

/** The upstream exchange succeeded. */
export interface CompleteUpstreamExchange {
  readonly type: 'CompleteUpstreamExchange';
  readonly flowId: string;
  /** The upstream subject (`sub`, or the GitHub user id). */
  readonly subject: string;
  /** Upstream claims worth keeping (email, name …); null when none. */
  readonly claims: Readonly<Record<string, JsonValue>> | null;
  readonly tokenSet: UpstreamTokenSet;
  readonly upstreamExpiresAt: number | null;
  readonly refreshable: boolean;
  /** The scopes the upstream granted, in flowgate's names. */
  readonly grantedScopes: readonly string[];
}

/** What the client gets back at its redirect URI. */
export interface IssuedCode extends ClientReturn {
  readonly code: string;
  readonly grantId: string;
}

/** The `CompleteUpstreamExchange` handler. */
export const completeUpstreamExchange: CommandHandler<CompleteUpstreamExchange, IssuedCode> = {
  retryOnConflict: true,
  async decide(session, command, context) {
    const flow = await loadLiveFlow(session, command.flowId);
    if (flow.state !== 'callback_accepted') throw new FlowError('wrong_state', 'the upstream exchange is not pending');
    const grantId = flow.context.grantId;
    const subjectRef = await subjectRefOf(context.vault, context.upstreamIssuer, command.subject);
    await session.useKey(context.vault, subjectKeyId(subjectRef));
    const subjectSealed = await context.vault.seal(subjectKeyId(subjectRef), 'subject', command.subject);
    const claimsSealed =
      command.claims === null ? null : await context.vault.seal(subjectKeyId(subjectRef), 'claims', JSON.stringify(command.claims));
    const tokenSetSealed = await context.vault.seal(grantKeyId(grantId), 'upstream_tokens', JSON.stringify(command.tokenSet));
    session.emit(flow.streamId, 'upstream.tokens_received', {
      grantId,
      subjectRef,
      subjectSealed,
      claimsSealed,
      tokenSetSealed,
      upstreamExpiresAt: command.upstreamExpiresAt,
      upstreamRefreshable: command.refreshable,
      grantedScopes: [...command.grantedScopes],
    });
    const code = context.random.token(32);
    const c = flow.context;
    session.emit(flowStream(c.flowId), 'code.issued', {
      codeHash: sha256Base64Url(code),
      clientId: c.clientId,
      redirectUri: c.redirectUri,
      codeChallenge: c.codeChallenge,
      scopes: c.scopes.filter((s) => command.grantedScopes.includes(s)),
      resource: c.resource,
      grantId,
      expiresAt: session.now + context.settings.codeTtlMs,
    });
    return { ...(await clientReturn(context, flow)), code, grantId };
  },
};

/** The upstream exchange failed. */
export interface FailUpstreamExchange {
  readonly type: 'FailUpstreamExchange';
  readonly flowId: string;
  readonly error: string;
}

/** The `FailUpstreamExchange` handler. */
export const failUpstreamExchange: CommandHandler<FailUpstreamExchange, ClientReturn> = {
  retryOnConflict: true,
  async decide(session, command, context) {
    const flow = await loadLiveFlow(session, command.flowId);
    if (flow.state !== 'callback_accepted') throw new FlowError('wrong_state', 'the upstream exchange is not pending');
    session.emit(flow.streamId, 'upstream.exchange_failed', { error: upstreamErrorCode(command.error) });
    return clientReturn(context, flow);
  },
};

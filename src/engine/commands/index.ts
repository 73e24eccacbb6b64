/**
 * Every command the engine executes, by name.
 *
 * @module
 */
import * as clients from './clients.js';
import * as consent from './consent.js';
import * as expire from './expire.js';
import * as redeem from './redeem-code.js';
import * as refresh from './refresh-grant.js';
import * as revoke from './revoke.js';
import * as start from './start-flow.js';
import * as callback from './upstream-callback.js';
import * as upstreamRefresh from './upstream-refresh.js';
import type { CommandHandler } from './types.js';

/** Each command with its result type. */
export interface CommandMap {
  StartFlow: [start.StartFlow, start.StartFlowResult];
  ShowConsent: [consent.ShowConsent, consent.ConsentView];
  ApproveConsent: [consent.ApproveConsent, Awaited<ReturnType<typeof consent.approveConsent.decide>>];
  DenyConsent: [consent.DenyConsent, Awaited<ReturnType<typeof consent.denyConsent.decide>>];
  AcceptCallback: [callback.AcceptCallback, callback.AcceptedCallback];
  RecordUpstreamError: [callback.RecordUpstreamError, Awaited<ReturnType<typeof callback.recordUpstreamError.decide>>];
  CompleteUpstreamExchange: [callback.CompleteUpstreamExchange, callback.IssuedCode];
  FailUpstreamExchange: [callback.FailUpstreamExchange, Awaited<ReturnType<typeof callback.failUpstreamExchange.decide>>];
  RedeemCode: [redeem.RedeemCode, Awaited<ReturnType<typeof redeem.redeemCode.decide>>];
  RefreshGrant: [refresh.RefreshGrant, refresh.RefreshedTokens];
  RevokeRefreshToken: [revoke.RevokeRefreshToken, revoke.RevocationOutcome];
  RevokeAccessToken: [revoke.RevokeAccessToken, revoke.RevocationOutcome];
  RevokeGrant: [revoke.RevokeGrant, revoke.RevocationOutcome];
  RegisterClient: [clients.RegisterClient, Awaited<ReturnType<typeof clients.registerClient.decide>>];
  SyncStaticClient: [clients.SyncStaticClient, Awaited<ReturnType<typeof clients.syncStaticClient.decide>>];
  TouchClient: [clients.TouchClient, void];
  RefreshClientMetadata: [clients.RefreshClientMetadata, void];
  DeleteClient: [clients.DeleteClient, Awaited<ReturnType<typeof clients.deleteClient.decide>>];
  ExpireClient: [clients.ExpireClient, Awaited<ReturnType<typeof clients.expireClient.decide>>];
  RequestUpstreamRefresh: [upstreamRefresh.RequestUpstreamRefresh, upstreamRefresh.UpstreamRefreshLease];
  CompleteUpstreamRefresh: [upstreamRefresh.CompleteUpstreamRefresh, void];
  FailUpstreamRefresh: [upstreamRefresh.FailUpstreamRefresh, void];
  ExpireFlow: [expire.ExpireFlow, Awaited<ReturnType<typeof expire.expireFlow.decide>>];
  ExpireGrant: [expire.ExpireGrant, Awaited<ReturnType<typeof expire.expireGrant.decide>>];
}

/** Any command. */
export type Command = { [K in keyof CommandMap]: CommandMap[K][0] }[keyof CommandMap];

/** The result of command `C`. */
export type CommandResult<C extends Command> = CommandMap[C['type']][1];

/** The handler of each command. */
export const HANDLERS: { [K in keyof CommandMap]: CommandHandler<CommandMap[K][0], CommandMap[K][1]> } = {
  StartFlow: start.startFlow,
  ShowConsent: consent.showConsent,
  ApproveConsent: consent.approveConsent,
  DenyConsent: consent.denyConsent,
  AcceptCallback: callback.acceptCallback,
  RecordUpstreamError: callback.recordUpstreamError,
  CompleteUpstreamExchange: callback.completeUpstreamExchange,
  FailUpstreamExchange: callback.failUpstreamExchange,
  RedeemCode: redeem.redeemCode,
  RefreshGrant: refresh.refreshGrant,
  RevokeRefreshToken: revoke.revokeRefreshToken,
  RevokeAccessToken: revoke.revokeAccessToken,
  RevokeGrant: revoke.revokeGrant,
  RegisterClient: clients.registerClient,
  SyncStaticClient: clients.syncStaticClient,
  TouchClient: clients.touchClient,
  RefreshClientMetadata: clients.refreshClientMetadata,
  DeleteClient: clients.deleteClient,
  ExpireClient: clients.expireClient,
  RequestUpstreamRefresh: upstreamRefresh.requestUpstreamRefresh,
  CompleteUpstreamRefresh: upstreamRefresh.completeUpstreamRefresh,
  FailUpstreamRefresh: upstreamRefresh.failUpstreamRefresh,
  ExpireFlow: expire.expireFlow,
  ExpireGrant: expire.expireGrant,
};

export type * from './clients.js';
export type * from './consent.js';
export type * from './expire.js';
export type * from './redeem-code.js';
export type * from './refresh-grant.js';
export type * from './revoke.js';
export type * from './start-flow.js';
export type * from './upstream-callback.js';
export type * from './upstream-refresh.js';
export type { UpstreamRedirect, ClientReturn } from './flow-support.js';
export type { IssuedTokens } from './grant-support.js';

/**
 * `transactions`: fastmcp's OAuthTransaction — one row per authorization flow, with its
 * machine state, the hash of its upstream `state` (the callback looks flows up by it) and
 * its sealed proxy verifier. No plaintext secret is stored.
 *
 * @module
 */
import type { Kysely } from 'kysely';
import type {
  ConsentApproved,
  FlowStarted,
  UpstreamRedirected,
  UpstreamTokensReceived,
} from '../../machines/authorization-flow.js';
import type { Projection } from '../store/types.js';
import { insertRow, updateRows } from './statements.js';
import { listColumn, parseList, payload, stateAfter, streamEntityId } from './support.js';

/** A flow as the read view holds it. */
export interface TransactionRecord {
  readonly flowId: string;
  readonly grantId: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly scopes: readonly string[];
  readonly resource: string;
  readonly clientStateSealed: string | null;
  readonly browserHash: string;
  readonly state: string;
  readonly consentBasis: string | null;
  readonly upstreamStateHash: string | null;
  readonly stateExpiresAt: number | null;
  readonly proxyVerifierSealed: string | null;
  readonly nonceHash: string | null;
  readonly subjectRef: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly updatedAt: number;
}

const FLOW_EVENTS = [
  'flow.started',
  'consent.shown',
  'consent.approved',
  'consent.denied',
  'upstream.redirected',
  'upstream.callback_accepted',
  'upstream.error_received',
  'upstream.tokens_received',
  'upstream.exchange_failed',
  'code.issued',
  'code.redeemed',
  'code.reuse_detected',
  'flow.expired',
];

/** The `transactions` projection. */
export const transactionsProjection: Projection = {
  name: 'transactions',
  handles: FLOW_EVENTS,
  tables: ['transactions'],
  async apply(trx, event) {
    const flowId = streamEntityId(event);
    const common = { state: stateAfter(event), updated_at: event.occurredAt };
    if (event.type === 'flow.started') {
      const e = payload<FlowStarted>(event);
      await insertRow(trx, 'transactions', {
        flow_id: flowId,
        grant_id: e.grantId,
        client_id: e.clientId,
        redirect_uri: e.redirectUri,
        code_challenge: e.codeChallenge,
        scopes: listColumn(e.scopes),
        resource: e.resource,
        client_state_sealed: e.clientStateSealed,
        browser_hash: e.browserHash,
        consent_basis: null,
        upstream_state_hash: null,
        state_expires_at: null,
        proxy_verifier_sealed: null,
        nonce_hash: null,
        subject_ref: null,
        created_at: event.occurredAt,
        expires_at: e.expiresAt,
        ...common,
      });
      return;
    }
    let extra: Record<string, unknown> = {};
    if (event.type === 'consent.approved') extra = { consent_basis: payload<ConsentApproved>(event).basis };
    if (event.type === 'upstream.redirected') {
      const e = payload<UpstreamRedirected>(event);
      extra = {
        upstream_state_hash: e.upstreamStateHash,
        state_expires_at: e.stateExpiresAt,
        proxy_verifier_sealed: e.proxyVerifierSealed,
        nonce_hash: e.nonceHash,
      };
    }
    if (event.type === 'upstream.tokens_received') extra = { subject_ref: payload<UpstreamTokensReceived>(event).subjectRef };
    await updateRows(trx, 'transactions', { ...common, ...extra }, { flow_id: flowId });
  },
};

function toRecord(row: Record<string, any>): TransactionRecord {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    flowId: row.flow_id,
    grantId: row.grant_id,
    clientId: row.client_id,
    redirectUri: row.redirect_uri,
    codeChallenge: row.code_challenge,
    scopes: parseList(row.scopes),
    resource: row.resource,
    clientStateSealed: row.client_state_sealed,
    browserHash: row.browser_hash,
    state: row.state,
    consentBasis: row.consent_basis,
    upstreamStateHash: row.upstream_state_hash,
    stateExpiresAt: num(row.state_expires_at),
    proxyVerifierSealed: row.proxy_verifier_sealed,
    nonceHash: row.nonce_hash,
    subjectRef: row.subject_ref,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    updatedAt: Number(row.updated_at),
  };
}

/** The flow `flowId`, or undefined. */
export async function findTransaction(db: Kysely<any>, flowId: string): Promise<TransactionRecord | undefined> {
  const row = await db.selectFrom('transactions').selectAll().where('flow_id', '=', flowId).executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

/** The flow whose upstream `state` hashes to `hash`, or undefined. */
export async function findTransactionByUpstreamState(
  db: Kysely<any>,
  hash: string,
): Promise<TransactionRecord | undefined> {
  const row = await db.selectFrom('transactions').selectAll().where('upstream_state_hash', '=', hash).executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

/** States a flow can still expire from. */
export const OPEN_FLOW_STATES = [
  'started',
  'consent_shown',
  'consent_approved',
  'upstream_redirected',
  'callback_accepted',
  'tokens_received',
] as const;

/** Flows past their deadline at `now` that are not finished (codes expire through `client_codes`). */
export async function findOverdueFlows(db: Kysely<any>, now: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('transactions')
    .select('flow_id')
    .where('state', 'in', [...OPEN_FLOW_STATES])
    .where('expires_at', '<=', now)
    .limit(limit)
    .execute();
  return rows.map((r) => r.flow_id as string);
}

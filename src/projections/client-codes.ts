/**
 * `client_codes`: fastmcp's ClientCode, keyed by the SHA-256 of the code (never the code)
 * and bound to client, redirect URI, PKCE challenge, scopes, resource and grant.
 *
 * @module
 */
import type { Kysely } from 'kysely';
import type { CodeIssued } from '../../machines/authorization-flow.js';
import type { Projection } from '../store/types.js';
import { insertRow, updateRows } from './statements.js';
import { listColumn, parseList, payload, streamEntityId } from './support.js';

/** An issued code's binding and status. */
export interface ClientCodeRecord {
  readonly codeHash: string;
  readonly flowId: string;
  readonly grantId: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly scopes: readonly string[];
  readonly resource: string;
  readonly status: 'issued' | 'redeemed' | 'reused' | 'expired';
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly redeemedAt: number | null;
}

/** The `client_codes` projection. */
export const clientCodesProjection: Projection = {
  name: 'client_codes',
  handles: ['code.issued', 'code.redeemed', 'code.reuse_detected', 'flow.expired'],
  tables: ['client_codes'],
  async apply(trx, event) {
    const flowId = streamEntityId(event);
    switch (event.type) {
      case 'code.issued': {
        const e = payload<CodeIssued>(event);
        await insertRow(trx, 'client_codes', {
          code_hash: e.codeHash,
          flow_id: flowId,
          grant_id: e.grantId,
          client_id: e.clientId,
          redirect_uri: e.redirectUri,
          code_challenge: e.codeChallenge,
          scopes: listColumn(e.scopes),
          resource: e.resource,
          status: 'issued',
          issued_at: event.occurredAt,
          expires_at: e.expiresAt,
          redeemed_at: null,
        });
        return;
      }
      case 'code.redeemed':
        await updateRows(trx, 'client_codes', { status: 'redeemed', redeemed_at: event.occurredAt }, { flow_id: flowId });
        return;
      case 'code.reuse_detected':
        await updateRows(trx, 'client_codes', { status: 'reused' }, { flow_id: flowId });
        return;
      case 'flow.expired':
        await updateRows(trx, 'client_codes', { status: 'expired' }, { flow_id: flowId, status: 'issued' });
        return;
    }
  },
};

/** The code whose SHA-256 is `codeHash`, or undefined. */
export async function findCodeByHash(db: Kysely<any>, codeHash: string): Promise<ClientCodeRecord | undefined> {
  const row = await db.selectFrom('client_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
  if (!row) return undefined;
  return {
    codeHash: row.code_hash,
    flowId: row.flow_id,
    grantId: row.grant_id,
    clientId: row.client_id,
    redirectUri: row.redirect_uri,
    codeChallenge: row.code_challenge,
    scopes: parseList(row.scopes),
    resource: row.resource,
    status: row.status,
    issuedAt: Number(row.issued_at),
    expiresAt: Number(row.expires_at),
    redeemedAt: row.redeemed_at === null ? null : Number(row.redeemed_at),
  };
}

/** Flows whose unredeemed code expired at `now`. */
export async function findExpiredCodes(db: Kysely<any>, now: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('client_codes')
    .select('flow_id')
    .where('status', '=', 'issued')
    .where('expires_at', '<=', now)
    .limit(limit)
    .execute();
  return rows.map((r) => r.flow_id as string);
}

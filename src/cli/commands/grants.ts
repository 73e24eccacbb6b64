/**
 * `flowgate grants list|revoke`: token families (one per authorization, RFC 6749 §1.5
 * refresh token lineage) from the `grants` projection. A subject is looked up by its
 * pseudonymous reference (an HMAC of issuer and subject), so the plain subject never needs
 * to be stored in a queryable column. Revocation goes through the engine, so the access
 * tokens of a revoked grant are refused at their next request.
 *
 * @module
 */
import { Option, type Command } from 'commander';
import { subjectKeyId, type Vault } from '../../crypto/vault.js';
import { subjectRefOf as computeSubjectRef } from '../../engine/subject-ref.js';
import type { Engine } from '../../engine/engine.js';
import { FlowgateError } from '../../errors/flowgate-error.js';
import { findGrant, listGrants, type GrantRecord } from '../../projections/grants.js';
import { withOperatorEngine, type ConfigOptions, type OperatorContext } from '../operator-engine.js';
import { isoOrNull, say, sayJson, textTable, when, type Column } from '../table.js';
import { configOption } from './options.js';

const STATUSES = ['active', 'revoked', 'expired'] as const;

/** A grant with its subject opened (null once the subject was forgotten). */
interface GrantView extends GrantRecord {
  readonly subject: string | null;
}

const GRANT_COLUMNS: ReadonlyArray<Column<GrantView>> = [
  ['GRANT ID', (g) => g.grantId],
  ['CLIENT ID', (g) => g.clientId],
  ['SUBJECT', (g) => g.subject ?? '(erased)'],
  ['SCOPES', (g) => g.scopes.join(' ') || '-'],
  ['RESOURCE', (g) => g.resource],
  ['STATUS', (g) => (g.revokedReason ? `${g.status} (${g.revokedReason})` : g.status)],
  ['CREATED', (g) => when(g.createdAt)],
  ['LAST USED', (g) => when(g.lastUsedAt)],
  ['EXPIRES', (g) => when(Math.min(g.absoluteExpiresAt, g.lastUsedAt + g.idleTtlMs))],
];

function grantJson(g: GrantView): Record<string, unknown> {
  return {
    grantId: g.grantId,
    flowId: g.flowId,
    clientId: g.clientId,
    subject: g.subject,
    subjectRef: g.subjectRef,
    scopes: g.scopes,
    resource: g.resource,
    status: g.status,
    revokedReason: g.revokedReason,
    createdAt: isoOrNull(g.createdAt),
    lastUsedAt: isoOrNull(g.lastUsedAt),
    expiresAt: isoOrNull(Math.min(g.absoluteExpiresAt, g.lastUsedAt + g.idleTtlMs)),
    absoluteExpiresAt: isoOrNull(g.absoluteExpiresAt),
  };
}

/** The subject of a grant, opened with its subject key; null when the key was destroyed. */
async function openSubject(engine: Engine, vault: Vault, grant: GrantRecord): Promise<string | null> {
  const events = await engine.store.readStream(`flow:${grant.flowId}`);
  const received = events.find((e) => e.type === 'upstream.tokens_received');
  if (!received) return null;
  const data = received.data as { subjectRef: string; subjectSealed: string };
  const opened = await vault.open(subjectKeyId(data.subjectRef), 'subject', data.subjectSealed);
  return opened.ok ? opened.value : null;
}

async function withSubjects(context: OperatorContext, grants: readonly GrantRecord[]): Promise<GrantView[]> {
  return Promise.all(grants.map(async (g) => ({ ...g, subject: await openSubject(context.engine, context.vault, g) })));
}

/** The pseudonymous reference of an upstream subject, as the engine computes it at the callback. */
async function subjectRefOf(context: OperatorContext, subject: string): Promise<string> {
  if (context.upstreamIssuer === undefined) {
    throw new FlowgateError('ERR_NO_UPSTREAM', '--subject needs the upstream section of the configuration (subjects are scoped to its issuer)');
  }
  return computeSubjectRef(context.vault, context.upstreamIssuer, subject);
}

interface Selection {
  readonly subject?: string;
  readonly client?: string;
}

async function select(context: OperatorContext, selection: Selection, status: GrantRecord['status'] | undefined, limit: number) {
  return listGrants(context.engine.store.db, {
    ...(selection.client ? { clientId: selection.client } : {}),
    ...(selection.subject ? { subjectRef: await subjectRefOf(context, selection.subject) } : {}),
    ...(status ? { status } : {}),
    limit,
  });
}

/** Revokes each grant through the engine; returns the ids that were live and are now revoked. */
export async function revokeGrants(engine: Engine, grants: readonly Pick<GrantRecord, 'grantId'>[]): Promise<string[]> {
  const revoked: string[] = [];
  for (const { grantId } of grants) {
    const result = await engine.execute({ type: 'RevokeGrant', grantId });
    if (result.outcome === 'revoked') revoked.push(grantId);
  }
  return revoked;
}

function parseLimit(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new FlowgateError('ERR_USAGE', `--limit must be an integer from 1 to 100000, not ${JSON.stringify(text)}`);
  return n;
}

/** Registers `grants` and its subcommands on the program. */
export function registerGrants(program: Command): void {
  const grants = program.command('grants').description('list and revoke grants (token families) by subject or client');

  grants
    .command('list')
    .description('list grants, newest first')
    .addOption(configOption())
    .option('--subject <subject>', "the upstream user's subject identifier (as the identity provider names it)")
    .option('--client <client-id>', 'the client the grants were issued to')
    .addOption(new Option('--status <status>', 'only grants in this status').choices([...STATUSES]))
    .addOption(new Option('--limit <n>', 'at most this many grants').argParser(parseLimit).default(1000))
    .option('--json', 'print JSON instead of a table')
    .action(async (options: ConfigOptions & Selection & { status?: GrantRecord['status']; limit: number; json?: boolean }) => {
      await withOperatorEngine(options, async (context) => {
        const found = await withSubjects(context, await select(context, options, options.status, options.limit));
        if (options.json) sayJson(found.map(grantJson));
        else say(textTable(GRANT_COLUMNS, found));
      });
    });

  grants
    .command('revoke')
    .description('revoke grants: by id, or every live grant of a subject or a client; their tokens are refused at the next request')
    .argument('[grant-ids...]', 'grants to revoke (see `flowgate grants list`)')
    .addOption(configOption())
    .option('--subject <subject>', 'revoke every live grant of this upstream subject')
    .option('--client <client-id>', 'revoke every live grant issued to this client')
    .option('--json', 'print JSON instead of text')
    .action(async (grantIds: string[], options: ConfigOptions & Selection & { json?: boolean }) => {
      const bySelection = options.subject !== undefined || options.client !== undefined;
      if (grantIds.length === 0 && !bySelection) {
        throw new FlowgateError('ERR_USAGE', 'name the grants to revoke, or select them with --subject or --client');
      }
      if (grantIds.length > 0 && bySelection) {
        throw new FlowgateError('ERR_USAGE', 'give grant ids or --subject/--client, not both');
      }
      await withOperatorEngine(options, async (context) => {
        const { engine } = context;
        let targets: Array<Pick<GrantRecord, 'grantId'>>;
        if (bySelection) {
          targets = await select(context, options, 'active', 100_000);
        } else {
          for (const grantId of grantIds) {
            if (!(await findGrant(engine.store.db, grantId))) {
              throw new FlowgateError('ERR_NOT_FOUND', `no grant ${JSON.stringify(grantId)} (see \`flowgate grants list\`); nothing was revoked`);
            }
          }
          targets = grantIds.map((grantId) => ({ grantId }));
        }
        const revoked = await revokeGrants(engine, targets);
        // With upstream.revokeOnGrantRevocation, the upstream tokens go too (failures are warned about).
        for (const grantId of revoked) await context.upstreamRevoker?.revokeGrant(grantId);
        const alreadyInactive = targets.map((t) => t.grantId).filter((id) => !revoked.includes(id));
        if (options.json) {
          sayJson({ revoked, alreadyInactive });
          return;
        }
        say(`flowgate: revoked ${revoked.length} grant(s)${revoked.length ? `: ${revoked.join(', ')}` : ''}`);
        if (alreadyInactive.length) say(`flowgate: already inactive: ${alreadyInactive.join(', ')}`);
      });
    });
}

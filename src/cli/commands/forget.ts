/**
 * `flowgate forget --subject <id>`: erasure by crypto-shredding (docs/privacy.md, "What
 * forget does"; GDPR Art. 17). For the subject's pseudonymous reference it
 *
 * 1. revokes every live grant of the subject through the engine (`grant.revoked`, reason
 *    `operator`): its tokens stop working at their next use, and the log records it;
 * 2. destroys the data key of every grant and flow of the subject (`grant:<id>`): their
 *    upstream tokens (which may carry an ID token with personal claims), sealed client
 *    state and proxy verifier can no longer be opened;
 * 3. destroys the subject's own data key (`subject:<ref>`): the subject and its claims,
 *    sealed in `upstream.tokens_received` events, read `(erased)` from now on, in the log,
 *    in exports and in retention archives alike.
 *
 * The events stay and the chain still verifies (it covers the ciphertexts' hashes). The
 * erasure itself is recorded without personal data: the revocations are events, and the
 * `data_keys` row of `subject:<ref>` keeps its `destroyed_at` time.
 *
 * @module
 */
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import { grantKeyId, subjectKeyId, type Vault } from '../../crypto/vault.js';
import type { Engine } from '../../engine/engine.js';
import { subjectRefOf } from '../../engine/subject-ref.js';
import { FlowgateError } from '../../errors/flowgate-error.js';
import { withOperatorEngine, type ConfigOptions } from '../operator-engine.js';
import { say, sayJson } from '../table.js';
import { revokeGrants } from './grants.js';
import { configOption } from './options.js';

/** What forgetting a subject did. */
export interface ForgetReport {
  readonly subjectRef: string;
  /** Flows that held the subject (sealed) and grants of the subject. */
  readonly flows: number;
  readonly grants: number;
  /** Grants that were live and are now revoked. */
  readonly revoked: readonly string[];
  /** Data keys destroyed now (grant keys and the subject key). */
  readonly keysDestroyed: number;
  /** True when the subject key had already been destroyed by an earlier forget. */
  readonly alreadyForgotten: boolean;
}

/** Nothing of this subject is known. */
export class UnknownSubjectError extends FlowgateError {
  constructor(issuer: string) {
    super('ERR_NOT_FOUND', `no flow or grant of this subject at ${issuer} (check the spelling: it is the identity provider's subject identifier); nothing was erased`);
  }
}

async function grantIdsOf(db: Kysely<any>, subjectRef: string): Promise<{ flows: number; grantIds: Set<string>; live: string[] }> {
  const flows = await db.selectFrom('transactions').select(['grant_id']).where('subject_ref', '=', subjectRef).execute();
  const grants = await db.selectFrom('grants').select(['grant_id', 'status']).where('subject_ref', '=', subjectRef).execute();
  const grantIds = new Set<string>([...flows.map((f) => f.grant_id as string), ...grants.map((g) => g.grant_id as string)]);
  return { flows: flows.length, grantIds, live: grants.filter((g) => g.status === 'active').map((g) => g.grant_id as string) };
}

/** Forgets the subject with reference `subjectRef` (see the module comment). */
export async function forgetSubjectRef(engine: Engine, vault: Vault, subjectRef: string): Promise<ForgetReport | undefined> {
  const db = engine.store.db;
  const key = await db.selectFrom('data_keys').select(['destroyed_at']).where('key_id', '=', subjectKeyId(subjectRef)).executeTakeFirst();
  const found = await grantIdsOf(db, subjectRef);
  if (!key && found.grantIds.size === 0) return undefined;
  const revoked = await revokeGrants(
    engine,
    found.live.map((grantId) => ({ grantId })),
  );
  let keysDestroyed = 0;
  for (const grantId of found.grantIds) if (await vault.destroy(grantKeyId(grantId))) keysDestroyed++;
  const subjectDestroyed = await vault.destroy(subjectKeyId(subjectRef));
  if (subjectDestroyed) keysDestroyed++;
  return {
    subjectRef,
    flows: found.flows,
    grants: found.grantIds.size,
    revoked,
    keysDestroyed,
    alreadyForgotten: !subjectDestroyed && key !== undefined && key.destroyed_at !== null,
  };
}

/** Registers `forget` on the program. */
export function registerForget(program: Command): void {
  program
    .command('forget')
    .description("erase an upstream user's personal data by destroying its keys (events stay; the chain still verifies); revokes the user's live grants")
    .addOption(configOption())
    .requiredOption('--subject <subject>', "the user's subject identifier at the identity provider")
    .option('--json', 'print JSON instead of text')
    .action(async (options: ConfigOptions & { subject: string; json?: boolean }) => {
      await withOperatorEngine(options, async ({ engine, vault, upstreamIssuer }) => {
        if (upstreamIssuer === undefined) {
          throw new FlowgateError('ERR_NO_UPSTREAM', '--subject needs the upstream section of the configuration (subjects are scoped to its issuer)');
        }
        const report = await forgetSubjectRef(engine, vault, await subjectRefOf(vault, upstreamIssuer, options.subject));
        if (!report) throw new UnknownSubjectError(upstreamIssuer);
        if (options.json) {
          sayJson(report);
          return;
        }
        if (report.alreadyForgotten && report.keysDestroyed === 0) {
          say(`flowgate: subject ${report.subjectRef} was already forgotten; nothing more to erase`);
          return;
        }
        say(
          `flowgate: forgot subject ${report.subjectRef}: ${report.keysDestroyed} data key(s) destroyed (subject and ${report.grants} grant(s) of ${report.flows} flow(s)); revoked ${report.revoked.length} live grant(s)${report.revoked.length ? `: ${report.revoked.join(', ')}` : ''}`,
        );
        say('flowgate: the events stay and still verify; replay shows the subject as (erased). Backups and keys files made before now still hold the keys (docs/privacy.md).');
      });
    });
}

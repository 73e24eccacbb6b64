/**
 * `flowgate forget` (crypto-shredding) on SQLite and PostgreSQL: alice's live grant is
 * revoked, her subject key and the data keys of every grant and flow of hers are destroyed;
 * afterwards not one sealed value of hers opens — in the events (subject, claims, upstream
 * tokens, client state, proxy verifier) or in the read views (sealed upstream token sets,
 * sealed client state) — while the events stay, the chain verifies, the audit is clean,
 * replay shows `(erased)`, and bob is untouched. No table holds her subject in clear, before
 * or after.
 *
 * Protections checked by mutation (each removed once, the test watched failing, restored):
 * - destroying the grant keys in src/cli/commands/forget.ts: "no sealed value of hers
 *   opens" failed on her upstream token sets (which may hold an ID token with her claims);
 * - revoking her live grants: "revokes her live grant" failed.
 *
 * A forgotten user who signs in again gets a new generation of her subject key
 * (src/crypto/vault.ts); before generations, that sign-in failed for good with a
 * ConcurrencyError on the destroyed key's row (the last test, watched failing).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/index.js';
import { forgetSubjectRef } from '../../src/cli/commands/forget.js';
import { parseMasterKey } from '../../src/crypto/master-key.js';
import { grantKeyId, subjectKeyId, Vault, type SealPurpose } from '../../src/crypto/vault.js';
import { subjectRefOf } from '../../src/engine/subject-ref.js';
import { readTimeline } from '../../src/replay/timeline.js';
import { exportLog } from '../../src/store/export.js';
import { importLog } from '../../src/store/import.js';
import { exportKeys, parseKeyFile } from '../../src/store/key-file.js';
import { fileSink } from '../../src/store/line-sink.js';
import { storeTargets } from '../support/stores.js';
import { clientSide, flowToCode } from '../support/flows.js';
import { CLIENT_ID, openScenarioEngine, writeScenario, ISSUER, type Scenario, type ScenarioEngine } from '../replay/support/scenario.js';

const REDIRECT = 'http://127.0.0.1:53682/callback';

const PURPOSE: Record<string, SealPurpose> = {
  subjectSealed: 'subject',
  claimsSealed: 'claims',
  tokenSetSealed: 'upstream_tokens',
  clientStateSealed: 'client_state',
  proxyVerifierSealed: 'proxy_verifier',
};

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`forget on ${target.name}`, () => {
    let s: ScenarioEngine;
    let scenario: Scenario;
    let alice: string;
    let bob: string;
    let report: Awaited<ReturnType<typeof forgetSubjectRef>>;
    let eventsBefore: number;

    /** Every sealed value of a subject's flows and grants, in events and read views, with the key that seals it. */
    async function sealedValuesOf(subjectRef: string): Promise<Array<{ where: string; keyId: string; purpose: SealPurpose; sealed: string }>> {
      const db = s.store.db;
      const flows = await db.selectFrom('transactions').select(['flow_id', 'grant_id', 'client_state_sealed', 'proxy_verifier_sealed']).where('subject_ref', '=', subjectRef).execute();
      const out: Array<{ where: string; keyId: string; purpose: SealPurpose; sealed: string }> = [];
      for (const flow of flows) {
        const grantKey = grantKeyId(flow.grant_id);
        for (const stream of [`flow:${flow.flow_id}`, `grant:${flow.grant_id}`]) {
          for (const event of await s.store.readStream(stream)) {
            for (const [field, value] of Object.entries(event.data as Record<string, unknown>)) {
              if (!field.endsWith('Sealed') || typeof value !== 'string') continue;
              const personal = field === 'subjectSealed' || field === 'claimsSealed';
              out.push({ where: `${stream} v${event.streamVersion} ${field}`, keyId: personal ? subjectKeyId(subjectRef) : grantKey, purpose: PURPOSE[field]!, sealed: value });
            }
          }
        }
        if (flow.client_state_sealed) out.push({ where: `transactions ${flow.flow_id}`, keyId: grantKey, purpose: 'client_state', sealed: flow.client_state_sealed });
        if (flow.proxy_verifier_sealed) out.push({ where: `transactions ${flow.flow_id}`, keyId: grantKey, purpose: 'proxy_verifier', sealed: flow.proxy_verifier_sealed });
        const tokens = await db.selectFrom('upstream_token_sets').select('token_set_sealed').where('grant_id', '=', flow.grant_id).executeTakeFirst();
        if (tokens) out.push({ where: `upstream_token_sets ${flow.grant_id}`, keyId: grantKey, purpose: 'upstream_tokens', sealed: tokens.token_set_sealed });
      }
      return out;
    }

    /** Every text cell of every table, to look for a subject in clear. */
    async function everyCell(): Promise<string> {
      const tables = ['events', 'transactions', 'client_codes', 'upstream_token_sets', 'grants', 'jti_mappings', 'refresh_tokens', 'clients', 'security_events', 'data_keys', 'stream_checkpoints'];
      let text = '';
      for (const table of tables) text += JSON.stringify(await s.store.db.selectFrom(table).selectAll().execute());
      return text;
    }

    beforeAll(async () => {
      s = await openScenarioEngine(target);
      scenario = await writeScenario(s);
      alice = await subjectRefOf(s.vault, ISSUER, 'alice');
      bob = await subjectRefOf(s.vault, ISSUER, 'bob');
      const before = await sealedValuesOf(alice);
      expect(before.length).toBeGreaterThanOrEqual(10);
      for (const v of before) expect((await s.vault.open(v.keyId, v.purpose, v.sealed)).ok, v.where).toBe(true);
      expect(await everyCell()).not.toMatch(/"alice"|alice@example\.test|up-(at|rt)-/);
      eventsBefore = Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM events`.execute(s.store.db)).rows[0]!.n);
      report = await forgetSubjectRef(s.engine, s.vault, alice);
    });
    afterAll(() => s?.dispose());

    it('revokes her live grant and destroys her subject key and her grant keys', () => {
      expect(report).toMatchObject({ subjectRef: alice, flows: 2, grants: 2, revoked: [scenario.live.grant.slice('grant:'.length)], alreadyForgotten: false });
      expect(report!.keysDestroyed).toBe(3);
    });

    it('no sealed value of hers opens, in the events or in the read views', async () => {
      const after = await sealedValuesOf(alice);
      expect(after.length).toBeGreaterThanOrEqual(10);
      for (const v of after) expect(await s.vault.open(v.keyId, v.purpose, v.sealed), v.where).toEqual({ ok: false, reason: 'erased' });
      expect(await everyCell()).not.toMatch(/"alice"|alice@example\.test|up-(at|rt)-/);
    });

    it('keeps the events: the chain verifies and the audit is clean', async () => {
      const n = Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM events`.execute(s.store.db)).rows[0]!.n);
      expect(n).toBe(eventsBefore + 1); // her grant's revocation
      expect(await s.store.verifyChain()).toEqual([]);
      const audited = await runAudit(s.store);
      expect(audited.findings.listed).toEqual([]);
    });

    it('replay shows her as erased, bob as himself', async () => {
      for (const flow of [scenario.live.flow, scenario.replayed.flow]) {
        const received = (await readTimeline(s.store, flow, { vault: s.vault })).entries.find((e) => e.type === 'upstream.tokens_received')!;
        expect(received.fields.personal).toEqual({ subject: { status: 'erased' }, claims: { status: 'erased' } });
      }
      const bobs = (await readTimeline(s.store, scenario.revoked.flow, { vault: s.vault })).entries.find((e) => e.type === 'upstream.tokens_received')!;
      expect(bobs.fields.personal.subject).toEqual({ status: 'open', value: 'bob' });
      const bobKeys = await s.store.db.selectFrom('data_keys').select('destroyed_at').where('key_id', '=', subjectKeyId(bob)).executeTakeFirst();
      expect(bobKeys?.destroyed_at).toBeNull();
    });

    it('records the erasure without personal data, and a second forget finds nothing more to do', async () => {
      const row = await s.store.db.selectFrom('data_keys').selectAll().where('key_id', '=', subjectKeyId(alice)).executeTakeFirst();
      expect(row).toMatchObject({ wrapped_key: null });
      expect(Number(row!.destroyed_at)).toBe(s.clock.now());
      const revocation = (await s.store.readStream(scenario.live.grant)).at(-1)!;
      expect(revocation).toMatchObject({ type: 'grant.revoked', data: { reason: 'operator' } });
      const again = await forgetSubjectRef(s.engine, s.vault, alice);
      expect(again).toMatchObject({ revoked: [], keysDestroyed: 0, alreadyForgotten: true });
      expect(await forgetSubjectRef(s.engine, s.vault, await subjectRefOf(s.vault, ISSUER, 'nobody'))).toBeUndefined();
    });
    it('an export made after the erasure restores her as erased, with no key of hers', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'flowgate-forget-export-'));
      const restored = await target.open();
      try {
        await exportLog(s.store, fileSink(join(dir, 'log.jsonl')));
        await exportKeys(s.store.db, fileSink(join(dir, 'keys.jsonl')), s.clock.now());
        const keysText = readFileSync(join(dir, 'keys.jsonl'), 'utf8');
        const hers = keysText.split('\n').filter((l) => l.includes(`"keyId":"${subjectKeyId(alice)}"`));
        expect(hers).toHaveLength(1);
        expect(JSON.parse(hers[0]!)).toMatchObject({ wrappedKey: null, destroyedAt: s.clock.now() });
        await importLog(restored.store, join(dir, 'log.jsonl'), { keys: parseKeyFile(keysText, 'keys.jsonl') });
        const vault = new Vault(restored.store.db, parseMasterKey(s.masterKey));
        const received = (await readTimeline(restored.store, scenario.live.flow, { vault })).entries.find((e) => e.type === 'upstream.tokens_received')!;
        expect(received.fields.personal).toEqual({ subject: { status: 'erased' }, claims: { status: 'erased' } });
        const bobs = (await readTimeline(restored.store, scenario.revoked.flow, { vault })).entries.find((e) => e.type === 'upstream.tokens_received')!;
        expect(bobs.fields.personal.subject).toEqual({ status: 'open', value: 'bob' });
      } finally {
        await restored.dispose();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    // Runs last: she signs in again.
    it('lets her sign in again under a new key generation, which the next forget erases too', async () => {
      const side = clientSide(CLIENT_ID, REDIRECT);
      const f = await flowToCode(s.engine, side, { subject: 'alice' });
      const newFlow = `flow:${f.started.flowId}`;
      const subjectOf = async (flow: string) =>
        (await readTimeline(s.store, flow, { vault: s.vault })).entries.find((e) => e.type === 'upstream.tokens_received')!.fields.personal.subject;
      expect(await subjectOf(newFlow)).toEqual({ status: 'open', value: 'alice' });
      expect(await subjectOf(scenario.live.flow)).toEqual({ status: 'erased' });
      const rows = (await s.store.db.selectFrom('data_keys').select(['key_id', 'destroyed_at']).orderBy('key_id').execute()).filter((r) =>
        (r.key_id as string).startsWith(subjectKeyId(alice)),
      );
      expect(rows.map((r) => [r.key_id, r.destroyed_at === null])).toEqual([
        [subjectKeyId(alice), false],
        [`${subjectKeyId(alice)}#2`, true],
      ]);
      const third = await forgetSubjectRef(s.engine, s.vault, alice);
      expect(third).toMatchObject({ flows: 3, alreadyForgotten: false });
      expect(await subjectOf(newFlow)).toEqual({ status: 'erased' });
      expect(await s.store.verifyChain()).toEqual([]);
    });
  });
}

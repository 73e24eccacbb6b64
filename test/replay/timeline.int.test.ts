/**
 * Timelines (`flowgate replay`) and stream search (`flowgate flows`) on a real log, on
 * SQLite and PostgreSQL: states re-folded through the machine, personal data opened and
 * then erased, secrets only named, and search by client, subject, period and state.
 *
 * Protection checked by mutation: with the `Sealed` rule of src/replay/fields.ts removed
 * (sealed values shown as plain fields), "never shows a sealed value or a secret" failed
 * (the JWE of the client state appeared in the text); restored. With the `--since` filter
 * of grants and clients back on the views' own times (src/replay/find-streams.ts,
 * `activeSince` removed), "finds a grant and a client by their latest event" failed on both
 * (a revoked grant behind a thousand newer ones, a deleted client); restored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectKeyId } from '../../src/crypto/vault.js';
import { subjectRefOf } from '../../src/engine/subject-ref.js';
import { findStreams } from '../../src/replay/find-streams.js';
import { timelineJson, timelineText } from '../../src/replay/render.js';
import { readTimeline, StreamNotFoundError } from '../../src/replay/timeline.js';
import { storeTargets } from '../support/stores.js';
import { CLIENT_ID, ISSUER, openScenarioEngine, writeScenario, type Scenario, type ScenarioEngine } from './support/scenario.js';

const JWE = /eyJ[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+/;

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`replay timelines on ${target.name}`, () => {
    let s: ScenarioEngine;
    let scenario: Scenario;
    beforeAll(async () => {
      s = await openScenarioEngine(target);
      scenario = await writeScenario(s);
    });
    afterAll(() => s?.dispose());

    it('re-folds a flow through its machine, one entry per event, every step legal', async () => {
      const timeline = await readTimeline(s.store, scenario.live.flow, { vault: s.vault });
      expect(timeline.machine).toEqual({ id: 'authorization-flow', version: '1' });
      expect(timeline.entries.map((e) => `${e.before}>${e.after}`)).toEqual([
        'new>started',
        'started>consent_shown',
        'consent_shown>consent_approved',
        'consent_approved>upstream_redirected',
        'upstream_redirected>callback_accepted',
        'callback_accepted>tokens_received',
        'tokens_received>code_issued',
        'code_issued>code_redeemed',
      ]);
      expect(timeline.entries.every((e) => e.legal && !e.drift)).toBe(true);
      expect(timeline.finalState).toBe('code_redeemed');
      const received = timeline.entries.find((e) => e.type === 'upstream.tokens_received')!;
      expect(received.fields.personal.subject).toEqual({ status: 'open', value: 'alice' });
      expect(received.fields.personal.claims).toEqual({ status: 'open', value: { email: 'alice@example.test' } });
      expect(received.fields.secret).toEqual(['tokenSetSealed']);
    });

    it('prints one line per event with time, type, states and fields', async () => {
      const timeline = await readTimeline(s.store, scenario.replayed.flow, { vault: s.vault });
      const lines = timelineText(timeline).split('\n');
      expect(lines[0]).toMatch(new RegExp(`^${scenario.replayed.flow}  authorization-flow v1, 9 events, now reuse_detected$`));
      expect(lines).toHaveLength(10);
      expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z {2}1 {2}flow\.started\s+new → started\s+.*clientId=client-replay/);
      expect(lines.at(-1)).toMatch(/code\.reuse_detected\s+code_redeemed → reuse_detected/);
      expect(lines.find((l) => l.includes('upstream.tokens_received'))).toMatch(/subject=alice claims=\{"email":"alice@example.test"\} tokenSet=\(sealed\)$/);
    });

    it('never shows a sealed value or a secret, in text or JSON', async () => {
      for (const streamId of [scenario.live.flow, scenario.live.grant, scenario.denied.flow, scenario.client]) {
        const timeline = await readTimeline(s.store, streamId, { vault: s.vault });
        const text = timelineText(timeline) + JSON.stringify(timelineJson(timeline));
        expect(text).not.toMatch(JWE);
        expect(text).not.toMatch(/up-(at|rt)-/);
      }
    });

    it('replays a grant through the token-grant machine, nested states included', async () => {
      const timeline = await readTimeline(s.store, scenario.live.grant, { vault: s.vault });
      expect(timeline.machine?.id).toBe('token-grant');
      expect(timeline.entries.map((e) => e.type)).toEqual(['grant.created', 'access_token.issued', 'refresh_token.rotated', 'access_token.issued']);
      expect(timeline.entries[0]!.after).toBe('live.idle');
      const json = timelineJson(timeline) as { events: Array<{ at: string; sealed: string[] }> };
      expect(json.events[0]!.at).toMatch(/Z$/);
    });

    it('shows personal data as (erased) once the subject key is destroyed', async () => {
      const ref = await subjectRefOf(s.vault, ISSUER, 'bob');
      expect(await s.vault.destroy(subjectKeyId(ref))).toBe(true);
      const timeline = await readTimeline(s.store, scenario.revoked.flow, { vault: s.vault });
      const received = timeline.entries.find((e) => e.type === 'upstream.tokens_received')!;
      expect(received.fields.personal).toEqual({ subject: { status: 'erased' }, claims: { status: 'erased' } });
      expect(timelineText(timeline)).toContain('subject=(erased) claims=(erased)');
      // alice is untouched.
      const alice = await readTimeline(s.store, scenario.live.flow, { vault: s.vault });
      expect(alice.entries.find((e) => e.type === 'upstream.tokens_received')!.fields.personal.subject).toEqual({ status: 'open', value: 'alice' });
    });

    it('refuses an unknown stream with a clear error', async () => {
      await expect(readTimeline(s.store, 'flow:nope')).rejects.toThrow(StreamNotFoundError);
      await expect(readTimeline(s.store, 'flow:nope')).rejects.toThrow(/no stream "flow:nope" in the log/);
    });

    it('finds streams by client, subject, state and period', async () => {
      const byClient = await findStreams(s.store.db, { clientId: CLIENT_ID }, s.vault);
      const ids = byClient.map((f) => f.streamId);
      for (const id of [scenario.live.flow, scenario.live.grant, scenario.revoked.grant, scenario.denied.flow, scenario.abandoned.flow, scenario.client]) {
        expect(ids).toContain(id);
      }
      expect(byClient[0]!.lastAt).toBeGreaterThanOrEqual(byClient.at(-1)!.lastAt);

      const alice = await subjectRefOf(s.vault, ISSUER, 'alice');
      const bySubject = await findStreams(s.store.db, { subjectRef: alice }, s.vault);
      expect(bySubject.map((f) => f.streamId).sort()).toEqual([scenario.live.flow, scenario.live.grant, scenario.replayed.flow, scenario.replayed.grant].sort());
      expect(bySubject.every((f) => f.subject?.status === 'open' && f.subject.value === 'alice')).toBe(true);

      const expired = await findStreams(s.store.db, { state: 'expired' }, s.vault);
      expect(expired.map((f) => f.streamId)).toEqual([scenario.abandoned.flow]);
      const live = await findStreams(s.store.db, { state: 'live', kinds: ['grant'] }, s.vault);
      expect(live.map((f) => f.streamId)).toEqual([scenario.live.grant]);
      expect(live[0]!.state).toBe('live.idle');

      const late = await findStreams(s.store.db, { since: scenario.endedAt - 1 }, s.vault);
      expect(late.map((f) => f.streamId)).toEqual([scenario.abandoned.flow]);
      const early = await findStreams(s.store.db, { until: byClient.find((f) => f.streamId === scenario.client)!.firstAt + 1, kinds: ['client'] }, s.vault);
      expect(early.map((f) => f.streamId)).toEqual([scenario.client]);
      // --until: streams with an event before it, i.e. those started before it.
      const liveStart = byClient.find((f) => f.streamId === scenario.live.flow)!.firstAt;
      const beforeBob = await findStreams(s.store.db, { until: liveStart + 1, kinds: ['flow', 'client'] }, s.vault);
      expect(beforeBob.map((f) => f.streamId).sort()).toEqual([scenario.client, scenario.live.flow].sort());
      // Filters combine: a client and a state.
      const redeemed = await findStreams(s.store.db, { clientId: CLIENT_ID, state: 'code_redeemed' }, s.vault);
      expect(redeemed.map((f) => f.streamId).sort()).toEqual([scenario.live.flow, scenario.revoked.flow].sort());
      expect(await findStreams(s.store.db, { clientId: 'someone-else' }, s.vault)).toEqual([]);
    });

    // Runs last: it deletes the client and adds view rows.
    it('finds a grant and a client by their latest event, not by the times their views keep', async () => {
      // A thousand grants created after bob's, quiet since: under the old candidate query
      // (newest-created grants first, the period checked afterwards) they took every slot.
      const revokedGrant = await findStreams(s.store.db, { clientId: CLIENT_ID, kinds: ['grant'], state: 'revoked' }, s.vault);
      const bobs = revokedGrant.find((f) => f.streamId === scenario.revoked.grant)!;
      const quietAt = bobs.firstAt + 1;
      const quiet = Array.from({ length: 1000 }, (_, i) => `quiet-${String(i).padStart(4, '0')}`);
      for (let i = 0; i < quiet.length; i += 100) {
        await s.store.db
          .insertInto('grants')
          .values(
            quiet.slice(i, i + 100).map((id) => ({
              grant_id: id,
              flow_id: `flow-${id}`,
              client_id: CLIENT_ID,
              subject_ref: 'quiet',
              scopes: 'mcp:tools',
              resource: 'http://127.0.0.1:8787/mcp',
              status: 'revoked',
              revoked_reason: 'operator',
              created_at: quietAt,
              absolute_expires_at: quietAt + 1,
              idle_ttl_ms: 1,
              last_used_at: quietAt,
            })),
          )
          .execute();
      }
      // Bob's grant was revoked (its last event) after it was created and last used.
      expect(bobs.lastAt).toBeGreaterThan(quietAt);
      const revokedSince = await findStreams(s.store.db, { since: bobs.lastAt, kinds: ['grant'], state: 'revoked' }, s.vault);
      expect(revokedSince.map((f) => f.streamId)).toContain(scenario.revoked.grant);
      await s.store.db.deleteFrom('grants').where('subject_ref', '=', 'quiet').execute();

      // A client deleted now, last used long ago: its view's last_used_at stays old.
      s.clock.advance(60_000);
      const deletedAt = s.clock.now();
      expect(await s.engine.execute({ type: 'DeleteClient', clientId: CLIENT_ID })).toEqual({ deleted: true });
      const clients = await findStreams(s.store.db, { since: deletedAt, kinds: ['client'] }, s.vault);
      expect(clients.map((f) => `${f.streamId} ${f.state} ${f.lastAt}`)).toEqual([`${scenario.client} deleted ${deletedAt}`]);
      const deleted = await findStreams(s.store.db, { state: 'deleted' }, s.vault);
      expect(deleted.map((f) => f.streamId)).toEqual([scenario.client]);
    });
  });
}

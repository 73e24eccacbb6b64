/**
 * The compiled `flowgate replay | flows | export | import | report | prune | verify-archive
 * | forget` on a SQLite file written by the real engine, as an operator runs them: text
 * and JSON output, a round trip into a new data directory that audits clean, a report
 * file, a prune whose archive verifies (and a changed archive that does not), an erasure
 * that replay then shows, and one-line failures with exit 1.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowgate, type CliRun } from '../support/cli.js';
import { openScenarioFile, writeScenario, type Scenario } from './support/scenario.js';

function expectOneLineFailure(run: CliRun, pattern: RegExp): void {
  expect(run.status).toBe(1);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(/^flowgate: /);
  expect(run.stderr).toMatch(pattern);
}

describe('flowgate replay, flows, export, import, report, prune, verify-archive and forget', { timeout: 120_000 }, () => {
  let dir: string;
  let config: string;
  let env: Record<string, string>;
  let scenario: Scenario;
  const cli = (...args: string[]): CliRun => flowgate([...args, '--config', config], env);

  beforeAll(async () => {
    const s = await openScenarioFile();
    scenario = await writeScenario(s);
    await s.dispose();
    dir = s.dir;
    config = s.configFile;
    env = s.cliEnv();
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('replays a stream as text and as JSON', () => {
    const text = cli('replay', scenario.replayed.flow);
    expect(text.status).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toBe(`${scenario.replayed.flow}  authorization-flow v1, 9 events, now reuse_detected`);
    expect(lines.at(-1)).toMatch(/Z {2}9 {2}code\.reuse_detected\s+code_redeemed → reuse_detected\s+clientId=client-replay/);
    expect(text.stdout).toContain('subject=alice claims={"email":"alice@example.test"} tokenSet=(sealed)');
    const bare = cli('replay', scenario.live.grant.slice('grant:'.length), '--json');
    const json = JSON.parse(bare.stdout) as { streamId: string; events: Array<{ type: string; after: string }> };
    expect(json.streamId).toBe(scenario.live.grant);
    expect(json.events.map((e) => e.after)).toEqual(['live.idle', 'live.idle', 'live.idle', 'live.idle']);
  });

  it('finds streams by subject, state and period, as a table and as JSON', () => {
    const table = cli('flows', '--subject', 'alice', '--kind', 'flow');
    expect(table.status).toBe(0);
    const rows = table.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^STREAM\s+STATE\s+CLIENT ID\s+SUBJECT\s+EVENTS\s+FIRST\s+LAST$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/)[0]).sort()).toEqual([scenario.live.flow, scenario.replayed.flow].sort());
    expect(rows.slice(1).every((r) => /\salice\s/.test(r))).toBe(true);
    const expired = JSON.parse(cli('flows', '--state', 'expired', '--json').stdout) as Array<{ streamId: string }>;
    expect(expired.map((f) => f.streamId)).toEqual([scenario.abandoned.flow]);
    const none = cli('flows', '--since', '2030-01-01T00:00:00Z');
    expect(none.stdout.trim()).toBe('flowgate: no streams match');
    const byClient = JSON.parse(cli('flows', '--client', 'client-replay', '--json').stdout) as Array<{ streamId: string; firstAt: string }>;
    expect(byClient).toHaveLength(9);
    const liveStart = Date.parse(byClient.find((f) => f.streamId === scenario.live.flow)!.firstAt);
    const until = new Date(liveStart + 1).toISOString();
    const early = JSON.parse(cli('flows', '--client', 'client-replay', '--until', until, '--json').stdout) as Array<{ streamId: string }>;
    expect(early.map((f) => f.streamId).sort()).toEqual([scenario.client, scenario.live.flow].sort());
    expect(cli('flows', '--client', 'nobody').stdout.trim()).toBe('flowgate: no streams match');
  });

  it('exports a time window for reading, which import refuses', () => {
    const file = join(dir, 'window.jsonl');
    const run = cli('export', '--since', '2026-01-01T00:00:00Z', '--until', '2030-01-01T00:00:00Z', '--out', file);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^flowgate: exported 41 event\(s\) of 9 stream\(s\) \(positions 1–41\), a time window: for reading, not for import to /);
    expectOneLineFailure(flowgate(['import', file], { ...env, FLOWGATE_DATA_DIR: join(dir, 'window-restore') }), /is a partial export \(a time window\)/);
    expectOneLineFailure(cli('export', '--since', '2030-01-01T00:00:00Z', '--until', '2026-01-01T00:00:00Z'), /--since must be before --until/);
  });

  it('exports with keys and imports into an empty store that audits clean; refuses a non-empty one', () => {
    const exported = cli('export', '--out', join(dir, 'log.jsonl'), '--with-keys', join(dir, 'keys.jsonl'));
    expect(exported.status).toBe(0);
    expect(exported.stderr).toMatch(/^flowgate: exported 41 event\(s\) of 9 stream\(s\) \(positions 1–41\), 0 checkpoint\(s\), 0 anchor\(s\) to .*log\.jsonl; digest [0-9a-f]{64}\n/);
    expectOneLineFailure(cli('export', '--out', join(dir, 'log.jsonl')), /log\.jsonl already exists; flowgate never overwrites/);
    const restored = { ...env, FLOWGATE_DATA_DIR: join(dir, 'restored') };
    const imported = flowgate(['import', join(dir, 'log.jsonl'), '--keys', join(dir, 'keys.jsonl')], restored);
    expect(imported.status).toBe(0);
    expect(imported.stdout).toMatch(/^flowgate: imported 41 event\(s\) of 9 stream\(s\)/);
    const audit = flowgate(['audit'], restored);
    expect(audit.status).toBe(0);
    expect(audit.stdout.trimEnd().endsWith('findings: none')).toBe(true);
    const replay = flowgate(['replay', scenario.live.flow], restored);
    expect(replay.stdout).toContain('subject=alice');
    expectOneLineFailure(flowgate(['import', join(dir, 'log.jsonl')], restored), /is not empty \(41 events\); import loads only into an empty store/);
  });

  it('writes a self-contained HTML report', () => {
    const file = join(dir, 'reports', 'flow.html');
    const run = cli('report', scenario.replayed.flow, '--html', file);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(`flowgate: wrote the report of ${scenario.replayed.flow} (9 events, now reuse_detected) to ${file}`);
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;sha256-/);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|<link /);
    const all = cli('report', '--all', '--since', '2026-01-01T00:00:00Z', '--html', join(dir, 'reports', 'all', 'index.html'));
    expect(all.stdout.trim()).toMatch(/^flowgate: wrote 8 report\(s\) and the index/);
    expect(existsSync(join(dir, 'reports', 'all', `${scenario.live.grant.replace(':', '_')}.html`))).toBe(true);
  });

  it('prunes into an archive that verifies, and finds a changed archive line', () => {
    const archive = join(dir, 'archive.jsonl');
    const pruned = cli('prune', '--before', '2026-11-29T13:00:00Z', '--archive', archive);
    expect(pruned.status).toBe(0);
    expect(pruned.stdout).toMatch(/^flowgate: pruned 4 finished flow\(s\) with their grants before 2026-11-29T13:00:00Z: 6 stream\(s\), 28 event\(s\) in 1 transaction\(s\)/);
    expect(pruned.stdout).toContain(`${scenario.live.flow}: its grant is in state live.idle, not ended`);
    const verified = cli('verify-archive', archive);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toMatch(/6 stream\(s\), 28 event\(s\), cutoff 2026-11-29T13:00:00Z, .*checked against the store\nfindings: none/);
    expectOneLineFailure(cli('replay', scenario.denied.flow), new RegExp(`${scenario.denied.flow} was pruned on .* \\(versions 1–3 are in a retention archive`));
    // The audit still passes, and tells the auditor what was pruned.
    const audited = cli('audit');
    expect(audited.status, audited.stdout + audited.stderr).toBe(0);
    expect(audited.stdout).toMatch(/\n {2}pruned {7}28 events by 6 checkpoints \(flowgate prune\), covered by the anchors; 28 events by 6 checkpoints since the start \(no anchor yet\)\n/);
    const changed = join(dir, 'changed.jsonl');
    writeFileSync(changed, readFileSync(archive, 'utf8').replace('"reason":"client_revoked"', '"reason":"operator"'));
    const bad = cli('verify-archive', changed);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(new RegExp(`${scenario.revoked.grant}\\s+chain\\s+version 3: data does not match its payloadHash`));
    expect(bad.stderr.trim()).toBe(`flowgate: ${changed} does not verify: 4 problems`);
  });

  it('forgets a subject: replay shows it erased; an unknown subject is refused in one line', () => {
    const forgot = cli('forget', '--subject', 'alice');
    expect(forgot.status).toBe(0);
    expect(forgot.stdout).toMatch(/^flowgate: forgot subject \S+: 2 data key\(s\) destroyed .* revoked 1 live grant\(s\)/);
    const replay = cli('replay', scenario.live.flow);
    expect(replay.stdout).toContain('subject=(erased) claims=(erased)');
    expect(replay.stdout).not.toContain('alice');
    expectOneLineFailure(cli('forget', '--subject', 'nobody'), /no flow or grant of this subject at http:\/\/127\.0\.0\.1:9999/);
    expectOneLineFailure(cli('replay', 'flow:nope'), /no stream "flow:nope" in the log/);
  });
});

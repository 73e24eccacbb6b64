/**
 * The compiled `flowgate audit` on a SQLite file written by the real engine: a clean audit
 * exits 0 with its summary (and plain progress lines on a non-terminal stderr); `--json`
 * is one document; `--anchor --out` signs, stores and keeps an anchor; after tampering
 * (an edited event, the anchor rows deleted) it lists every finding with stream, position
 * and reason and exits 1 with one line on stderr.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { flowgate } from '../support/cli.js';
import { writeInvestigationLog, type Investigation } from './support/investigation.js';

describe('flowgate audit', () => {
  let dir: string;
  let log: Investigation;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-cli-audit-'));
    log = await writeInvestigationLog(dir);
    env = { FLOWGATE_DATA_DIR: dir, FLOWGATE_MASTER_KEY: generateMasterKeyText() };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('audits a clean log: summary on stdout, progress lines on stderr, exit 0', () => {
    const run = flowgate(['audit'], env);
    expect(run.stderr).toContain('flowgate: audit: chain + machine');
    expect(run.stderr).toMatch(/flowgate: audit: chain \+ machine: \d+ in [\d.]+ s/);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`flowgate audit: sqlite at ${log.path}`);
    expect(run.stdout).toContain(`${log.codeReplay.flow}  code.reuse_detected`);
    expect(run.stdout).toContain(`${log.codeReplay.grant}  grant.revoked (reason code_reuse)`);
    expect(run.stdout).toContain('rejections   reuse_detected 2, pkce_failed 1');
    expect(run.stdout).toMatch(/projections {2}7 tables, \d+ rows: equal to a rebuild from the log/);
    expect(run.stdout.trimEnd().endsWith('findings: none')).toBe(true);
  });

  it('prints one JSON document with --json', () => {
    const run = flowgate(['audit', '--json', '--no-projections', '--since', '2000-01-01T00:00:00Z'], env);
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ ok: true, findings: { total: 0 }, projections: null, period: { since: Date.UTC(2000, 0, 1) } });
    expect(report.period.byType['refresh_token.reuse_detected']).toBe(1);
    expect(report.period.securityEvents).toEqual({ reuse_detected: 2, pkce_failed: 1 });
  });

  it('summarises the period asked for: events, incidents and security_events, not the others', () => {
    // The incidents and their rejections happened at 12:00:06 (security_events counts per
    // minute: the 12:00 minute); the sweep and the last login came after 12:01.
    const after = JSON.parse(flowgate(['audit', '--json', '--no-projections', '--since', '2026-11-29T12:01:00Z'], env).stdout);
    expect(after.period.securityEvents).toEqual({});
    expect(after.period.noticesTotal).toBe(0);
    expect(after.period.byType['flow.started']).toBeGreaterThan(0);
    expect(after.period.byType['code.reuse_detected']).toBeUndefined();
    const during = flowgate(['audit', '--no-projections', '--since', '2026-11-29T12:00:05Z', '--until', '2026-11-29T12:00:07Z'], env);
    expect(during.status).toBe(0);
    expect(during.stdout).toContain('period       2026-11-29T12:00:05Z to 2026-11-29T12:00:07Z: ');
    expect(during.stdout).toContain('rejections   reuse_detected 2, pkce_failed 1');
    expect(during.stdout).toContain(`${log.codeReplay.flow}  code.reuse_detected`);
  });

  it('signs anchors: --out FILE appends, --out - prints the JWS alone on stdout', () => {
    const file = join(dir, 'anchors.jws');
    const first = flowgate(['audit', '--anchor', '--out', file, '--no-projections'], env);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/anchor {7}signed anchor 1 at position \d+: .*, the first anchor/);
    const second = flowgate(['audit', '--anchor', '--out', '-', '--no-projections'], env);
    expect(second.status).toBe(0);
    expect(second.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(second.stderr).toContain('signed anchor 2');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(flowgate(['audit', '--anchors', file, '--no-projections'], env).status).toBe(0);
  });

  it('lists findings with stream, position and reason and exits 1', () => {
    const file = join(dir, 'anchors.jws');
    const db = new Database(log.path);
    const victim = db.prepare('SELECT global_position AS p FROM events WHERE stream_id = ? AND stream_version = 1').get(log.codeReplay.flow) as { p: number };
    db.exec('DROP TRIGGER audit_anchors_no_delete; DELETE FROM audit_anchors;');
    db.exec('DROP TRIGGER events_no_update;');
    // One byte more in the sealed client state (nothing the machine looks at).
    db.prepare("UPDATE events SET data = replace(data, '\"clientStateSealed\":\"', '\"clientStateSealed\":\"X') WHERE global_position = ?").run(victim.p);
    db.close();
    const run = flowgate(['audit', '--anchors', file, '--no-projections'], env);
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n').at(-1)).toBe('flowgate: the audit found 2 problems');
    expect(run.stdout).toContain('findings: 2 (anchor.missing 1, chain.payload_hash 1)');
    expect(run.stdout).toMatch(new RegExp(`\\s${victim.p}\\s+${log.codeReplay.flow}\\s+1\\s+chain.payload_hash\\s+data does not match its payload_hash`));
    expect(run.stdout).toMatch(/anchor\.missing\s+anchor at position \d+ \(.*anchors\.jws line 1\), issued .* is not in the database/);
  });

  it('refuses a time it cannot read, in one line', () => {
    const run = flowgate(['audit', '--since', 'last tuesday'], env);
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('flowgate: --since: cannot read "last tuesday" as a time (ISO 8601, milliseconds since the epoch, or an age like 24h or 7d)');
  });
});

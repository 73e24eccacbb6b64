/**
 * `flowgate audit`: verifies the event log (hash chains, machine re-fold, security
 * invariants, projections, signed anchors; docs/audit.md), summarises a period, and exits
 * non-zero on any finding. `--anchor` signs and stores an anchor of the log when the audit
 * finds nothing (`--out FILE` also appends it to FILE, `--out -` prints it on stdout);
 * `--anchors FILE` verifies anchors kept outside the database.
 *
 * Progress goes to stderr: a bar with events per second and an ETA on a terminal, plain
 * lines otherwise. The report goes to stdout (to stderr with `--out -`, which keeps stdout
 * for the anchor); `--json` prints one JSON document.
 *
 * @module
 */
import type { Command } from 'commander';
import { appendFileSync } from 'node:fs';
import { runAudit, terminalProgress, type AuditReport, type Finding } from '../../audit/index.js';
import { loadConfigFile } from '../../config/load.js';
import { masterKeyWarning, resolveMasterKey } from '../../crypto/master-key.js';
import { Vault } from '../../crypto/vault.js';
import { FlowgateError } from '../../errors/flowgate-error.js';
import type { SigningKey } from '../../keys/access-token-signer.js';
import { Keyring } from '../../keys/keyring.js';
import { keyringOptionsFrom } from '../../keys/settings.js';
import { openStore } from '../../store/open-store.js';
import { textTable, when } from '../table.js';
import { configOption } from './options.js';

interface AuditCliOptions {
  readonly config?: string;
  readonly since?: string;
  readonly until?: string;
  readonly json?: boolean;
  readonly anchor?: boolean;
  readonly out?: string;
  readonly anchors?: string;
  readonly projections: boolean;
  readonly workers?: string;
}

/** The audit found problems (the report says which). */
export class AuditFindingsError extends FlowgateError {
  constructor(readonly total: number) {
    super('ERR_AUDIT_FINDINGS', `the audit found ${total} problem${total === 1 ? '' : 's'}`);
  }
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A time on the command line: ISO 8601, milliseconds since the epoch, or an age (`24h`, `7d`). */
export function parseTime(option: string, text: string, now: number): number {
  const age = /^(\d+)([smhdw])$/.exec(text);
  if (age) return now - Number(age[1]) * UNITS[age[2]!]!;
  if (/^\d+$/.test(text)) return Number(text);
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed)) {
    throw new FlowgateError('ERR_USAGE', `${option}: cannot read "${text}" as a time (ISO 8601, milliseconds since the epoch, or an age like 24h or 7d)`);
  }
  return parsed;
}

const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

/** The report for people. */
export function auditText(report: AuditReport): string {
  const lines: string[] = [];
  const p = report.period;
  lines.push(`flowgate audit: ${report.database.dialect} at ${report.database.location}, log up to position ${report.upTo}`);
  lines.push(
    `  log          ${count(report.events, 'event')} in ${count(report.streams, 'stream')}; ${count(report.refolded.streams, 'stream')} re-folded through the machine version they were written with` +
      (report.refolded.notRefolded > 0 ? ` (${report.refolded.notRefolded} not: pruned or unknown machine)` : '') +
      (report.workers > 0 ? ` (${report.workers} worker threads)` : ''),
  );
  const checks = (['chain', 'machine', 'invariants', 'projections'] as const).filter((c) => report.checks[c]);
  lines.push(`  checks       ${checks.join(', ')}; ${count(report.checks.anchors, 'signed anchor')} verified`);
  const pruned = report.pruned;
  if (pruned.events > 0 || pruned.checkpoints > 0) {
    const since = pruned.sinceAnchor;
    lines.push(
      `  pruned       ${count(pruned.events, 'event')} by ${count(pruned.checkpoints, 'checkpoint')} (flowgate prune), covered by the anchors; ` +
        `${count(since.events, 'event')} by ${count(since.checkpoints, 'checkpoint')} since ${since.anchorPosition === null ? 'the start (no anchor yet)' : `the anchor at ${since.anchorPosition}`}` +
        (pruned.unrecorded > 0 ? `; ${count(pruned.unrecorded, 'checkpoint')} without their pruned-event records` : ''),
    );
  }
  const period = p.since === null && p.until === null ? 'the whole log' : `${p.since === null ? 'the start' : when(p.since)} to ${p.until === null ? 'now' : when(p.until)}`;
  const types = Object.entries(p.byType)
    .sort(([, a], [, b]) => b - a)
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
  lines.push(`  period       ${period}: ${count(p.events, 'event')}${types ? ` (${types})` : ''}`);
  if (p.noticesTotal > 0) {
    lines.push(`  incidents    ${count(p.noticesTotal, 'security-relevant event')} in the log:`);
    for (const n of p.notices) lines.push(`    ${String(n.position).padStart(8)}  ${when(n.at)}  ${n.streamId}  ${n.type}${n.detail ? ` (${n.detail})` : ''}`);
    if (p.noticesTotal > p.notices.length) lines.push(`    … and ${p.noticesTotal - p.notices.length} more`);
  } else {
    lines.push('  incidents    no code or refresh-token reuse, no revocation');
  }
  const security = Object.entries(p.securityEvents).sort(([, a], [, b]) => b - a);
  lines.push(
    `  rejections   ${security.length === 0 ? 'none recorded in security_events' : security.map(([kind, n]) => `${kind} ${n}`).join(', ')}`,
  );
  if (report.projections) {
    const tables = Object.entries(report.projections.tables);
    const rows = tables.reduce((sum, [, t]) => sum + t.live, 0);
    const differing = tables.filter(([, t]) => t.differing > 0).map(([name, t]) => `${name} ${t.differing}`);
    lines.push(
      `  projections  ${count(tables.length, 'table')}, ${count(rows, 'row')}: ${differing.length === 0 ? 'equal to a rebuild from the log' : `rows differing from a rebuild: ${differing.join(', ')}`}`,
    );
  }
  if (report.anchor) {
    if ('created' in report.anchor) {
      const a = report.anchor.created;
      lines.push(
        `  anchor       signed anchor ${a.id} at position ${a.payload.position}: ${count(a.payload.events, 'event')}, ${count(a.payload.streams, 'stream')}, digest ${a.payload.digest.slice(0, 16)}…, key ${a.payload.kid}` +
          (a.payload.previous ? `, continues the anchor at position ${a.payload.previous.position}` : ', the first anchor'),
      );
    } else {
      lines.push(`  anchor       not signed: ${report.anchor.refused}`);
    }
  }
  const f = report.findings;
  if (f.total === 0) {
    lines.push('findings: none');
  } else {
    const kinds = Object.entries(f.byKind)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ');
    lines.push(`findings: ${f.total} (${kinds})`);
    lines.push(textTable<Finding>([['  POSITION', (x) => `  ${x.position}`], ['STREAM', (x) => x.streamId], ['VERSION', (x) => (x.version === undefined ? '-' : String(x.version))], ['KIND', (x) => x.kind], ['REASON', (x) => x.reason]], f.listed));
    if (f.unlisted > 0) lines.push(`  … and ${f.unlisted} more not listed (see findings by kind above)`);
  }
  return lines.join('\n');
}

/** Registers `audit` on the program. */
export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('verify the event log: hash chains, machine re-fold, security invariants, projections, signed anchors')
    .addOption(configOption())
    .option('--since <time>', 'start of the period the summary covers (ISO 8601, epoch ms, or an age like 24h, 7d)')
    .option('--until <time>', 'end of the period the summary covers')
    .option('--json', 'print one JSON document')
    .option('--anchor', 'sign and store an anchor of the log, when the audit finds nothing')
    .option('--out <file>', "with --anchor: also append the anchor to FILE ('-' prints it on stdout)")
    .option('--anchors <file>', 'verify the anchors kept in FILE (one compact JWS per line) as well')
    .option('--no-projections', 'skip the projection rebuild and diff')
    .option('--workers <n>', 'worker threads for the stream pass on a SQLite file, plus one for the projection diff (default: one per CPU, up to 4; 0: all in the main thread)')
    .action(async (options: AuditCliOptions) => {
      const now = Date.now();
      if (options.out !== undefined && !options.anchor) throw new FlowgateError('ERR_USAGE', '--out needs --anchor');
      const since = options.since === undefined ? undefined : parseTime('--since', options.since, now);
      const until = options.until === undefined ? undefined : parseTime('--until', options.until, now);
      const workers = options.workers === undefined ? undefined : Number(options.workers);
      if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0)) {
        throw new FlowgateError('ERR_USAGE', `--workers: expected a whole number, got "${options.workers}"`);
      }
      const config = await loadConfigFile(options.config, process.env);
      const store = await openStore(config);
      try {
        let signingKey: (() => Promise<SigningKey>) | undefined;
        if (options.anchor) {
          const masterKey = resolveMasterKey({
            configured: config.masterKey,
            dataDir: config.dataDir,
            requireConfigured: config.store.databaseUrl !== undefined,
          });
          const warning = masterKeyWarning(masterKey);
          if (warning) process.stderr.write(`flowgate: warning: ${warning}\n`);
          const keyring = await Keyring.open(store.db, new Vault(store.db, masterKey.bytes), keyringOptionsFrom(config));
          signingKey = () => keyring.anchorSigningKey();
        }
        const report = await runAudit(store, {
          checks: { projections: options.projections },
          ...(since !== undefined ? { since } : {}),
          ...(until !== undefined ? { until } : {}),
          ...(options.anchors !== undefined ? { anchorsFile: options.anchors } : {}),
          ...(signingKey ? { anchor: { signingKey } } : {}),
          ...(workers !== undefined ? { workers } : {}),
          progress: terminalProgress(process.stderr),
        });
        const created = report.anchor && 'created' in report.anchor ? report.anchor.created : undefined;
        const toStdout = options.out === '-';
        if (created && options.out !== undefined && !toStdout) appendFileSync(options.out, `${created.jws}\n`);
        const text = options.json ? JSON.stringify({ ok: report.findings.total === 0, ...report }, null, 2) : auditText(report);
        (toStdout ? process.stderr : process.stdout).write(`${text}\n`);
        if (created && toStdout) process.stdout.write(`${created.jws}\n`);
        if (report.findings.total > 0) throw new AuditFindingsError(report.findings.total);
      } finally {
        await store.close();
      }
    });
}

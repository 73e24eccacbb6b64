/**
 * The compiled `flowgate` bin: `migrate` on SQLite, and clear one-line failures with a
 * non-zero exit.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, flowgate } from '../support/cli.js';

describe('flowgate migrate', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is an executable node script at the path package.json declares', () => {
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    const help = flowgate(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('migrate');
  });

  it('creates the data directory, applies the migrations, then has nothing to do', () => {
    const first = flowgate(['migrate'], { FLOWGATE_DATA_DIR: join(dir, 'data') });
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain(`sqlite at ${join(dir, 'data', 'flowgate.db')}: applied 0001-event-log, 0002-data-keys`);
    const second = flowgate(['migrate'], { FLOWGATE_DATA_DIR: join(dir, 'data') });
    expect(second.stdout).toContain('nothing to apply');
  });

  it('reads a configuration file', () => {
    const file = join(dir, 'flowgate.config.json');
    writeFileSync(file, JSON.stringify({ store: { sqlitePath: join(dir, 'from-file.db') } }));
    const run = flowgate(['migrate', '--config', file]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(join(dir, 'from-file.db'));
  });

  it('explains a bad configuration and exits non-zero', () => {
    const run = flowgate(['migrate'], { FLOWGATE_SQLITE_SYNCHRONOUS: 'sometimes', FLOWGATE_DATA_DIR: dir });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^flowgate: the configuration is not valid \(1 problem\):/);
    expect(run.stderr).toContain('store.synchronous (from FLOWGATE_SQLITE_SYNCHRONOUS)');
    expect(run.stderr).not.toContain('    at ');
  });

  it('says in one line that PostgreSQL is unreachable', () => {
    const run = flowgate(['migrate'], { FLOWGATE_DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/test' });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('cannot reach PostgreSQL at postgres://postgres:***@127.0.0.1:1/test');
    expect(run.stderr).not.toContain('hunter2');
  });

  it('says so when the configuration file is missing', () => {
    const run = flowgate(['migrate', '--config', join(dir, 'nope.json')]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('does not exist');
  });

  it('exits with a usage error on an unknown command', () => {
    const run = flowgate(['frobnicate']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("unknown command 'frobnicate'");
  });
});

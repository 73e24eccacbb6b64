/**
 * Configuration: defaults, environment overrides, and errors that name every wrong field.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, ENV_OVERRIDES, loadConfigFile, parseConfig } from '../../src/config/index.js';
import { sqlitePathOf } from '../../src/store/open-store.js';

describe('parseConfig', () => {
  it('fills every default', () => {
    const config = parseConfig();
    expect(config.dataDir).toBe('./.flowgate');
    expect(config.store).toMatchObject({ synchronous: 'FULL', busyTimeoutMs: 5000, postgresSchema: 'public', poolSize: 10 });
    expect(config.store.databaseUrl).toBeUndefined();
    expect(sqlitePathOf(config)).toBe(join('.flowgate', 'flowgate.db'));
  });

  it('applies the environment overrides of the table', () => {
    const config = parseConfig({
      values: { dataDir: '/from/file' },
      env: {
        FLOWGATE_DATA_DIR: '/data',
        FLOWGATE_DB: '/data/custom.db',
        FLOWGATE_DATABASE_URL: 'postgres://u@h:5432/db',
        FLOWGATE_DATABASE_SCHEMA: 'flowgate',
        FLOWGATE_SQLITE_SYNCHRONOUS: 'NORMAL',
      },
    });
    expect(config.dataDir).toBe('/data');
    expect(config.store).toMatchObject({
      sqlitePath: '/data/custom.db',
      databaseUrl: 'postgres://u@h:5432/db',
      postgresSchema: 'flowgate',
      synchronous: 'NORMAL',
    });
  });

  it('uses the SQLite file in the data directory unless FLOWGATE_DB says otherwise', () => {
    expect(sqlitePathOf(parseConfig({ env: { FLOWGATE_DATA_DIR: '/srv/fg' } }))).toBe('/srv/fg/flowgate.db');
    expect(sqlitePathOf(parseConfig({ env: { FLOWGATE_DATA_DIR: '/srv/fg', FLOWGATE_DB: '/x.db' } }))).toBe('/x.db');
  });

  it('lists every override in one table, each with a description', () => {
    const names = ENV_OVERRIDES.map((o) => o.name);
    expect(names).toEqual(expect.arrayContaining(['FLOWGATE_DATA_DIR', 'FLOWGATE_DB', 'FLOWGATE_DATABASE_URL']));
    expect(new Set(names).size).toBe(names.length);
    for (const o of ENV_OVERRIDES) expect(o.description.length).toBeGreaterThan(10);
  });

  it('names every wrong field, why, and where its value came from', () => {
    const error = (() => {
      try {
        parseConfig({
          values: { dataDir: '', store: { poolSize: 0, busyTimeoutMs: 'soon', colour: 'blue' }, extra: true },
          origin: '/etc/flowgate.json',
          env: { FLOWGATE_SQLITE_SYNCHRONOUS: 'sometimes', FLOWGATE_DATABASE_URL: 'mysql://nope' },
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
    expect(Object.keys(byPath).sort()).toEqual(
      ['dataDir', 'extra', 'store.busyTimeoutMs', 'store.colour', 'store.databaseUrl', 'store.poolSize', 'store.synchronous'].sort(),
    );
    expect(byPath['store.synchronous']!.source).toBe('FLOWGATE_SQLITE_SYNCHRONOUS');
    expect(byPath['store.databaseUrl']!.message).toContain('postgres://');
    expect(byPath['store.poolSize']!.source).toBe('/etc/flowgate.json');
    expect(byPath['extra']!.message).toBe('unknown option');
    expect((error as Error).message).toContain('7 problems');
  });

  it('parses integer variables and names the variable when one is not an integer', () => {
    expect(parseConfig({ env: { FLOWGATE_SQLITE_BUSY_TIMEOUT_MS: '250' } }).store.busyTimeoutMs).toBe(250);
    let error: unknown;
    try {
      parseConfig({ env: { FLOWGATE_SQLITE_BUSY_TIMEOUT_MS: '5s' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { path: 'store.busyTimeoutMs', message: 'expected an integer, got "5s"', source: 'FLOWGATE_SQLITE_BUSY_TIMEOUT_MS' },
    ]);
  });

  it('refuses a configuration that is not an object', () => {
    expect(() => parseConfig({ values: [1, 2] })).toThrow(/must be an object/);
  });
});

describe('loadConfigFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads JSON and applies environment overrides on top', async () => {
    const file = join(dir, 'flowgate.config.json');
    writeFileSync(file, JSON.stringify({ dataDir: '/from/json', store: { synchronous: 'NORMAL' } }));
    const config = await loadConfigFile(file, { FLOWGATE_DATA_DIR: '/from/env' });
    expect(config.dataDir).toBe('/from/env');
    expect(config.store.synchronous).toBe('NORMAL');
  });

  it('reads a JavaScript module whose default export is the config or a function returning it', async () => {
    const obj = join(dir, 'a.mjs');
    writeFileSync(obj, "export default { dataDir: '/from/js' };");
    expect((await loadConfigFile(obj)).dataDir).toBe('/from/js');
    const fn = join(dir, 'b.mjs');
    writeFileSync(fn, "export default async () => ({ store: { poolSize: 3 } });");
    expect((await loadConfigFile(fn)).store.poolSize).toBe(3);
  });

  it('says clearly when the file is missing, not JSON, or of an unknown kind', async () => {
    await expect(loadConfigFile(join(dir, 'missing.json'))).rejects.toThrow(/does not exist/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ nope');
    await expect(loadConfigFile(bad)).rejects.toThrow(/not valid JSON/);
    const yaml = join(dir, 'c.yaml');
    writeFileSync(yaml, 'a: 1');
    await expect(loadConfigFile(yaml)).rejects.toThrow(/\.json, \.js or \.mjs/);
  });
});

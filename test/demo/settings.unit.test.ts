/**
 * The demo's settings from the environment: `PORT` (default 8787, `FLOWGATE_PORT` wins),
 * SQLite at `./.flowgate/demo.db` or under `FLOWGATE_DATA_DIR`, `FLOWGATE_DB`, the access-token
 * TTL, a generous registration limit, a persisted demo master key, issuer = the bound URL.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { demoSettings } from '../../src/demo/app/settings.js';

const upstream = { issuer: 'http://127.0.0.1:4000', clientId: 'flowgate-demo', clientSecret: 'a-demo-upstream-secret' };

describe('demo settings', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-demo-settings-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults: port 8787 on 127.0.0.1, log level warn, demo.db in the data dir, ≥ 1000 registrations per hour', () => {
    const settings = demoSettings({ FLOWGATE_DATA_DIR: dir });
    expect(settings.base.serve).toMatchObject({ host: '127.0.0.1', port: 8787, logLevel: 'warn' });
    expect(settings.sqlitePath).toBe(join(dir, 'demo.db'));
    expect(settings.base.registration.ratePerHour).toBeGreaterThanOrEqual(1000);
    expect(settings.base.tokens.accessTokenTtlSeconds).toBe(3600);
  });

  it('PORT, FLOWGATE_PORT (which wins), FLOWGATE_LOG_LEVEL, FLOWGATE_DB and FLOWGATE_ACCESS_TOKEN_TTL', () => {
    expect(demoSettings({ FLOWGATE_DATA_DIR: dir, PORT: '9000' }).base.serve.port).toBe(9000);
    expect(demoSettings({ FLOWGATE_DATA_DIR: dir, PORT: '9000', FLOWGATE_PORT: '9001' }).base.serve.port).toBe(9001);
    const settings = demoSettings({
      FLOWGATE_DATA_DIR: dir,
      FLOWGATE_LOG_LEVEL: 'info',
      FLOWGATE_DB: join(dir, 'nested', 'x.db'),
      FLOWGATE_ACCESS_TOKEN_TTL: '30',
    });
    expect(settings.base.serve.logLevel).toBe('info');
    expect(settings.sqlitePath).toBe(join(dir, 'nested', 'x.db'));
    expect(existsSync(join(dir, 'nested'))).toBe(true);
    expect(settings.base.tokens.accessTokenTtlSeconds).toBe(30);
  });

  it('a bad PORT or TTL is a configuration error naming the variable', () => {
    expect(() => demoSettings({ FLOWGATE_DATA_DIR: dir, PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => demoSettings({ FLOWGATE_DATA_DIR: dir, PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => demoSettings({ FLOWGATE_DATA_DIR: dir, FLOWGATE_ACCESS_TOKEN_TTL: '1' })).toThrow(/FLOWGATE_ACCESS_TOKEN_TTL/);
  });

  it('persists a demo master key in the data dir and reuses it; FLOWGATE_MASTER_KEY wins', () => {
    const first = demoSettings({ FLOWGATE_DATA_DIR: dir });
    expect(first.masterKey).toMatchObject({ path: resolve(dir, 'master.key'), generated: true });
    expect(readFileSync(join(dir, 'master.key'), 'utf8').trim()).toBe(first.masterKey.text);
    const again = demoSettings({ FLOWGATE_DATA_DIR: dir });
    expect(again.masterKey).toMatchObject({ text: first.masterKey.text, generated: false });
    const key = 'A'.repeat(43);
    const configured = demoSettings({ FLOWGATE_DATA_DIR: dir, FLOWGATE_MASTER_KEY: key });
    expect(configured.masterKey).toEqual({ text: key, generated: false });
  });

  it('the full configuration: issuer = the bound URL, resource <url>/mcp, the IdP as an OIDC upstream', () => {
    const config = demoSettings({ FLOWGATE_DATA_DIR: dir }).configFor('http://127.0.0.1:8787', upstream);
    expect(config.server.issuer).toBe('http://127.0.0.1:8787');
    expect(config.server.resources).toEqual([{ uri: 'http://127.0.0.1:8787/mcp' }]);
    expect(config.upstream).toMatchObject({ kind: 'oidc', issuer: upstream.issuer, clientId: 'flowgate-demo', clientSecret: upstream.clientSecret });
    expect(config.masterKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

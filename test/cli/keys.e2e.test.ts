/**
 * The compiled `flowgate keys` commands against a temporary data directory: list (table and
 * JSON), rotate, retire, prune, rewrap (master-key rotation: afterwards the new key opens
 * the store and the old one is refused), and clear one-line refusals with exit 1.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flowgate, type CliRun } from '../support/cli.js';

const readKey = (path: string): string => readFileSync(path, 'utf8').trim();

interface ListedKey {
  kid: string;
  purpose: string;
  alg: string;
  state: string;
  createdAt: string;
  activatedAt: string | null;
  retiredAt: string | null;
  notAfter: string | null;
  removedAt: string | null;
  publicJwk: Record<string, string> | null;
}

describe('flowgate keys', { timeout: 90_000 }, () => {
  let dir: string;
  let env: Record<string, string>;
  const keys = (...args: string[]): CliRun => flowgate(['keys', ...args], env);
  const list = (): ListedKey[] => {
    const run = keys('list', '--json');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    return JSON.parse(run.stdout) as ListedKey[];
  };
  const activeKid = (purpose: string) => list().find((k) => k.purpose === purpose && k.state === 'active')!.kid;
  const expectOneLineFailure = (run: CliRun, pattern: RegExp) => {
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^flowgate: /);
    expect(run.stderr).toMatch(pattern);
    expect(run.stderr).not.toContain('    at ');
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-keys-'));
    env = { FLOWGATE_DATA_DIR: join(dir, 'data'), FLOWGATE_MASTER_KEY: randomBytes(32).toString('base64url') };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the first keys as a table and as JSON', () => {
    const table = keys('list');
    expect(table.stderr).toBe('');
    expect(table.status).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^KID\s+PURPOSE\s+ALG\s+STATE\s+CREATED\s+ACTIVATED\s+RETIRED\s+NOT AFTER\s+REMOVED$/);
    expect(lines).toHaveLength(4);
    expect(table.stdout).toMatch(/access_token\s+ES256\s+active\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    expect(table.stdout).toMatch(/cookie\s+HS256\s+active/);
    expect(table.stdout).toMatch(/anchor\s+ES256\s+active/);

    const json = list();
    expect(json.map((k) => [k.purpose, k.state]).sort()).toEqual([
      ['access_token', 'active'],
      ['anchor', 'active'],
      ['cookie', 'active'],
    ]);
    expect(json.find((k) => k.purpose === 'access_token')!.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(JSON.stringify(json)).not.toContain('"d"');
    // The same keys on the next run: nothing is created twice.
    expect(list()).toEqual(json);
  });

  it('rotates in two steps and shows the states', () => {
    const first = activeKid('access_token');
    const staged = keys('rotate');
    expect(staged.status).toBe(0);
    expect(staged.stdout).toMatch(/^flowgate: access_token: staged \S+ as the next key \(published in the JWKS, not signing yet/);
    const next = list().find((k) => k.state === 'next')!;
    expect(staged.stdout).toContain(next.kid);

    const promoted = keys('rotate', '--purpose', 'access_token');
    expect(promoted.status).toBe(0);
    expect(promoted.stdout).toContain(`flowgate: access_token: ${next.kid} is now active; ${first} retired, trusted until `);
    const after = list();
    expect(after.find((k) => k.kid === next.kid)!.state).toBe('active');
    const old = after.find((k) => k.kid === first)!;
    expect(old.state).toBe('retired');
    // not_after = retirement + 1 h token lifetime + 60 s skew + 5 s refresh.
    expect(Date.parse(old.notAfter!) - Date.parse(old.retiredAt!)).toBe(3_665_000);

    expect(keys('rotate', '--purpose', 'cookie').status).toBe(0);
    expect(list().filter((k) => k.purpose === 'cookie').map((k) => k.state).sort()).toEqual(['active', 'next']);
  });

  it('refuses to rotate or retire anchor keys, with the reason', () => {
    expectOneLineFailure(keys('rotate', '--purpose', 'anchor'), /anchor keys are never rotated: they sign the audit anchors/);
    expectOneLineFailure(keys('retire', activeKid('anchor')), /anchor keys are never retired/);
    const bogus = keys('rotate', '--purpose', 'everything');
    expect(bogus.status).toBe(2);
    expect(bogus.stderr).toContain("Allowed choices are access_token, cookie, anchor");
  });

  it('names an unknown kid', () => {
    expectOneLineFailure(keys('retire', 'no-such-kid'), /there is no signing key with kid no-such-kid/);
  });

  it('retires the active key (replacing it), and prunes a key retired --now', () => {
    const first = activeKid('access_token');
    const retired = keys('retire', first);
    expect(retired.status).toBe(0);
    expect(retired.stdout).toMatch(new RegExp(`^flowgate: retired ${first} \\(access_token\\), trusted until \\S+; \\S+ is now the active access_token key`));
    expect(keys('prune').stdout).toBe('flowgate: nothing to prune\n');
    expect(keys('retire', first).stdout).toContain(`${first} was already retired`);

    const now = keys('retire', first, '--now');
    expect(now.status).toBe(0);
    const pruned = keys('prune');
    expect(pruned.stdout).toBe(`flowgate: removed 1 retired key(s): ${first}\n`);
    const row = list().find((k) => k.kid === first)!;
    expect(row.removedAt).not.toBeNull();
    expect(list().filter((k) => k.state === 'active')).toHaveLength(3);
  });

  it('refuses to open the keys with another master key', () => {
    list();
    env = { ...env, FLOWGATE_MASTER_KEY: randomBytes(32).toString('base64url') };
    expectOneLineFailure(keys('list'), /does not open with the master key/);
  });

  it('warns about a development master key, and generates a master key on request', () => {
    env = { FLOWGATE_DATA_DIR: join(dir, 'data') };
    const run = keys('list');
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('flowgate: warning: using a development master key');
    expect(existsSync(join(dir, 'data', 'master.key'))).toBe(true);
    const generated = keys('generate-master');
    expect(generated.status).toBe(0);
    expect(generated.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
  });

  it('rotates the master key with rewrap: the new key opens the store, the old one is refused', () => {
    keys('rotate');
    const before = list();
    const oldKey = env.FLOWGATE_MASTER_KEY!;
    const newKeyFile = join(dir, 'new.key');
    writeFileSync(newKeyFile, keys('generate-master').stdout, { mode: 0o600 });

    const run = keys('rewrap', '--new-master-key-file', newKeyFile);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TABLE\s+REWRAPPED\s+ALREADY NEW\s+SKIPPED$/);
    expect(lines[1]).toMatch(/^data_keys\s+0\s+0\s+0$/);
    expect(lines[2]).toMatch(/^signing_keys\s+4\s+0\s+0$/);
    expect(lines[3]).toMatch(/^flowgate: the keys are now under the new master key; restart every instance with it/);

    expectOneLineFailure(keys('list'), /does not open with the master key/);
    env = { ...env, FLOWGATE_MASTER_KEY: readKey(newKeyFile) };
    expect(list()).toEqual(before);
    expect(keys('rotate').status).toBe(0);

    // Run again (old key as current): everything is already under the new key.
    env = { ...env, FLOWGATE_MASTER_KEY: oldKey };
    const again = keys('rewrap', '--new-master-key-file', newKeyFile, '--json');
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({
      dataKeys: { rewrapped: 0, alreadyNew: 0, skipped: 0 },
      signingKeys: { rewrapped: 0, alreadyNew: 4, skipped: 0 },
    });
  });

  it('refuses to rewrap with the same key, a wrong current key, or an unreadable new key, changing nothing', () => {
    const before = list();
    const sameFile = join(dir, 'same.key');
    writeFileSync(sameFile, `${env.FLOWGATE_MASTER_KEY}\n`);
    expectOneLineFailure(keys('rewrap', '--new-master-key-file', sameFile), /the new master key is the current one/);
    expectOneLineFailure(keys('rewrap', '--new-master-key-file', join(dir, 'missing.key')), /cannot read the new master key from .*missing\.key: ENOENT/);
    const badFile = join(dir, 'bad.key');
    writeFileSync(badFile, 'not a key\n');
    expectOneLineFailure(keys('rewrap', '--new-master-key-file', badFile), /bad\.key: the master key must be 32 bytes/);
    const newFile = join(dir, 'new.key');
    writeFileSync(newFile, randomBytes(32).toString('hex'));
    const current = env.FLOWGATE_MASTER_KEY!;
    env = { ...env, FLOWGATE_MASTER_KEY: randomBytes(32).toString('base64url') };
    expectOneLineFailure(
      keys('rewrap', '--new-master-key-file', newFile),
      /the private key of signing key \S+ does not open with the current master key \(nor with the new one\).*nothing was changed/,
    );
    env = { ...env, FLOWGATE_MASTER_KEY: current };
    expect(list()).toEqual(before);
    // The key is never taken from argv.
    expect(keys('rewrap').status).toBe(2);
    expect(keys('rewrap', '--new-master-key', current).status).toBe(2);
  });
});

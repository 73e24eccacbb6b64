/**
 * How a process manager stops `npm start`: SIGTERM to npm. npm passes it to the `sh -c` that
 * runs the script, which dies without passing it on; the demo notices that npm's shell is
 * gone and stops as if signalled, instead of living on orphaned with its ports open.
 * (Ctrl-C in a terminal signals the whole process group: npm-start.e2e.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killGroup, refused, spawnNpmStart, type SpawnedDemo } from './spawn-demo.js';

describe('npm start, stopped by SIGTERM to npm', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-demo-term-'));
  let demo: SpawnedDemo | undefined;

  afterAll(() => {
    killGroup(demo);
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops the demo too: flowgate and the IdP no longer listen', { timeout: 60_000 }, async () => {
    demo = await spawnNpmStart({ PORT: '0', FLOWGATE_DATA_DIR: dir });
    process.kill(demo.child.pid!, 'SIGTERM');
    await demo.exited; // every end of npm's pipes is closed: the demo process has exited too
    expect(demo.output.stderr).toContain('flowgate demo: npm went away, stopping too');
    expect(demo.output.stderr).toContain('flowgate demo: stopped');
    expect(await refused(`${demo.url}/healthz`)).toBe(true);
    expect(await refused(`${demo.idpUrl}/.well-known/openid-configuration`)).toBe(true);
  });
});

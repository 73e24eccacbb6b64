/** Runs the compiled `flowgate` bin (built by the global setup) as a user would. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: { flowgate: string } };

/** The absolute path of the bin package.json declares. */
export const BIN = join(root, pkg.bin.flowgate);

/** What a CLI run printed and how it exited. */
export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `flowgate ...args` with only the given FLOWGATE_* variables set. */
export function flowgate(args: readonly string[], env: Record<string, string> = {}, cwd = root): CliRun {
  const buildError = inject('buildError');
  if (buildError) throw new Error(`dist/ could not be built:\n${buildError}`);
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOWGATE_')));
  const result = spawnSync(process.execPath, [BIN, ...args], { env: { ...clean, ...env }, cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

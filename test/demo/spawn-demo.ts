/**
 * Runs `npm start` (the compiled `flowgate demo`, built by the global setup) as a newcomer
 * would, in its own process group, and reads what it prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/** A running `npm start`. */
export interface SpawnedDemo {
  readonly child: ChildProcess;
  /** Everything printed so far. */
  readonly output: { stdout: string; stderr: string };
  /** flowgate's URL, the MCP URL and the IdP's URL, as printed. */
  readonly url: string;
  readonly mcpUrl: string;
  readonly idpUrl: string;
  /** Milliseconds from spawn to the `ready` line. */
  readonly readyMs: number;
  /** Resolves with npm's exit once it has exited and its output is closed. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The pids below `pid` (Linux /proc), deepest last. */
export function descendants(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const parent = new Map<number, number>();
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid … — comm may contain spaces, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(entry), ppid);
    } catch {
      // the process ended meanwhile
    }
  }
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length) {
    const next = [...parent].filter(([, ppid]) => frontier.includes(ppid)).map(([child]) => child);
    found.push(...next);
    frontier = next;
  }
  return found;
}

/** The command line of a process ('' when gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

function field(stdout: string, label: string): string {
  const match = new RegExp(`^\\s*${label}\\s+(http://\\S+)`, 'm').exec(stdout);
  if (!match) throw new Error(`no "${label}" line in:\n${stdout}`);
  return match[1]!.replace(/\/$/, '');
}

/** Spawns `npm start` with `env` (no inherited FLOWGATE_* variables) and waits for `ready`. */
export async function spawnNpmStart(env: Record<string, string>, timeoutMs = 45_000): Promise<SpawnedDemo> {
  const buildError = inject('buildError');
  if (buildError) throw new Error(`dist/ could not be built:\n${buildError}`);
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOWGATE_') && k !== 'PORT'));
  const started = performance.now();
  const child = spawn('npm', ['start'], { cwd: root, env: { ...clean, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output.stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output.stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const readyMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no "ready" line within ${timeoutMs} ms\nstdout:\n${output.stdout}\nstderr:\n${output.stderr}`));
    }, timeoutMs);
    const check = () => {
      if (/ready/.test(output.stdout)) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(Math.round(performance.now() - started));
      }
    };
    const stop = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    child.stdout!.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code ?? signal}) before "ready"\nstdout:\n${output.stdout}\nstderr:\n${output.stderr}`));
    });
  });
  return {
    child,
    output,
    url: field(output.stdout, 'Start page'),
    mcpUrl: field(output.stdout, 'MCP server'),
    idpUrl: field(output.stdout, 'Upstream IdP'),
    readyMs,
    exited,
  };
}

/** Kills what is left of a spawned demo's process group (cleanup after a failure). */
export function killGroup(demo: SpawnedDemo | undefined): void {
  if (!demo?.child.pid) return;
  try {
    process.kill(-demo.child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** True when nothing listens at `url` any more (connection refused). */
export async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
  }
}

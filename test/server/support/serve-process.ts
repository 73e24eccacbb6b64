/**
 * `flowgate serve` as a child process, the way an operator runs it: the compiled bin, only
 * the FLOWGATE_* variables the test sets, stdout read until the `flowgate: ready` line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { inject } from 'vitest';
import { BIN } from '../../support/cli.js';

/** How a child process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Milliseconds from spawn to exit. */
  readonly ms: number;
}

/** A spawned `flowgate` process. */
export interface FlowgateProcess {
  readonly child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited (its output fully read). */
  readonly exited: Promise<Exit>;
  /** Waits until stdout or stderr contains `text` (rejects if the process exits first). */
  waitFor(stream: 'stdout' | 'stderr', text: string, timeoutMs?: number): Promise<void>;
  /** Sends `signal` if the process still runs. */
  signal(signal: NodeJS.Signals): void;
}

/** A `flowgate serve` that printed `ready`. */
export interface ServeProcess extends FlowgateProcess {
  /** The URL from the `listening on` line. */
  readonly url: string;
  /** The issuer from the same line. */
  readonly issuer: string;
}

/** The environment of a child: the parent's without any FLOWGATE_* variable, plus `env`. */
function childEnv(env: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOWGATE_')));
  return { ...clean, ...env };
}

/** Spawns `flowgate ...args` (the compiled bin) and collects its output. */
export function spawnFlowgate(args: readonly string[], env: Readonly<Record<string, string>> = {}): FlowgateProcess {
  const buildError = inject('buildError');
  if (buildError) throw new Error(`dist/ could not be built:\n${buildError}`);
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out.stdout += chunk;
    notify();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    out.stderr += chunk;
    notify();
  });
  let ended = false;
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject);
    // 'close' (not 'exit'): the pipes are drained, so stdout/stderr are complete.
    child.once('close', (code, signal) => {
      ended = true;
      notify();
      resolve({ code, signal, ms: performance.now() - started });
    });
  });
  const waitFor = (stream: 'stdout' | 'stderr', text: string, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no "${text}" on ${stream} within ${timeoutMs} ms\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`));
      }, timeoutMs);
      function check() {
        if (out[stream].includes(text)) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        } else if (ended) {
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`flowgate exited before printing "${text}"\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`));
        }
      }
      waiters.add(check);
      check();
    });
  return {
    child,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    exited,
    waitFor,
    signal(signal) {
      if (!ended && child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/**
 * Starts `flowgate serve` and resolves once it printed `flowgate: ready`, with the URL and
 * issuer of its `listening on` line. A process that exits first rejects with its output.
 */
export async function startServe(args: readonly string[], env: Readonly<Record<string, string>> = {}, timeoutMs = 45_000): Promise<ServeProcess> {
  const proc = spawnFlowgate(['serve', ...args], env);
  try {
    await proc.waitFor('stdout', 'flowgate: ready\n', timeoutMs);
  } catch (error) {
    proc.signal('SIGKILL');
    throw error;
  }
  const listening = /^flowgate: listening on (\S+) \(issuer (\S+)\)$/m.exec(proc.stdout());
  if (!listening) {
    proc.signal('SIGKILL');
    throw new Error(`no "listening on" line before ready:\n${proc.stdout()}`);
  }
  return { ...proc, url: listening[1]!, issuer: listening[2]! };
}

/** Stops `proc` (SIGKILL) unless it has already exited; for `afterAll`/`finally` clean-up. */
export async function killIfRunning(proc: FlowgateProcess | undefined): Promise<void> {
  if (!proc) return;
  proc.signal('SIGKILL');
  await proc.exited.catch(() => {});
}

/**
 * The real side of the engine model test: an engine from `openTestEngine` on a fresh store,
 * the two browsers' binding cookies, and a registry of every plaintext secret the run
 * generated or received (for the no-plaintext-secret check, security-invariants item 40).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Engine } from '../../../src/engine/engine.js';
import { openTestEngine, type TestEngine } from '../../support/engine.js';
import type { StoreTarget } from '../../support/stores.js';
import { BROWSER_NAMES, type BrowserName, type ModelSettings } from './model.js';

/** A browser: the plaintext of its binding cookie (a secret) and the hash the engine sees. */
export interface Browser {
  readonly cookie: string;
  readonly hash: string;
}

/** Counters over a whole property (what the runs actually exercised). */
export class Coverage {
  readonly counts = new Map<string, number>();
  runs = 0;
  commands = 0;
  bump(key: string, by = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + by);
  }
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  summary(): string {
    const rows = [...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b));
    return [`${this.runs} runs, ${this.commands} commands`, ...rows.map(([k, v]) => `  ${k}: ${v}`)].join('\n');
  }
}

/** The system under test for one run. */
export interface Real {
  readonly t: TestEngine;
  /** Replaced by `Restart` (a new engine over the same store). */
  engine: Engine;
  readonly browsers: Readonly<Record<BrowserName, Browser>>;
  /** Plaintext secrets this run made or received, with a label saying what each is (append-only). */
  readonly secrets: Array<readonly [secret: string, label: string]>;
  readonly secretLabels: Map<string, string>;
  /** How many of the engine random source's secrets are in `secrets` already. */
  randomSeen: number;
  /** What the run did, one line per command (printed with a failure). */
  readonly trace: string[];
  readonly coverage: Coverage;
  /** Commands run so far; the hash chain is verified every `chainEvery`. */
  commandsRun: number;
  readonly chainEvery: number;
  /** One callback per command run so far: each stamps its command as part of a failing run. */
  readonly ran: Array<() => void>;
  /** The log head and live tables of the last rebuild check. */
  readonly checked: { head: number; tables: unknown };
  /** How far the secret scan got: events up to `position` were scanned for the first `secrets` secrets. */
  readonly scanned: { position: number; secrets: number };
}

/** A random base64url value (the model's own secrets: client verifiers, states, upstream tokens). */
export function randomValue(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

/** Opens a fresh engine on `target` for one run. */
export async function openReal(
  target: StoreTarget,
  settings: ModelSettings,
  coverage: Coverage,
  options: { chainEvery?: number } = {},
): Promise<Real> {
  const t = await openTestEngine(target, { settings });
  const browsers = {} as Record<BrowserName, Browser>;
  for (const name of BROWSER_NAMES) {
    const cookie = randomValue(32);
    browsers[name] = { cookie, hash: sha256(cookie) };
  }
  const real: Real = {
    t,
    engine: t.engine,
    browsers,
    secrets: [],
    secretLabels: new Map(),
    randomSeen: 0,
    trace: [],
    coverage,
    commandsRun: 0,
    chainEvery: options.chainEvery ?? 1,
    ran: [],
    checked: { head: -1, tables: null },
    scanned: { position: 0, secrets: 0 },
  };
  for (const name of BROWSER_NAMES) remember(real, browsers[name].cookie, `browser ${name} binding cookie`);
  return real;
}

/** Records a plaintext secret the run must never find in the log. */
export function remember(r: Real, value: string | null | undefined, label: string): void {
  if (!value || r.secretLabels.has(value)) return;
  r.secretLabels.set(value, label);
  r.secrets.push([value, label]);
}

/** Every secret so far (append-only order): the registry plus what the engine's random source produced. */
export function allSecrets(r: Real): ReadonlyArray<readonly [string, string]> {
  const produced = r.t.random.secrets;
  for (; r.randomSeen < produced.length; r.randomSeen++) remember(r, produced[r.randomSeen], 'engine random token');
  return r.secrets;
}

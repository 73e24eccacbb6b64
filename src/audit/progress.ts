/**
 * Audit progress on a terminal: a bar with events per second and an ETA, redrawn in place
 * at most ten times a second when stderr is a TTY; plain lines (at the start and end of
 * each phase, and every few seconds) otherwise, for logs and CI.
 *
 * @module
 */
import type { AuditProgress } from './types.js';

/** Where progress goes (process.stderr, or a fake in tests). */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

const n = (value: number) => Math.round(value).toLocaleString('en');

/** Progress for a terminal or a log; see the module comment. */
export function terminalProgress(
  stream: ProgressStream = process.stderr,
  options: { readonly now?: () => number; readonly intervalMs?: number } = {},
): AuditProgress {
  const now = options.now ?? (() => performance.now());
  const tty = stream.isTTY === true;
  const interval = options.intervalMs ?? (tty ? 100 : 5000);
  let phase = '';
  let total = 0;
  let done = 0;
  let started = 0;
  let drawn = 0;
  let active = false;

  const rate = () => {
    const seconds = (now() - started) / 1000;
    return seconds > 0 ? done / seconds : 0;
  };

  const line = () => {
    const r = rate();
    const eta = total > 0 && r > 0 ? clock((total - done) / r) : '--:--';
    const count = total > 0 ? `${n(done)}/${n(total)}` : n(done);
    return { r, eta, count };
  };

  const draw = (force: boolean) => {
    const t = now();
    if (!force && t - drawn < interval) return;
    drawn = t;
    const { r, eta, count } = line();
    if (tty) {
      const width = 24;
      const fraction = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(fraction * width);
      const bar = total > 0 ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ` : '';
      const text = `${phase} ${bar}${count}  ${n(r)}/s  ETA ${eta}`;
      stream.write(`\r\x1b[K${text.slice(0, Math.max(20, (stream.columns ?? 120) - 1))}`);
    } else {
      const pct = total > 0 ? ` (${Math.floor((done / Math.max(total, 1)) * 100)}%)` : '';
      stream.write(`flowgate: audit: ${phase}: ${count}${pct}, ${n(r)}/s, ETA ${eta}\n`);
    }
  };

  const close = () => {
    if (!active) return;
    active = false;
    const seconds = (now() - started) / 1000;
    const summary = `${phase}: ${n(done)} in ${seconds.toFixed(1)} s (${n(rate())}/s)`;
    stream.write(tty ? `\r\x1b[K${summary}\n` : `flowgate: audit: ${summary}\n`);
  };

  return {
    phase(name, expected) {
      close();
      phase = name;
      total = expected;
      done = 0;
      started = now();
      drawn = started;
      active = true;
      if (!tty) stream.write(`flowgate: audit: ${name}${expected > 0 ? ` (${n(expected)})` : ''}\n`);
    },
    advance(count) {
      done += count;
      draw(false);
    },
    end() {
      close();
    },
  };
}

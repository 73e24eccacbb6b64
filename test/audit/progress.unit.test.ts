/**
 * Audit progress: a bar redrawn in place with events per second and an ETA on a terminal,
 * plain lines (start, every few seconds, end) when stderr is not a terminal.
 */
import { describe, expect, it } from 'vitest';
import { terminalProgress } from '../../src/audit/index.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { isTTY, columns: 100, write: (text: string) => writes.push(text) }, writes };
}

describe('terminal progress', () => {
  it('draws a bar with rate and ETA on a TTY, and a summary line per phase', () => {
    let ms = 0;
    const { stream, writes } = fakeStream(true);
    const progress = terminalProgress(stream, { now: () => ms });
    progress.phase('chain + machine', 1000);
    ms = 1000;
    progress.advance(250);
    expect(writes.at(-1)).toBe('\r\x1b[Kchain + machine [######..................]  25% 250/1,000  250/s  ETA 0:03');
    ms = 1050;
    progress.advance(10);
    expect(writes).toHaveLength(1);
    ms = 2000;
    progress.advance(250);
    progress.phase('global order', 1000);
    expect(writes.at(-1)).toBe('\r\x1b[Kchain + machine: 510 in 2.0 s (255/s)\n');
    progress.end();
    expect(writes.at(-1)).toBe('\r\x1b[Kglobal order: 0 in 0.0 s (0/s)\n');
  });

  it('writes plain lines when stderr is not a terminal', () => {
    let ms = 0;
    const { stream, writes } = fakeStream(false);
    const progress = terminalProgress(stream, { now: () => ms });
    progress.phase('chain + machine', 2_000_000);
    ms = 1000;
    progress.advance(100_000);
    ms = 6000;
    progress.advance(400_000);
    progress.end();
    expect(writes).toEqual([
      'flowgate: audit: chain + machine (2,000,000)\n',
      'flowgate: audit: chain + machine: 500,000/2,000,000 (25%), 83,333/s, ETA 0:18\n',
      'flowgate: audit: chain + machine: 500,000 in 6.0 s (83,333/s)\n',
    ]);
  });
});

/**
 * docs/compatibility.md stays true: every flowgate test it cites (`ALIAS › "name"`) exists in
 * the file the alias names, every difference it refers to (Dn) is described, and the summary
 * counts equal what the tables say.
 *
 * Checked by hand: renaming a cited test, or changing one row's status, makes this fail.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(root, 'docs', 'compatibility.md'), 'utf8');

function aliases(): Map<string, string> {
  const map = new Map<string, string>();
  for (const match of doc.matchAll(/^\| ([A-Z]{2,4}) \| `(test\/[^`]+)` \|$/gm)) map.set(match[1]!, match[2]!);
  return map;
}

/** A test file's text with the escapes of its string literals undone (`\'`, `\\`). */
function source(file: string): string {
  return readFileSync(join(root, file), 'utf8').replace(/\\\\/g, '\\').replace(/\\'/g, "'");
}

describe('docs/compatibility.md', () => {
  it('names existing test files, and every cited test exists in its file', () => {
    const files = aliases();
    expect(files.size).toBeGreaterThan(30);
    for (const [alias, file] of files) expect(existsSync(join(root, file)), `${alias}: ${file}`).toBe(true);
    const sources = new Map([...files].map(([alias, file]) => [alias, source(file)]));
    const citations = [...doc.matchAll(/\b([A-Z]{2,4}) › "([^"]+)"/g)];
    expect(citations.length).toBeGreaterThan(400);
    const missing = citations
      .map(([, alias, name]) => [alias!, name!.replace(/\s+/g, ' ')] as const)
      .filter(([alias, name]) => !sources.get(alias)?.includes(name))
      .map(([alias, name]) => `${alias} › ${name}`);
    expect(missing).toEqual([]);
  });

  it('describes every difference a row refers to', () => {
    const referred = new Set([...doc.matchAll(/\*\*differs \(D(\d+)\)\*\*/g)].map((m) => Number(m[1])));
    const described = new Set([...doc.matchAll(/^\*\*D(\d+) — /gm)].map((m) => Number(m[1])));
    for (const n of referred) expect(described.has(n), `D${n}`).toBe(true);
  });

  it('has summary counts that match the tables', () => {
    const rows = doc.split('\n').filter((line) => /^\| `[^`]+`( \(class\))? \| /.test(line));
    const count = (pattern: RegExp) => rows.filter((row) => pattern.test(row)).length;
    const summary = (label: string) => Number(new RegExp(`^\\| ${label}[^|]*\\| \\**(\\d+)\\** \\|$`, 'm').exec(doc)?.[1]);
    const mapped = count(/\| \*\*mapped\*\* — /);
    const differs = count(/\| \*\*differs \(D\d+\)\*\* — /);
    const na = count(/\| \*\*n\/a\*\* — /);
    const pending = count(/\| \*\*pending: /);
    const fixtures = count(/\| fixture/);
    expect(mapped + differs + na + pending + fixtures).toBe(rows.length);
    expect(summary('mapped to a flowgate test, same behaviour')).toBe(mapped);
    expect(summary('mapped to a flowgate test, flowgate deliberately differs')).toBe(differs);
    expect(summary('does not apply')).toBe(na);
    expect(summary('pending')).toBe(pending);
    expect(summary('\\*\\*total tests\\*\\*')).toBe(mapped + differs + na + pending);
    expect(summary('fixture classes')).toBe(fixtures);
  });
});

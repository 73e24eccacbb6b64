/**
 * Every projection table is either cleaned by retention (src/audit/archive/
 * projection-retention.ts, `PRUNED_ROWS`) or kept on purpose (`KEPT_TABLES`): a new read
 * view cannot keep rows of pruned streams unnoticed.
 *
 * Checked by mutation: with `jti_mappings` removed from `PRUNED_ROWS`, this test failed
 * naming it; restored.
 */
import { describe, expect, it } from 'vitest';
import { KEPT_TABLES, PRUNED_ROWS } from '../../src/audit/archive/projection-retention.js';
import { PROJECTIONS } from '../../src/projections/index.js';

describe('retention covers every projection table', () => {
  it('lists each table as pruned or kept, never both', () => {
    const tables = PROJECTIONS.flatMap((p) => p.tables);
    expect(tables.length).toBeGreaterThan(5);
    for (const table of tables) {
      const pruned = table in PRUNED_ROWS;
      const kept = table in KEPT_TABLES;
      expect(pruned !== kept, `${table}: pruned ${pruned}, kept ${kept}`).toBe(true);
    }
    expect(Object.keys(PRUNED_ROWS).filter((t) => !tables.includes(t))).toEqual([]);
  });
});

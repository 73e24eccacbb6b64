/**
 * docs/models.md is generated (scripts/generate-models-doc.ts) from the machine definitions,
 * the projections and the migrated schema, and stays current.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MACHINES } from '../../machines/registry.js';
import { toMermaid } from '../../src/engine/statechart.js';
import { PROJECTIONS } from '../../src/projections/index.js';
import { eventDocs, MODELS_DOC, projectionColumns, renderModelsDoc } from '../../scripts/generate-models-doc.js';

describe('docs/models.md', () => {
  it('matches the generator (run `npm run docs:models` after changing a machine, a projection or the schema)', async () => {
    expect(readFileSync(MODELS_DOC, 'utf8')).toBe(await renderModelsDoc());
  });

  it('shows every machine with its generated diagram', async () => {
    const doc = await renderModelsDoc();
    for (const entry of MACHINES) {
      expect(doc).toContain(`### \`${entry.id}\` (version ${entry.version})`);
      expect(doc).toContain(['```mermaid', toMermaid(entry.machine).trimEnd(), '```'].join('\n'));
    }
  });

  it('lists every column of every projection table', async () => {
    const doc = await renderModelsDoc();
    const tables = PROJECTIONS.flatMap((p) => p.tables);
    const columns = await projectionColumns(tables);
    for (const table of tables) {
      expect(doc).toContain(`### \`${table}\` ↔ `);
      for (const column of columns.get(table)!) expect(doc, `${table}.${column.name}`).toContain(`| \`${column.name}\` |`);
    }
  });

  it('reads event meanings from the doc comments of the event interfaces', () => {
    const docs = eventDocs(
      'example.ts',
      [
        '/** The code was redeemed (once). More detail here. */',
        "export interface CodeRedeemed extends RedemptionFields { readonly type: 'code.redeemed'; }",
        '/** Not an event. */',
        'export interface Other { readonly at: number; }',
      ].join('\n'),
    );
    expect([...docs]).toEqual([['code.redeemed', 'The code was redeemed (once).']]);
    expect(() => eventDocs('bad.ts', "export interface X { readonly type: 'x.happened'; }")).toThrow(/no doc comment/);
  });
});

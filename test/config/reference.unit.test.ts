/**
 * docs/configuration.md is generated from the schema and stays current; every option is
 * documented.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_OVERRIDES } from '../../src/config/env.js';
import { listOptions, renderConfigReference } from '../../src/config/reference.js';

describe('configuration reference', () => {
  it('docs/configuration.md matches the schema (run `npm run docs:config` after changing it)', () => {
    const file = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
    expect(file).toBe(renderConfigReference());
  });

  it('documents every option, and every environment variable sets a real option', () => {
    const options = listOptions();
    for (const o of options) expect(o.description, o.path).not.toBe('');
    const paths = new Set(options.map((o) => o.path));
    for (const o of ENV_OVERRIDES) expect(paths.has(o.path), o.name).toBe(true);
  });
});

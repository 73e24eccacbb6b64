/**
 * The examples and the docs import flowgate by its package name (`flowgate`,
 * `flowgate/express`, …). Published, those names resolve through package.json `exports` to
 * `dist/`; in this repository, tsc and tsx resolve them through tsconfig.json `paths` and
 * vitest through the aliases vitest.config.ts derives from `exports` — all three must name
 * the same modules, or an example would compile against one module and run another.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fromPackageName from 'flowgate';
import * as fromSource from '../../src/index.js';
import * as expressFromPackageName from 'flowgate/express';
import * as expressFromSource from '../../src/resource/express.js';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string; exports: Record<string, string | { types?: string; default?: string }> };
const tsconfig = JSON.parse(readFileSync('tsconfig.json', 'utf8')) as { compilerOptions: { paths?: Record<string, string[]> }; include: string[] };

/** `exports` as package name → source file (`./dist/src/x.js` → `./src/x.ts`). */
function sourcesOfExports(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const built = typeof target === 'string' ? target : target.default;
    if (!built?.startsWith('./dist/src/')) continue;
    out[subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`] = built.replace('./dist/', './').replace(/\.js$/, '.ts');
  }
  return out;
}

describe('flowgate resolves to its sources in this repository', () => {
  it('tsconfig.json paths map exactly the published exports to their source files', () => {
    const expected = Object.fromEntries(Object.entries(sourcesOfExports()).map(([name, file]) => [name, [file]]));
    expect(Object.keys(expected).sort()).toEqual(['flowgate', 'flowgate/express', 'flowgate/hono', 'flowgate/mcp-sdk', 'flowgate/node']);
    expect(tsconfig.compilerOptions.paths).toEqual(expected);
    for (const [name, file] of Object.entries(sourcesOfExports())) expect(existsSync(file), `${name} → ${file}`).toBe(true);
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue;
      expect(target.types, subpath).toBe(target.default?.replace(/\.js$/, '.d.ts'));
    }
  });

  it('vitest resolves the package name to the same modules as the relative imports', () => {
    expect(fromPackageName.createFlowgate).toBe(fromSource.createFlowgate);
    expect(expressFromPackageName.flowgateExpress).toBe(expressFromSource.flowgateExpress);
  });

  it('type-checks the examples with the rest of the project', () => {
    expect(tsconfig.include).toContain('examples');
  });

  it('lets every example run directly (run-directly.e2e.test.ts starts one of them)', () => {
    for (const name of ['express', 'hono', 'node-http', 'mcp-sdk']) {
      const source = readFileSync(`examples/${name}.ts`, 'utf8');
      expect(source, name).toMatch(/^export async function start\(options: StartOptions\): Promise<RunningExample> \{$/m);
      expect(source.trimEnd().split('\n').at(-1), name).toMatch(/^if \(isMain\(import\.meta\.url\)\) await runFromCommandLine\('[^']+', start\);$/);
    }
  });
});

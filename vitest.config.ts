import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `flowgate` and `flowgate/<subpath>` as the examples (and the docs) import them, resolved to
 * the TypeScript sources instead of the built `dist/`: derived from package.json `exports`
 * (`./dist/src/x.js` → `./src/x.ts`), the same mapping as `paths` in tsconfig.json (which tsc
 * and tsx read). test/adapters/package-exports.unit.test.ts keeps the two in step.
 */
function flowgateSourceAliases(): Array<{ find: RegExp; replacement: string }> {
  const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
    name: string;
    exports: Record<string, string | { default?: string }>;
  };
  return Object.entries(pkg.exports).flatMap(([subpath, target]) => {
    const built = typeof target === 'string' ? target : target.default;
    if (!built?.startsWith('./dist/src/')) return [];
    const name = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
    const source = built.replace(/^\.\/dist\//, './').replace(/\.js$/, '.ts');
    return [{ find: new RegExp(`^${name.replace(/[/.-]/g, '\\$&')}$`), replacement: fileURLToPath(new URL(source, import.meta.url)) }];
  });
}

export default defineConfig({
  resolve: { alias: flowgateSourceAliases() },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});

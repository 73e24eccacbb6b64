/**
 * Every code sample in README.md and docs/**\/*.md is checked (conventions:
 * docs/contributing-docs.md; the checker: support/check-blocks.ts): TypeScript type-checked
 * against flowgate's sources, JavaScript syntax-checked, JSON configuration validated with
 * `parseConfig`, shell commands checked against the CLI and package.json, and excerpts of the
 * examples compared with their `#region`. Nothing under docs/ is skipped.
 *
 * The checker first proves on a document of deliberate mistakes that it catches each kind.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { checkBlocks, type BlockProblem } from './support/check-blocks.js';
import { codeBlocks, type CodeBlock } from './support/markdown-blocks.js';

const REPO = process.cwd();

function markdownFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [relative(REPO, join(REPO, path))] : [];
  });
}

const DOCS = ['README.md', ...markdownFiles('docs').sort()];

/** A document with one mistake of each kind the checker catches, and some blocks that pass. */
const SELF_TEST = 'self-test (deliberate mistakes).md';
const F = '```';
const SELF_TEST_MARKDOWN = [
  '# passes', //                                                                1
  `${F}ts`, //                                                                   2
  "import { createFlowgate, type FlowgateConfigInput } from 'flowgate';",
  "import { mcpTokenVerifier } from 'flowgate/mcp-sdk';",
  'declare const config: FlowgateConfigInput;',
  'const flowgate = await createFlowgate(config);',
  'export const verifier = mcpTokenVerifier((t, o) => flowgate.verifyAccessToken(t, o));',
  F,
  `${F}json`, //                                                                 9
  '{ "server": { "trustProxy": true }, "upstream": { "preset": "github", "clientId": "Ov23li" } }',
  F,
  '<!-- sample: not-config -->', //                                              12
  `${F}json`, //                                                                 13
  '{ "issuer": "https://example.com" }',
  F,
  `${F}sh`, //                                                                   16
  'npx flowgate migrate --config flowgate.config.json   # comment',
  'PORT=8788 npm start && npm run typecheck',
  'node --import tsx examples/express.ts --config flowgate.config.json',
  F,
  '# fails', //                                                                 21
  `${F}ts`, //                                                                   22
  "const n: number = 'not a number';",
  F,
  `${F}typescript`, //                                                           25
  "import { notExported } from 'flowgate';",
  F,
  '<!-- sample: examples/express.ts#app -->', //                                 28
  `${F}ts`, //                                                                   29
  'app.use(somethingElse);',
  F,
  '<!-- sample: examples/express.ts#no-such-region -->', //                      32
  `${F}ts`, //                                                                   33
  'x',
  F,
  `${F}json`, //                                                                 36
  '{ "server": { "trustProxy": "yes" } }',
  F,
  `${F}json`, //                                                                 39
  '{ "a": 1, }',
  F,
  `${F}js`, //                                                                   42
  'export default {',
  F,
  `${F}bash`, //                                                                 45
  'flowgate frobnicate',
  'npx flowgate serve --no-such-option',
  'npm run no-such-script',
  'node --import tsx examples/no-such-example.ts',
  F,
  '<!-- sample: what is this -->', //                                            51
  `${F}sh`, //                                                                   52
  'true',
  F,
  `${F}console`, //                                                              55
  '$ flowgate frobnicate-too',
  'flowgate frobnicate: this line is output, not a command',
  F,
].join('\n');

describe('documentation samples', () => {
  let problems: BlockProblem[];
  let blocks: CodeBlock[];

  beforeAll(() => {
    blocks = [...DOCS.flatMap((file) => codeBlocks(file, readFileSync(join(REPO, file), 'utf8'))), ...codeBlocks(SELF_TEST, SELF_TEST_MARKDOWN)];
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    problems = checkBlocks(blocks, { repo: REPO, program: buildProgram(), scripts: pkg.scripts });
  }, 120_000);

  it('catches each kind of mistake (and passes good samples) in a document made for it', () => {
    const found = problems.filter((p) => p.file === SELF_TEST).map((p) => `${p.line} ${p.problem}`);
    const at = (line: number, pattern: RegExp) => expect(found.filter((f) => f.startsWith(`${line} `) && pattern.test(f)), `${line} ${pattern}\n${found.join('\n')}`).toHaveLength(1);
    at(22, /TS2322: Type 'string' is not assignable to type 'number'/);
    at(25, /TS2305: Module '"flowgate"' has no exported member 'notExported'/);
    at(29, /differs from examples\/express\.ts#app at line 1 of the block/);
    at(33, /has no region "no-such-region"/);
    at(36, /not a valid flowgate configuration .*server\.trustProxy/);
    at(39, /not valid JSON/);
    at(42, /TS1005|TS1109|expected/);
    at(45, /`flowgate` has no subcommand frobnicate/);
    at(45, /`flowgate serve` has no option --no-such-option/);
    at(45, /package\.json has no script no-such-script/);
    at(45, /examples\/no-such-example\.ts does not exist/);
    at(52, /unknown sample directive "what is this"/);
    at(55, /`flowgate` has no subcommand frobnicate-too/);
    expect(found.filter((f) => Number(f.split(' ')[0]) < 21), found.join('\n')).toEqual([]);
    expect(found, found.join('\n')).toHaveLength(13);
  });

  it.each(DOCS)('%s: every code block checks', (file) => {
    const mine = problems.filter((p) => p.file === file).map((p) => `${p.file}:${p.line} (${p.lang || 'no language'}): ${p.problem}`);
    expect(mine, mine.join('\n')).toEqual([]);
  });
});

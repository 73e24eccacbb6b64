/**
 * The documentation sample checker (conventions: docs/contributing-docs.md). Every fenced
 * block of a checked language passes, or gets a problem naming its file and line:
 *
 * - `ts`/`typescript`: type-checked as a module, all blocks in one TypeScript program;
 * - `js`/`javascript`/`mjs`: syntax-checked;
 * - `json`: valid JSON, and valid flowgate configuration (`parseConfig`, with the secrets
 *   the block leaves out supplied by the environment, as the docs recommend) unless marked
 *   `<!-- sample: not-config -->`;
 * - `sh`/`bash`/`shell`/`console`: `flowgate` subcommands and options exist, `npm` scripts
 *   exist, `node`/`tsx` files exist;
 * - any language marked `<!-- sample: path#region -->`: equal to that `#region` of the file
 *   (or to the whole file without `#region`), and not checked otherwise — the file is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ENV_OVERRIDES } from '../../../src/config/env.js';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';
import { generateMasterKeyText } from '../../../src/crypto/master-key.js';
import { dedent, region, type CodeBlock } from './markdown-blocks.js';
import { checkShell } from './shell.js';
import { typecheckSamples, type Sample } from './typecheck.js';

const TS = new Set(['ts', 'typescript', 'mts']);
const JS = new Set(['js', 'javascript', 'mjs']);
const SHELL = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);

/** What the checker needs from the repository. */
export interface DocsContext {
  readonly repo: string;
  readonly program: Command;
  readonly scripts: Readonly<Record<string, string>>;
}

/** A block's problem, for the report. */
export interface BlockProblem {
  readonly file: string;
  readonly line: number;
  readonly lang: string;
  readonly problem: string;
}

function sampleId(block: CodeBlock): string {
  return `${block.file.replace(/[^\w.-]+/g, '_')}.L${block.line}`;
}

/** Compares a block with the file (region) it says it shows. */
function checkExcerpt(block: CodeBlock, directive: string, repo: string): string[] {
  const [path, name] = directive.split('#') as [string, string | undefined];
  const file = join(repo, path);
  if (!existsSync(file)) return [`${path} does not exist`];
  const source = readFileSync(file, 'utf8');
  const expected = name === undefined ? dedent(source.trimEnd().split('\n')).join('\n') : region(source, name);
  if (expected === undefined) return [`${path} has no region "${name}" (// #region ${name} … // #endregion ${name})`];
  const actual = dedent(block.content.trimEnd().split('\n')).join('\n');
  if (actual === expected) return [];
  const a = actual.split('\n');
  const e = expected.split('\n');
  const at = a.findIndex((line, i) => line !== e[i]);
  const i = at < 0 ? a.length : at;
  return [`differs from ${directive} at line ${i + 1} of the block: ${JSON.stringify(a[i] ?? '(end)')} ≠ ${JSON.stringify(e[i] ?? '(end)')} (copy the region again)`];
}

/** Secrets the docs keep out of configuration files, with values good enough to validate. */
const SECRETS_FROM_ENV: ReadonlyArray<{ readonly name: string; readonly value: () => string }> = [
  { name: 'FLOWGATE_UPSTREAM_CLIENT_SECRET', value: () => 'an-upstream-client-secret-from-the-environment' },
  { name: 'FLOWGATE_GATEWAY_IDENTITY_SECRET', value: () => 'a-gateway-identity-secret-from-the-environment-0123456789' },
  { name: 'FLOWGATE_MASTER_KEY', value: () => generateMasterKeyText() },
];

function valueAt(values: unknown, path: string): { parent: boolean; value: unknown } {
  let node: unknown = values;
  const keys = path.split('.');
  for (const key of keys.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return { parent: false, value: undefined };
    node = (node as Record<string, unknown>)[key];
  }
  if (typeof node !== 'object' || node === null) return { parent: false, value: undefined };
  return { parent: true, value: (node as Record<string, unknown>)[keys.at(-1)!] };
}

/** The environment `flowgate serve` would run with: the secrets the block leaves out (where their section is configured). */
function secretsFor(values: unknown): Record<string, string> {
  const env: Record<string, string> = {};
  for (const secret of SECRETS_FROM_ENV) {
    const override = ENV_OVERRIDES.find((o) => o.name === secret.name)!;
    const at = valueAt(values, override.path);
    if (at.parent && at.value === undefined) env[secret.name] = secret.value();
  }
  return env;
}

function checkJson(block: CodeBlock, config: boolean): string[] {
  let values: unknown;
  try {
    values = JSON.parse(block.content);
  } catch (error) {
    return [`not valid JSON: ${(error as Error).message}`];
  }
  if (!config) return [];
  try {
    parseConfig({ values });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    try {
      // Valid once the environment supplies the secrets it leaves out, as the docs recommend.
      parseConfig({ values, env: secretsFor(values) });
      return [];
    } catch {
      return [
        `not a valid flowgate configuration (mark other JSON with <!-- sample: not-config -->): ${error.problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`,
      ];
    }
  }
}

/** Checks every block; returns the problems, in the blocks' order. */
export function checkBlocks(blocks: readonly CodeBlock[], context: DocsContext): BlockProblem[] {
  const problems: BlockProblem[] = [];
  const report = (block: CodeBlock, list: readonly string[]) => {
    for (const problem of list) problems.push({ file: block.file, line: block.line, lang: block.lang, problem });
  };
  const compiled: Array<{ block: CodeBlock; sample: Sample }> = [];

  for (const block of blocks) {
    const directive = block.directive;
    if (directive !== undefined && directive !== 'not-config') {
      if (!/^[\w./-]+(#[\w-]+)?$/.test(directive)) report(block, [`unknown sample directive "${directive}"`]);
      else report(block, checkExcerpt(block, directive, context.repo));
      continue;
    }
    if (directive === 'not-config' && block.lang !== 'json') {
      report(block, ['<!-- sample: not-config --> applies to json blocks only']);
      continue;
    }
    if (TS.has(block.lang) || JS.has(block.lang)) {
      compiled.push({ block, sample: { id: sampleId(block), code: block.content, language: TS.has(block.lang) ? 'ts' : 'js' } });
    } else if (block.lang === 'json') {
      report(block, checkJson(block, directive !== 'not-config'));
    } else if (SHELL.has(block.lang)) {
      report(block, checkShell(block.content, { program: context.program, scripts: context.scripts, exists: (p) => existsSync(join(context.repo, p)) }));
    }
  }

  if (compiled.length > 0) {
    const { bySample, global } = typecheckSamples(
      context.repo,
      compiled.map((c) => c.sample),
    );
    if (global.length > 0) throw new Error(`the samples' TypeScript program is broken: ${global.join('; ')}`);
    for (const { block, sample } of compiled) {
      report(
        block,
        bySample.get(sample.id)!.map((d) => `line ${d.line}:${d.column} of the block (file line ${block.line + d.line}): ${d.message}`),
      );
    }
  }
  return problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

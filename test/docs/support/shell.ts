/**
 * Checks the commands of a shell sample against the repository, without running them:
 * `flowgate …` (also `npx flowgate …`) names existing (sub)commands and options of the CLI
 * (`buildProgram()`), `npm run X` / `npm start` / `npm test` name scripts of package.json, and
 * `node`/`tsx` run files that exist.
 */
import type { Command, Option } from 'commander';

/** What the checker compares with. */
export interface ShellContext {
  readonly program: Command;
  readonly scripts: Readonly<Record<string, string>>;
  /** Whether a path relative to the repository exists. */
  readonly exists: (path: string) => boolean;
}

/** The words of a command line, with simple quoting; `#` starts a comment after whitespace. */
function words(line: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | undefined;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else current += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      started = true;
      continue;
    }
    if (c === '#' && !started && current === '') break;
    if (/\s/.test(c)) {
      if (started) out.push(current);
      current = '';
      started = false;
      continue;
    }
    current += c;
    started = true;
  }
  if (started) out.push(current);
  return out;
}

/**
 * The simple commands of a sample: continuations joined, comments dropped, split at `&&`,
 * `||`, `;`, `|`. When some line starts with a `$ ` prompt, only those lines are commands and
 * the others are their output (a `console` transcript).
 */
export function commands(content: string): string[][] {
  const joined = content.replace(/\\\n/g, ' ');
  const lines = joined.split('\n');
  const prompted = lines.some((l) => /^\s*\$\s/.test(l));
  const out: string[][] = [];
  for (const raw of lines) {
    if (prompted && !/^\s*\$\s/.test(raw)) continue;
    const line = raw.replace(/^\s*\$\s+/, '');
    let command: string[] = [];
    for (const word of words(line)) {
      if (['&&', '||', ';', '|'].includes(word)) {
        if (command.length > 0) out.push(command);
        command = [];
      } else command.push(word);
    }
    if (command.length > 0) out.push(command);
  }
  return out;
}

function findOption(command: Command, flag: string): Option | undefined {
  for (let c: Command | null = command; c; c = c.parent) {
    const found = c.options.find((o) => o.long === flag || o.short === flag || (o.negate && o.long === flag));
    if (found) return found;
  }
  return undefined;
}

/** Problems of one `flowgate` invocation (`args` without `flowgate`). */
function checkFlowgate(args: readonly string[], program: Command): string[] {
  let command = program;
  let path = 'flowgate';
  let positional = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') break;
    if (arg.startsWith('-') && arg.length > 1) {
      const flag = arg.split('=')[0]!;
      if (['-h', '--help', '-V', '--version'].includes(flag)) continue;
      const option = findOption(command, flag);
      if (!option) return [`\`${path}\` has no option ${flag}`];
      if ((option.required || option.optional) && !arg.includes('=')) i += 1;
      continue;
    }
    if (positional === 0 && command.commands.length > 0) {
      const sub = command.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
      if (!sub) return [`\`${path}\` has no subcommand ${arg} (it has: ${command.commands.map((c) => c.name()).join(', ')})`];
      command = sub;
      path = `${path} ${arg}`;
      continue;
    }
    positional += 1;
  }
  if (command === program) return ['`flowgate` without a subcommand'];
  if (command.commands.length > 0 && positional === 0) return [`\`${path}\` needs a subcommand (${command.commands.map((c) => c.name()).join(', ')})`];
  return [];
}

const SCRIPT_COMMANDS = new Set(['start', 'test', 't', 'stop', 'restart']);

/** Problems of a shell sample, one line each. */
export function checkShell(content: string, context: ShellContext): string[] {
  const problems: string[] = [];
  for (let words of commands(content)) {
    while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) words = words.slice(1);
    const [head, ...rest] = words;
    if (head === 'npx') {
      const args = rest.filter((w, i) => !(w.startsWith('-') && rest.slice(0, i).every((x) => x.startsWith('-'))));
      if (args[0] === 'flowgate') problems.push(...checkFlowgate(args.slice(1), context.program));
      if (args[0] === 'tsx') problems.push(...checkFiles(args.slice(1), context));
    } else if (head === 'flowgate') {
      problems.push(...checkFlowgate(rest, context.program));
    } else if (head === 'npm') {
      const [sub, name] = rest;
      if ((sub === 'run' || sub === 'run-script') && name !== undefined && !(name in context.scripts)) {
        problems.push(`package.json has no script ${name}`);
      }
      if (sub !== undefined && SCRIPT_COMMANDS.has(sub)) {
        const script = sub === 't' ? 'test' : sub;
        if (!(script in context.scripts)) problems.push(`package.json has no script ${script} (for npm ${sub})`);
      }
    } else if (head === 'node' || head === 'tsx') {
      problems.push(...checkFiles(rest, context));
    }
  }
  return problems;
}

/** Repository files a `node`/`tsx` command runs must exist (build output under dist/ aside). */
function checkFiles(args: readonly string[], context: ShellContext): string[] {
  const problems: string[] = [];
  for (const arg of args) {
    if (arg.startsWith('-') || arg.startsWith('/') || arg.startsWith('dist/') || arg.includes('<')) continue;
    if (!/^(\.\/)?[\w.-]+(\/[\w.-]+)*\.(ts|mts|js|mjs|cjs)$/.test(arg)) continue;
    if (!context.exists(arg)) problems.push(`${arg} does not exist`);
  }
  return problems;
}

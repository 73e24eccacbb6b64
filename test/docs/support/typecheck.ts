/**
 * Type-checks documentation samples in one TypeScript program, with the repository's
 * compiler options (tsconfig.json, whose `paths` resolve `flowgate` and `flowgate/*` to
 * `src/`). Samples are virtual files under `<repo>/.doc-samples/` — never written to disk —
 * so they resolve `node_modules` and the package scope (`"type": "module"`) like a file of
 * the repository would. TypeScript samples are `.mts` modules, fully checked; JavaScript
 * samples are `.mjs`, checked for syntax only.
 */
import { join } from 'node:path';
import ts from 'typescript';

/** One sample to check. */
export interface Sample {
  /** Unique, file-name safe. */
  readonly id: string;
  readonly code: string;
  readonly language: 'ts' | 'js';
}

/** A problem in a sample: 1-based line and column within the sample. */
export interface SampleDiagnostic {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** Type-checks every sample at once; returns the problems of each (by id) and of the program. */
export function typecheckSamples(repo: string, samples: readonly Sample[]): { bySample: Map<string, SampleDiagnostic[]>; global: string[] } {
  const configFile = join(repo, 'tsconfig.json');
  const read = ts.readConfigFile(configFile, (path) => ts.sys.readFile(path));
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, repo, undefined, configFile);
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    declaration: false,
    sourceMap: false,
    incremental: false,
    allowJs: true,
    checkJs: false,
  };
  const files = new Map<string, Sample>();
  for (const sample of samples) files.set(join(repo, '.doc-samples', `${sample.id}.${sample.language === 'ts' ? 'mts' : 'mjs'}`), sample);

  const host = ts.createCompilerHost(options, true);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
  host.readFile = (name) => files.get(name)?.code ?? readFile.call(host, name);
  host.getSourceFile = (name, languageVersion, onError, shouldCreate) => {
    const sample = files.get(name);
    if (sample) return ts.createSourceFile(name, sample.code, languageVersion, true);
    return getSourceFile.call(host, name, languageVersion, onError, shouldCreate);
  };

  const program = ts.createProgram({ rootNames: [...files.keys()], options, host });
  const bySample = new Map<string, SampleDiagnostic[]>(samples.map((s) => [s.id, []]));
  const global: string[] = [];
  for (const diagnostic of [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()]) {
    global.push(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
  }
  // Only the samples' own diagnostics: problems of the files they import are the project's
  // (`npm run typecheck` reports them), and checking only these files keeps this fast.
  for (const [name, sample] of files) {
    const source = program.getSourceFile(name)!;
    for (const diagnostic of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const position = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      bySample.get(sample.id)!.push({ line: position.line + 1, column: position.character + 1, message: `TS${diagnostic.code}: ${message}` });
    }
  }
  return { bySample, global };
}

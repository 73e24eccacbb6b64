/**
 * Reads, merges and validates configuration: a JSON or JavaScript file, then the
 * environment overrides of {@link ENV_OVERRIDES}, then the zod schema's defaults.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { ENV_OVERRIDES, type EnvOverride } from './env.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { configSchema, type FlowgateConfig } from './schema.js';

type Plain = Record<string, unknown>;

function isPlainObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setPath(target: Plain, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (!isPlainObject(next)) node[key] = {};
    node = node[key] as Plain;
  }
  node[keys[keys.length - 1]!] = value;
}

function parseEnvValue(override: EnvOverride, raw: string): { value?: unknown; problem?: string } {
  switch (override.type) {
    case 'string':
      return { value: raw };
    case 'integer': {
      if (!/^-?\d+$/.test(raw.trim())) return { problem: `expected an integer, got ${JSON.stringify(raw)}` };
      return { value: Number.parseInt(raw, 10) };
    }
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return { value: true };
      if (['0', 'false', 'no', 'off'].includes(v)) return { value: false };
      return { problem: `expected true or false, got ${JSON.stringify(raw)}` };
    }
  }
}

function formatIssues(issues: readonly z.core.$ZodIssue[], sources: Map<string, string>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = base ? `${base}.${key}` : key;
        problems.push({ path, message: 'unknown option' });
      }
      continue;
    }
    const source = sources.get(base);
    problems.push({ path: base, message: issue.message, ...(source ? { source } : {}) });
  }
  return problems;
}

/** Where the raw configuration values come from. */
export interface ConfigSources {
  /** Values from a file or from code. */
  readonly values?: unknown;
  /** Label for those values in error messages (a file path). */
  readonly origin?: string;
  /** Environment to read overrides from; default none (pass `process.env` from the CLI). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Validates configuration values plus environment overrides. Throws {@link ConfigError}
 * naming every wrong field and where its value came from.
 */
export function parseConfig(sources: ConfigSources = {}): FlowgateConfig {
  const values = sources.values ?? {};
  if (!isPlainObject(values)) {
    throw new ConfigError([{ path: '', message: 'the configuration must be an object', ...(sources.origin ? { source: sources.origin } : {}) }]);
  }
  const merged = structuredClone(values);
  const fieldSources = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  for (const override of ENV_OVERRIDES) {
    const raw = sources.env?.[override.name];
    if (raw === undefined || raw === '') continue;
    const parsed = parseEnvValue(override, raw);
    if (parsed.problem) {
      problems.push({ path: override.path, message: parsed.problem, source: override.name });
      continue;
    }
    setPath(merged, override.path, parsed.value);
    fieldSources.set(override.path, override.name);
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    for (const p of formatIssues(result.error.issues, fieldSources)) {
      problems.push(p.source || !sources.origin ? p : { ...p, source: sources.origin });
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return Object.freeze(result.data);
}

/**
 * Loads a configuration file (`.json`, or `.js`/`.mjs` whose default export is the
 * configuration object or a function returning it) and applies `env` overrides.
 */
export async function loadConfigFile(
  path: string | undefined,
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<FlowgateConfig> {
  if (path === undefined) return parseConfig({ env });
  const file = resolve(path);
  if (!existsSync(file)) {
    throw new ConfigError([{ path: '', message: `the configuration file does not exist`, source: file }]);
  }
  let values: unknown;
  const ext = extname(file);
  if (ext === '.json') {
    try {
      values = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError([{ path: '', message: `not valid JSON: ${(error as Error).message}`, source: file }]);
    }
  } else if (ext === '.js' || ext === '.mjs') {
    try {
      const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
      values = typeof mod.default === 'function' ? await (mod.default as () => unknown)() : mod.default;
    } catch (error) {
      throw new ConfigError([{ path: '', message: `could not load: ${(error as Error).message}`, source: file }]);
    }
  } else {
    throw new ConfigError([{ path: '', message: 'the configuration file must end in .json, .js or .mjs', source: file }]);
  }
  return parseConfig({ values, origin: file, env });
}

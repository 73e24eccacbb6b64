/**
 * Renders docs/configuration.md from the zod schema and the environment table, so the
 * reference cannot drift from the code (a test compares the file with this output).
 *
 * @module
 */
import { z } from 'zod';
import { ENV_OVERRIDES } from './env.js';
import { configSchema } from './schema.js';

interface JsonSchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  additionalProperties?: boolean | JsonSchemaNode;
}

/** One documented option. */
export interface OptionDoc {
  readonly path: string;
  readonly type: string;
  readonly default: string;
  readonly description: string;
  readonly env?: string;
}

function typeOf(node: JsonSchemaNode): string {
  if (node.enum) return node.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  if (node.anyOf) return node.anyOf.map(typeOf).join(' \\| ');
  if (node.type === 'array' && node.items) return `${typeOf(node.items)}[]`;
  if (Array.isArray(node.type)) return node.type.join(' \\| ');
  let type = node.type ?? 'any';
  if (node.minimum !== undefined || node.maximum !== undefined) {
    type += ` (${node.minimum ?? '…'}–${node.maximum ?? '…'})`;
  }
  return type;
}

function isSection(node: JsonSchemaNode): boolean {
  return node.type === 'object' && node.properties !== undefined;
}

/** Every leaf option of the schema with its type, default and description. */
export function listOptions(): OptionDoc[] {
  const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  const envByPath = new Map(ENV_OVERRIDES.map((o) => [o.path, o.name]));
  const options: OptionDoc[] = [];
  const walk = (node: JsonSchemaNode, prefix: string) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (isSection(child)) {
        walk(child, path);
        continue;
      }
      const env = envByPath.get(path);
      options.push({
        path,
        type: typeOf(child),
        default: child.default === undefined ? '—' : `\`${JSON.stringify(child.default)}\``,
        description: (child.description ?? '').replaceAll('|', '\\|'),
        ...(env ? { env } : {}),
      });
    }
  };
  walk(root, '');
  return options;
}

/** The Markdown of docs/configuration.md. */
export function renderConfigReference(): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`. Do not edit by hand. -->',
    '',
    'flowgate reads one configuration object: from code (`parseConfig({ values })`), or from a',
    'file given to the CLI with `--config` (`.json`, or `.js`/`.mjs` whose default export is the',
    'object or a function returning it). Environment variables in the table below override the',
    'file. Unknown options are errors, and a bad configuration names every wrong field.',
    '',
    '## Options',
    '',
    '| option | type | default | environment | description |',
    '|---|---|---|---|---|',
  ];
  for (const o of listOptions()) {
    lines.push(`| \`${o.path}\` | ${o.type} | ${o.default} | ${o.env ? `\`${o.env}\`` : ''} | ${o.description} |`);
  }
  lines.push('', '## Environment variables', '', '| variable | option | description |', '|---|---|---|');
  for (const o of ENV_OVERRIDES) {
    lines.push(`| \`${o.name}\` | \`${o.path}\` | ${o.description} |`);
  }
  lines.push('');
  return lines.join('\n');
}

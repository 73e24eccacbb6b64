/**
 * Writes docs/models.md: for each machine (`MACHINES`), its id, version and a Mermaid
 * statechart generated from the definition, and its events with the first sentence of each
 * event interface's doc comment (read from the machine's source); then the projections with
 * their columns read from a freshly migrated database, set against fastmcp's models.
 *
 * The projection notes below are hand-written, but checked: every projection must have
 * notes, every column of its table a meaning, and every described column must exist, or
 * the generator throws. test/docs/models-doc.unit.test.ts compares docs/models.md with
 * {@link renderModelsDoc}.
 *
 * Run with `npm run docs:models`.
 *
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import ts from 'typescript';
import { MACHINES, type MachineEntry } from '../machines/registry.js';
import { parseConfig } from '../src/config/load.js';
import { machineStateNames, machineTransitions, toMermaid } from '../src/engine/statechart.js';
import { PROJECTIONS } from '../src/projections/index.js';
import { openStore } from '../src/store/open-store.js';

const ROOT = join(import.meta.dirname, '..');

/** Where the document is written. */
export const MODELS_DOC = join(ROOT, 'docs', 'models.md');

// ---------------------------------------------------------------------------------------
// Machines

/** The first sentence of a doc comment (up to the first `.` followed by whitespace or the end). */
function firstSentence(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const match = /^(.*?[.!?])(\s|$)/.exec(flat);
  return match ? match[1]! : flat;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The module comment of a source file, up to `@module`, as paragraphs. */
function moduleComment(source: string): string[] {
  const match = /^\s*\/\*\*([\s\S]*?)\*\//.exec(source);
  if (!match) return [];
  const body = match[1]!
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .split('@module')[0]!;
  return body
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter((p) => p.length > 0);
}

/**
 * Every event interface of a machine source file: the string literal of its `type` member
 * and its doc comment's first sentence.
 */
export function eventDocs(file: string, source: string): Map<string, string> {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true);
  const docs = new Map<string, string>();
  for (const statement of sf.statements) {
    if (!ts.isInterfaceDeclaration(statement)) continue;
    const typeMember = statement.members.find(
      (m): m is ts.PropertySignature => ts.isPropertySignature(m) && m.name.getText(sf) === 'type',
    );
    if (!typeMember?.type || !ts.isLiteralTypeNode(typeMember.type) || !ts.isStringLiteral(typeMember.type.literal)) continue;
    const jsDoc = ts.getJSDocCommentsAndTags(statement).find(ts.isJSDoc);
    const comment = typeof jsDoc?.comment === 'string' ? jsDoc.comment : (ts.getTextOfJSDocComment(jsDoc?.comment) ?? '');
    if (comment.trim() === '') throw new Error(`${file}: the event interface ${statement.name.text} has no doc comment`);
    docs.set(typeMember.type.literal.text, firstSentence(comment));
  }
  return docs;
}

function machineSection(entry: MachineEntry): string {
  const file = `machines/${entry.id}.ts`;
  const source = readFileSync(join(ROOT, file), 'utf8');
  const docs = eventDocs(file, source);
  const transitions = machineTransitions(entry.machine);
  const declared = new Set(transitions.map((t) => t.event));
  // In the order the source declares the event interfaces.
  const events = [...docs.keys()].filter((e) => declared.has(e));
  const undocumented = [...declared].filter((e) => !docs.has(e));
  if (undocumented.length > 0) throw new Error(`${file}: no event interface documents ${undocumented.join(', ')}`);
  const unused = [...docs.keys()].filter((e) => !declared.has(e));
  if (unused.length > 0) throw new Error(`${file}: event interfaces no transition uses: ${unused.join(', ')}`);

  const lines: string[] = [];
  lines.push(`### \`${entry.id}\` (version ${entry.version})`, '');
  const intro = moduleComment(source)[0];
  if (intro) lines.push(intro, '');
  lines.push(
    `Streams \`${entry.category}:<id>\`. Source: [\`${file}\`](../${file}). States: ${machineStateNames(entry.machine)
      .map((s) => `\`${s}\``)
      .join(', ')}.`,
    '',
  );
  lines.push('```mermaid', toMermaid(entry.machine).trimEnd(), '```', '');
  lines.push('| event | meaning | transitions |', '|---|---|---|');
  for (const event of events) {
    const where = transitions
      .filter((t) => t.event === event)
      .map((t) => {
        const arrow = t.internal ? `\`${t.source}\` (stays)` : `\`${t.source}\` → \`${t.target}\``;
        return t.guard ? `${arrow} [${t.guard}]` : arrow;
      })
      .join('<br>');
    lines.push(`| \`${event}\` | ${cell(docs.get(event)!)} | ${where} |`);
  }
  lines.push('');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------
// Projections (hand-written, checked against the database and PROJECTIONS)

interface ProjectionNotes {
  /** fastmcp's model and where it lives, or null when fastmcp has no counterpart. */
  readonly fastmcp: string | null;
  /** One line on what the table is. */
  readonly summary: string;
  /** Every column's meaning. */
  readonly columns: Readonly<Record<string, string>>;
  /** Where flowgate differs from fastmcp, and why. */
  readonly differences: readonly string[];
}

const NOTES: Readonly<Record<string, ProjectionNotes>> = {
  transactions: {
    fastmcp: '`OAuthTransaction` (collection `mcp-oauth-transactions`, key `txn_id`, TTL 900 s)',
    summary: 'One row per authorization flow, in the state its machine is in.',
    columns: {
      flow_id: 'The flow id (random, 128 bits); the stream is `flow:<flow_id>`.',
      grant_id: 'The grant allocated at `/authorize`, whose data key seals this flow\'s secrets.',
      client_id: 'The MCP client.',
      redirect_uri: "The client's redirect URI, validated against its registration.",
      code_challenge: "The client's S256 PKCE challenge.",
      scopes: 'Requested scopes (JSON array).',
      resource: 'The RFC 8707 resource the flow is for.',
      client_state_sealed: "The client's `state`, sealed with the grant's data key; null when none was sent.",
      browser_hash: 'SHA-256 of the browser-binding cookie of the browser that started the flow.',
      state: 'The authorization-flow machine state after the last event.',
      consent_basis: 'How consent was given: `user`, `remembered` or `disabled`; null before consent.',
      upstream_state_hash: 'SHA-256 of the upstream `state` (the callback finds the flow by it).',
      state_expires_at: 'When the upstream `state` stops being accepted (ms).',
      proxy_verifier_sealed: "The proxy's own PKCE verifier for the upstream, sealed with the grant's data key.",
      nonce_hash: 'SHA-256 of the OIDC nonce sent upstream, when one was.',
      subject_ref: 'Keyed hash of the upstream subject (a pseudonym), once the upstream answered.',
      created_at: 'When the flow started (ms since the epoch).',
      expires_at: 'The deadline for reaching the code (ms).',
      updated_at: 'Time of the last event (ms).',
    },
    differences: [
      "fastmcp sends `txn_id` itself upstream as `state` and keys the record by it; flowgate keys by `flow_id` and sends a separate random `state`, stored only as `upstream_state_hash`, so neither the database nor the log ever holds the `state` value itself.",
      "The client's `state` and the proxy's PKCE verifier are sealed (AES-256-GCM) with the grant's own data key, wrapped by the master key; fastmcp keeps them as plain fields inside a store encrypted with one storage-wide Fernet key derived from the JWT signing key (and unencrypted on a custom store unless wrapped). Destroying a grant's key erases them while the log stays verifiable.",
      'The flow has a `state` (the machine\'s) instead of being deleted when used or when its TTL ends: expiry is an event (`flow.expired`), the row stays for audit and is rebuildable from the log.',
      "`browser_hash` binds the flow to the browser that started it (checked at consent and at the callback) and `consent_basis` records why the flow went upstream; fastmcp binds with a `consent_token` set only on approval and keeps no reason.",
      'No CSRF columns: the consent CSRF token is checked by the HTTP layer; replays of a decision are refused by the machine.',
      'Times are integer milliseconds (fastmcp: float seconds).',
    ],
  },
  client_codes: {
    fastmcp: '`ClientCode` (collection `mcp-authorization-codes`, key = the code, TTL 300 s)',
    summary: "flowgate's authorization codes, keyed by hash, with everything a redemption must match.",
    columns: {
      code_hash: 'SHA-256 of the code (the code itself is never stored).',
      flow_id: 'The flow that issued it.',
      grant_id: 'The grant a redemption creates.',
      client_id: 'The client it was issued to.',
      redirect_uri: 'The redirect URI the redemption must repeat (if it sends one).',
      code_challenge: 'The S256 challenge the `code_verifier` must match.',
      scopes: 'Scopes the code carries: requested and granted upstream (JSON array).',
      resource: 'The resource the code is for.',
      status: '`issued`, `redeemed`, `reused` (presented again after redemption) or `expired`.',
      issued_at: 'When it was issued (ms).',
      expires_at: 'When it stops being redeemable (ms).',
      redeemed_at: 'When it was redeemed (ms), or null.',
    },
    differences: [
      'Keyed by `code_hash`, the SHA-256 of the code, where fastmcp uses the code itself as the key: the database never holds a redeemable code.',
      "No `idp_tokens`: fastmcp copies the full upstream token response into the code record; flowgate keeps upstream tokens only in `upstream_token_sets`, sealed.",
      'Single use is decided by the flow stream\'s version (optimistic concurrency on `(stream_id, stream_version)`), across processes; fastmcp deletes the code after use with no atomic get-and-delete. The row then says `redeemed`, and a later replay is recorded as `reused` (and revokes the grant) instead of looking like an unknown code.',
      'Bound to `resource` and `grant_id` as well; the challenge method is always S256, so it is not stored.',
    ],
  },
  upstream_token_sets: {
    fastmcp: '`UpstreamTokenSet` (collection `mcp-upstream-tokens`, key `upstream_token_id`)',
    summary: "One grant's upstream tokens, as ciphertext only.",
    columns: {
      grant_id: 'The grant the tokens belong to.',
      flow_id: 'The flow whose code exchange produced them.',
      token_set_sealed: "The upstream token response, sealed with the grant's data key.",
      upstream_expires_at: "When the upstream access token expires (ms), if the upstream said.",
      refreshable: '1 when the upstream gave a refresh token.',
      scopes: "What the upstream granted, in flowgate's scope names (JSON array).",
      updated_at: 'When they were received or last refreshed (ms).',
    },
    differences: [
      'Keyed by `grant_id` (one token set per grant) instead of a random `upstream_token_id` that JTI mappings point to.',
      "The whole token set is one AES-256-GCM ciphertext under a per-grant data key wrapped by the master key; fastmcp stores `access_token`, `refresh_token` and `raw_token_data` as fields of a record that only a storage-wide Fernet key protects. Destroying the grant's key erases its tokens (crypto-shredding) without touching the log.",
      'Only what scheduling needs is in clear: `upstream_expires_at` and `refreshable`. Refreshes are serialised by a lease in the grant\'s stream (`upstream.refresh_requested`), not by a per-process lock.',
    ],
  },
  grants: {
    fastmcp: null,
    summary: 'One row per token family: the unit that is refreshed, expired and revoked.',
    columns: {
      grant_id: 'The grant id; the stream is `grant:<grant_id>`.',
      flow_id: 'The flow whose code created it.',
      client_id: 'The client it belongs to.',
      subject_ref: 'Keyed hash of the upstream subject (a pseudonym, never the subject).',
      scopes: 'Granted scopes (JSON array); a refresh may ask for fewer, never more.',
      resource: 'The resource its tokens are for.',
      status: '`active`, `revoked` or `expired`.',
      revoked_reason: 'Why it ended: a revocation reason, or `expired_absolute` / `expired_idle`.',
      created_at: 'When the code was redeemed (ms).',
      absolute_expires_at: 'When it ends however active it is (ms).',
      idle_ttl_ms: 'It ends after this long without a refresh (ms).',
      last_used_at: 'Time of the last refresh-token rotation (ms).',
    },
    differences: [
      "fastmcp has no grant: access and refresh tokens point at an upstream token set, so there is no family to revoke when a refresh token is reused, no idle or absolute lifetime for a family, and nothing an operator can list per client or subject. flowgate's token-grant machine owns all of that, and this table is its read view.",
    ],
  },
  jti_mappings: {
    fastmcp: '`JTIMapping` (collection `mcp-jti-mappings`, key = JWT `jti`)',
    summary: "Every access token's `jti`, mapped to its grant, with its revocation state.",
    columns: {
      jti: 'The access token\'s `jti`.',
      grant_id: 'The grant that issued it.',
      scopes: 'Scopes of that access token (JSON array).',
      status: '`active`, or `revoked` (by RFC 7009, or with its whole grant).',
      issued_at: 'When it was issued (ms).',
      expires_at: 'When the JWT expires (ms).',
    },
    differences: [
      'Maps a `jti` to a `grant_id` rather than to an `upstream_token_id`.',
      "Carries revocation state: revoking one access token (RFC 7009) or its whole grant (reuse, client or operator revocation, expiry) marks the row `revoked`, and the resource side checks it on every request; fastmcp can only delete mappings.",
      "Only access tokens have mappings: flowgate's refresh tokens are opaque values in `refresh_tokens`, not JWTs with a `jti`.",
    ],
  },
  refresh_tokens: {
    fastmcp: '`RefreshTokenMetadata` (collection `mcp-refresh-tokens`, key = `sha256hex(refresh JWT)`)',
    summary: 'Refresh tokens by hash: their family and where they are in the rotation chain.',
    columns: {
      token_hash: 'SHA-256 (base64url) of the refresh token.',
      grant_id: 'The family (grant) it belongs to.',
      scopes: 'Scopes at issue (JSON array).',
      status: '`active`, `rotated` (used; its successor is live) or `revoked` (with the family).',
      issued_at: 'When it was issued (ms).',
      rotated_at: 'When it was used and replaced (ms), or null.',
      successor_hash: 'Hash of the token that replaced it, or null.',
    },
    differences: [
      "Both key by a hash of the token, so neither stores a usable token. flowgate's refresh tokens are opaque 256-bit random values rather than signed JWTs: a token is valid only as far as its row and its grant say.",
      "A used token is kept as `rotated`, with its successor, instead of being deleted: presenting it again is recognised as reuse (RFC 9700 §4.14.2) and revokes the family, where fastmcp cannot tell reuse from an unknown token.",
      'Keyed to a grant (`grant_id`) rather than to a `client_id`; lifetimes are the grant\'s (idle and absolute), not per token.',
    ],
  },
  clients: {
    fastmcp: '`ProxyDCRClient` (collection `mcp-oauth-proxy-clients`, key `client_id`, no TTL)',
    summary: 'Every client: static (configuration), dynamic (RFC 7591) or a client ID metadata document.',
    columns: {
      client_id: 'The client id; the stream is `client:<client_id>`.',
      kind: '`static`, `dynamic` or `metadata_document`.',
      metadata: 'RFC 7591 metadata as registered or last fetched (JSON).',
      secret_hash: 'SHA-256 of the client secret for confidential clients; null for public ones.',
      allowed_patterns: "The operator's redirect patterns in force at registration (JSON array).",
      status: '`active`, `expired` or `deleted`.',
      registered_at: 'When it was registered (ms).',
      last_used_at: 'When it was last used or refreshed (ms; recorded at most once per throttle period).',
      unused_ttl_ms: 'It expires after this long unused (ms); null = never.',
    },
    differences: [
      "A confidential client's secret is stored only as `secret_hash` (SHA-256); fastmcp's record inherits a plain `client_secret` field (left empty for its DCR clients, which are all public).",
      "`allowed_patterns` is the allowlist recorded at registration, as an event; fastmcp overwrites it from the live configuration on every `get_client`.",
      'Dynamic clients unused for `unused_ttl_ms` expire (`client.expired`) and can be deleted; fastmcp clients never expire.',
      '`kind` distinguishes static, dynamic and metadata-document clients; CIMD documents are kept as metadata and refreshed by event (`client.metadata_refreshed`).',
    ],
  },
};

/** A column as the migrated schema declares it. */
export interface Column {
  readonly name: string;
  /** The declared type (`text`, `bigint`, `integer`). */
  readonly type: string;
  readonly notNull: boolean;
  readonly primaryKey: boolean;
}

/**
 * The columns of `tables`, read from a freshly migrated in-memory SQLite database
 * (`pragma_table_info`: declared types, NOT NULL and primary key, in column order).
 */
export async function projectionColumns(tables: readonly string[]): Promise<Map<string, Column[]>> {
  const config = parseConfig({ values: { dataDir: '.flowgate-unused', store: { sqlitePath: ':memory:' } } });
  const store = await openStore(config);
  try {
    const result = new Map<string, Column[]>();
    for (const table of tables) {
      const { rows } = await sql<{ name: string; type: string; notnull: number; pk: number }>`
        select name, type, "notnull", pk from pragma_table_info(${table}) order by cid`.execute(store.db);
      if (rows.length === 0) throw new Error(`docs/models.md: the schema has no table ${table}`);
      result.set(
        table,
        rows.map((r) => ({ name: r.name, type: r.type.toLowerCase(), notNull: r.notnull === 1, primaryKey: r.pk > 0 })),
      );
    }
    return result;
  } finally {
    await store.close();
  }
}

function projectionSection(name: string, table: string, handles: readonly string[], columns: readonly Column[]): string {
  const notes = NOTES[table];
  if (!notes) throw new Error(`docs/models.md: no notes for the projection table ${table} (add them to scripts/generate-models-doc.ts)`);
  const names = columns.map((c) => c.name);
  const missing = names.filter((c) => !(c in notes.columns));
  const stale = Object.keys(notes.columns).filter((c) => !names.includes(c));
  if (missing.length > 0) throw new Error(`docs/models.md: columns of ${table} without a meaning: ${missing.join(', ')}`);
  if (stale.length > 0) throw new Error(`docs/models.md: described columns ${table} does not have: ${stale.join(', ')}`);

  const lines: string[] = [];
  lines.push(`### \`${table}\` ↔ ${notes.fastmcp ?? 'no fastmcp counterpart'}`, '');
  const key = columns.filter((c) => c.primaryKey).map((c) => `\`${c.name}\``);
  lines.push(
    `${notes.summary} Projection \`${name}\`, key ${key.join(', ')}, built from ${handles.map((h) => `\`${h}\``).join(', ')}.`,
    '',
  );
  lines.push('| column | type | null? | meaning |', '|---|---|---|---|');
  for (const column of columns) {
    const nullable = column.primaryKey ? 'no (key)' : column.notNull ? 'no' : 'yes';
    lines.push(`| \`${column.name}\` | ${column.type} | ${nullable} | ${cell(notes.columns[column.name]!)} |`);
  }
  lines.push('', notes.fastmcp ? 'Where flowgate differs from fastmcp, and why:' : 'Why flowgate has it:', '');
  for (const difference of notes.differences) lines.push(`- ${difference}`);
  lines.push('');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------

/** docs/models.md as the machines, the projections and the database define it now. */
export async function renderModelsDoc(): Promise<string> {
  const tables = PROJECTIONS.flatMap((p) => p.tables);
  const columns = await projectionColumns(tables);
  const unknownNotes = Object.keys(NOTES).filter((t) => !tables.includes(t));
  if (unknownNotes.length > 0) throw new Error(`docs/models.md: notes for tables no projection owns: ${unknownNotes.join(', ')}`);

  const out: string[] = [];
  out.push(
    '# Models: machines and projections',
    '',
    '<!-- Generated by `npm run docs:models` (scripts/generate-models-doc.ts) from machines/, src/projections/ and the',
    '     migrated schema. Do not edit by hand: test/docs/models-doc.unit.test.ts fails when this file is stale. -->',
    '',
    'Every authorization flow, token family and client registration is an XState machine; every transition it accepts is an',
    'event in the log ([store.md](store.md)); the read views below are projections of that log, updated in the same',
    'transaction as the append and rebuildable from it. The diagrams are generated from the machine definitions:',
    'transitions are labelled with their event type and, when guarded, the guard in brackets; a transition that only',
    'updates the context is drawn as a self-loop. Guards compare the event (which carries every id, hash and time) with',
    'the context; expiry is a guard on the event time, so replaying the log gives the same states.',
    '',
    '## Machines',
    '',
  );
  for (const entry of MACHINES) out.push(machineSection(entry));

  out.push(
    "## Projections and fastmcp's models",
    '',
    "flowgate's read views mirror the models of fastmcp's `OAuthProxy` (`oauth_proxy/models.py`), plus `grants`, which",
    'fastmcp lacks. Throughout: no table holds a plaintext code, refresh token, upstream token or client secret (hashes',
    'or ciphertext only); rows are not deleted when something expires or is used (the state changes, by event); lists',
    'are JSON text; times are integer milliseconds since the epoch. Column types are as declared in the migration',
    '(`bigint` is `int8` on PostgreSQL).',
    '',
  );
  for (const projection of PROJECTIONS) {
    for (const table of projection.tables) {
      const cols = columns.get(table);
      if (!cols) throw new Error(`docs/models.md: the projection ${projection.name} owns ${table}, which the schema lacks`);
      out.push(projectionSection(projection.name, table, projection.handles, cols));
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(MODELS_DOC, await renderModelsDoc());
  process.stdout.write(`wrote ${MODELS_DOC}\n`);
}

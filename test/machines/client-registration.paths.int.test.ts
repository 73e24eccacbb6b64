/**
 * client-registration: the shortest path to every state and through every transition, for
 * each kind of client (static, dynamic, metadata document), computed with xstate/graph from
 * the machine definition, each executed through the engine's core loop on SQLite and
 * PostgreSQL; the replay, the `clients` projection, a full rebuild and the hash chain are
 * checked.
 */
import { expect } from 'vitest';
import { clientRegistrationModel, ids } from './support/models.js';
import { num, tableRows } from './support/paths.js';
import { definePathSuite } from './support/suite.js';

/** Events that count as use of the client (they move `last_used_at`). */
const USE = new Set(['client.registered', 'client.used', 'client.metadata_refreshed']);

definePathSuite({
  model: clientRegistrationModel,
  streamId: (ns) => `client:${ids(ns).clientId}`,
  async expectRows({ store, ns, path, executed }) {
    const id = ids(ns);
    const rows = await tableRows(store, 'clients', { column: 'client_id', value: id.clientId });
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    const registered = executed.find((s) => s.type === 'client.registered')!;
    const described = [...executed].reverse().find((s) => s.type === 'client.registered' || s.type === 'client.metadata_refreshed')!;
    const used = [...executed].reverse().find((s) => USE.has(s.type))!;

    expect(row.status).toBe(path.target);
    expect(row).toMatchObject({
      kind: registered.payload.kind,
      secret_hash: described.payload.secretHash,
      allowed_patterns: JSON.stringify(registered.payload.allowedPatterns),
    });
    expect(JSON.parse(row.metadata as string)).toEqual(described.payload.metadata);
    expect(num(row.registered_at)).toBe(registered.at);
    expect(num(row.last_used_at)).toBe(used.at);
    expect(num(row.unused_ttl_ms)).toBe(registered.payload.unusedTtlMs);
  },
});

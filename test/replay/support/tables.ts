/** Table snapshots for comparing two stores (values as text, so SQLite and PostgreSQL compare). */
import type { Kysely } from 'kysely';
import { PROJECTIONS } from '../../../src/projections/index.js';

function norm(row: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(row).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, v === null ? null : String(v)])));
}

/** Every row of `table`, normalised and sorted. */
export async function tableRows(db: Kysely<any>, table: string): Promise<string[]> {
  return ((await db.selectFrom(table).selectAll().execute()) as Record<string, unknown>[]).map(norm).sort();
}

/** Every projection table's rows. */
export async function projectionRows(db: Kysely<any>): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const projection of PROJECTIONS) for (const table of projection.tables) out[table] = await tableRows(db, table);
  return out;
}

/** The events table in global order, normalised. */
export async function eventRows(db: Kysely<any>): Promise<string[]> {
  return ((await db.selectFrom('events').selectAll().orderBy('global_position').execute()) as Record<string, unknown>[]).map(norm);
}

/**
 * Compile-once writes for the projections. A projection's insert or update has SQL that
 * depends only on the table, the column names and the database, so each shape is compiled
 * once per open store (see `QueryTemplate`) and each event only supplies the values:
 * building and compiling a kysely query per event cost more than running it.
 *
 * @module
 */
import type { CompiledQuery } from 'kysely';
import type { ProjectionTransaction } from '../store/types.js';
import { QueryTemplate, slot } from '../store/query-template.js';

type Values = Readonly<Record<string, unknown>>;

/** Templates per kysely adapter (one per open store, so SQLite and PostgreSQL never mix). */
const templatesByAdapter = new WeakMap<object, Map<string, QueryTemplate>>();

function template(trx: ProjectionTransaction, key: string, compile: () => CompiledQuery): QueryTemplate {
  const adapter = trx.getExecutor().adapter;
  let templates = templatesByAdapter.get(adapter);
  if (!templates) {
    templates = new Map();
    templatesByAdapter.set(adapter, templates);
  }
  let found = templates.get(key);
  if (!found) {
    found = new QueryTemplate(compile());
    templates.set(key, found);
  }
  return found;
}

const slots = (prefix: string, values: Values) =>
  Object.fromEntries(Object.keys(values).map((column) => [column, slot(`${prefix}${column}`)]));

const bound = (prefix: string, values: Values) =>
  Object.fromEntries(Object.entries(values).map(([column, value]) => [`${prefix}${column}`, value]));

/** Inserts one row into `table`. */
export async function insertRow(trx: ProjectionTransaction, table: string, row: Values): Promise<void> {
  const query = template(trx, `insert:${table}:${Object.keys(row).join(',')}`, () =>
    trx.insertInto(table).values(slots('', row)).compile(),
  );
  await trx.executeQuery(query.bind(row));
}

/** Sets `set` on the rows of `table` whose columns equal every value in `where`. */
export async function updateRows(trx: ProjectionTransaction, table: string, set: Values, where: Values): Promise<void> {
  const key = `update:${table}:${Object.keys(set).join(',')}:${Object.keys(where).join(',')}`;
  const query = template(trx, key, () => {
    let update = trx.updateTable(table).set(slots('s:', set));
    for (const column of Object.keys(where)) update = update.where(column, '=', slot(`w:${column}`));
    return update.compile();
  });
  await trx.executeQuery(query.bind({ ...bound('s:', set), ...bound('w:', where) }));
}

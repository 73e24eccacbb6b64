/**
 * How operator commands print records: an aligned text table for people, JSON with
 * `--json` for scripts. Times are ISO 8601 in UTC.
 *
 * @module
 */

/** One column: its title and how a record renders in it. */
export type Column<T> = readonly [title: string, cell: (record: T) => string];

/** A time for people: ISO 8601 in UTC, to the second; `-` when absent. */
export function when(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A time for scripts: ISO 8601 with milliseconds, or null. */
export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** Records as an aligned text table with a header row (cells never contain newlines). */
export function textTable<T>(columns: ReadonlyArray<Column<T>>, records: readonly T[]): string {
  const flat = (text: string) => text.replace(/[\r\n\t]+/g, ' ');
  const rows = [columns.map(([title]) => title), ...records.map((r) => columns.map(([, cell]) => flat(cell(r))))];
  const widths = columns.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** Writes one line to stdout. */
export function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Writes a value as indented JSON to stdout. */
export function sayJson(value: unknown): void {
  say(JSON.stringify(value, null, 2));
}

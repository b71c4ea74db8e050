/**
 * CSV export (RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted, quotes doubled),
 * UTF-8, one header row of column names and nothing else: a units or comment line would be read as
 * data by TOPCAT, DuckDB and spreadsheets. Floats are written with the shortest decimal that reads back
 * to the same double. A missing value is an empty field; an empty string is written `""` so the two
 * stay apart.
 */

import { writeAtomically } from '../atomic-file.js';
import type { CatalogSource } from './batch.js';
import { COLUMNS, exportedName, type ColumnKind, type ColumnNaming, type KindValues } from './schema.js';

const FORMATS: { readonly [K in ColumnKind]: (value: KindValues[K]) => string } = {
  int64: String,
  int32: String,
  uint32: String,
  // String() drops the sign of -0.
  float64: (value) => (Object.is(value, -0) ? '-0' : String(value)),
  bool: (value) => (value ? 'true' : 'false'),
  utf8: (value) => value,
  category: (value) => value,
};

function field(text: string): string {
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function cell(kind: ColumnKind, value: unknown): string {
  if (value === null) return '';
  return field((FORMATS[kind] as (value: unknown) => string)(value));
}

const EOL = '\r\n';

/** Writes `source` as CSV; resolves to the number of rows. */
export async function writeCsvCatalog(target: string, source: CatalogSource, naming: ColumnNaming = 'vis-agn'): Promise<number> {
  return writeAtomically(target, async (file) => {
    await file.write(Buffer.from(COLUMNS.map((column) => field(exportedName(column.name, naming))).join(',') + EOL, 'utf8'));
    let rows = 0;
    for await (const batch of source.batches) {
      const lines: string[] = [];
      for (let i = 0; i < batch.length; i++) lines.push(COLUMNS.map((column) => cell(column.kind, batch.columns[column.name][i])).join(',') + EOL);
      await file.write(Buffer.from(lines.join(''), 'utf8'));
      rows += batch.length;
    }
    return rows;
  });
}

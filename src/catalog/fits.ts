/**
 * FITS binary-table export for TOPCAT and astropy users, through the project's own FITS writer: one
 * table HDU `CATALOG` with TUNITn, TUCDn and TCOMMn (description) per column and the run metadata as
 * header cards. FITS headers and string cells hold printable ASCII only, so other characters are
 * written as \uXXXX escapes (JSON metadata stays valid JSON that way).
 */

import { OutputError } from '../errors.js';
import { writeFits, type CardInput, type ColumnInput } from '../fits/writer.js';
import type { PixelArray } from '../fits/types.js';
import { asOutputError } from '../atomic-file.js';
import type { CatalogSource } from './batch.js';
import {
  CATALOG_SCHEMA,
  COLUMNS,
  encodeRunMetadata,
  exportedName,
  metadataEntries,
  SCHEMA_KEY,
  type CatalogValue,
  type ColumnKind,
  type ColumnNaming,
  type ColumnSpec,
  type RunMetadata,
} from './schema.js';

export const FITS_EXTNAME = 'CATALOG';

export function asciiEscape(text: string): string {
  return text.replace(/[^\x20-\x7e]/gu, (char) =>
    [...char]
      .flatMap((c) => (c.length > 1 ? [c.charCodeAt(0), c.charCodeAt(1)] : [c.charCodeAt(0)]))
      .map((code) => `\\u${code.toString(16).padStart(4, '0')}`)
      .join(''),
  );
}

type Cells = { readonly values: PixelArray } | { readonly logicals: readonly (boolean | null)[] } | { readonly strings: readonly string[]; readonly width?: number };

interface FitsCells {
  readonly cells: Cells;
  /** TNULLn (the stored value) of a nullable integer column. */
  readonly tnull?: number | bigint;
}

type IntegerArray = Int32Array | Uint32Array | BigInt64Array;

/**
 * An integer column with the kind's sentinel standing for null. `stored` is the sentinel as the file
 * holds it (after TZERO), which is what TNULLn names. A real value equal to the sentinel cannot be told
 * from null, so it is refused.
 */
function integerCells<T extends number | bigint>(
  column: ColumnSpec,
  values: readonly CatalogValue[],
  make: (length: number) => IntegerArray,
  sentinel: T,
  stored: T,
): FitsCells {
  const array = make(values.length);
  values.forEach((value, row) => {
    if (column.nullable && value === sentinel) throw new OutputError(`column ${column.name} row ${row}: ${String(value)} is the column's FITS null value`);
    array[row] = (value ?? sentinel) as never;
  });
  return column.nullable ? { cells: { values: array }, tnull: stored } : { cells: { values: array } };
}

const FITS_KINDS: { readonly [K in ColumnKind]: (column: ColumnSpec, values: readonly CatalogValue[]) => FitsCells } = {
  int64: (column, values) => integerCells(column, values, (n) => new BigInt64Array(n), -(2n ** 63n), -(2n ** 63n)),
  int32: (column, values) => integerCells(column, values, (n) => new Int32Array(n), -(2 ** 31), -(2 ** 31)),
  // Stored as signed J with TZERO = 2^31, so the largest value is stored as 2^31 - 1.
  uint32: (column, values) => integerCells(column, values, (n) => new Uint32Array(n), 2 ** 32 - 1, 2 ** 31 - 1),
  float64: (_column, values) => ({ cells: { values: Float64Array.from(values, (value) => (value === null ? NaN : (value as number))) } }),
  bool: (_column, values) => ({ cells: { logicals: values as readonly (boolean | null)[] } }),
  // FITS has no null string; a missing one is blank.
  utf8: (_column, values) => ({ cells: { strings: values.map((value) => asciiEscape((value as string | null) ?? '')) } }),
  category: (column, values) => ({
    cells: { strings: values.map((value) => (value as string | null) ?? ''), width: Math.max(...column.values!.map((v) => v.length)) },
  }),
};

function tableColumn(column: ColumnSpec, values: readonly CatalogValue[], naming: ColumnNaming): ColumnInput {
  const { cells, tnull } = FITS_KINDS[column.kind](column, values);
  const keywords = { TUCD: column.ucd, TCOMM: asciiEscape(column.description), ...(tnull === undefined ? {} : { TNULL: tnull }) };
  return { name: exportedName(column.name, naming), ...(column.unit === undefined ? {} : { unit: column.unit }), keywords, ...cells } as ColumnInput;
}

/** The run metadata as header cards of the table HDU (the source's metadata was checked when read). */
function metadataCards(metadata: RunMetadata, target: string): CardInput[] {
  const encoded = encodeRunMetadata(metadata, target);
  const cards: CardInput[] = [{ key: SCHEMA_KEY.fits, value: CATALOG_SCHEMA, comment: SCHEMA_KEY.description }];
  for (const [, { key, fits, description, codec }] of metadataEntries()) {
    const text = encoded.get(key)!;
    const value = codec.fits === 'integer' ? Number(text) : codec.fits === 'date' ? text.replace(/Z$/, '') : asciiEscape(text);
    cards.push({ key: fits, value, comment: description });
  }
  return cards;
}

/** Writes `source` as a FITS file with one binary table; resolves to the number of rows. Holds the table in memory. */
export async function writeFitsCatalog(target: string, source: CatalogSource, naming: ColumnNaming = 'vis-agn'): Promise<number> {
  const values: Record<string, CatalogValue[]> = Object.fromEntries(COLUMNS.map((column) => [column.name, []]));
  let rows = 0;
  for await (const batch of source.batches) {
    for (const column of COLUMNS) for (const value of batch.columns[column.name]) values[column.name]!.push(value);
    rows += batch.length;
  }
  let columns: ColumnInput[];
  try {
    columns = COLUMNS.map((column) => tableColumn(column, values[column.name]!, naming));
  } catch (error) {
    throw asOutputError(error, target);
  }
  const cards = metadataCards(source.metadata, target);
  await writeFits(target, [
    { type: 'empty', cards: [{ key: 'ORIGIN', value: 'vis-agn', comment: 'catalogue of AGN/QSO candidates' }] },
    { type: 'bintable', name: FITS_EXTNAME, columns, cards },
  ]);
  return rows;
}

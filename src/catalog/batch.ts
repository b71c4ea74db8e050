/**
 * Catalogue rows in column order, the unit every writer and exporter works in: the Arrow file is read
 * a record batch at a time, so exports of a catalogue larger than memory stream (FITS excepted).
 */

import { COLUMNS, type CatalogRow, type ColumnName, type RunMetadata } from './schema.js';

export type CatalogColumns = { readonly [N in ColumnName]: readonly CatalogRow[N][] };

export interface CatalogBatch {
  readonly length: number;
  readonly columns: CatalogColumns;
}

/** A catalogue to export: its metadata and its rows, a batch at a time, readable once. */
export interface CatalogSource {
  readonly metadata: RunMetadata;
  readonly batches: AsyncIterable<CatalogBatch>;
}

function buildColumns(length: number, valueAt: (name: ColumnName, index: number) => unknown): CatalogColumns {
  const columns: Record<string, unknown[]> = {};
  for (const { name } of COLUMNS) columns[name] = Array.from({ length }, (_, i) => valueAt(name, i));
  return columns as unknown as CatalogColumns;
}

export function batchFromRows(rows: readonly CatalogRow[]): CatalogBatch {
  return { length: rows.length, columns: buildColumns(rows.length, (name, i) => rows[i]![name]) };
}

export function rowAt(batch: CatalogBatch, index: number): CatalogRow {
  const row: Record<string, unknown> = {};
  for (const { name } of COLUMNS) row[name] = batch.columns[name][index];
  return row as CatalogRow;
}

/** The rows of `batch` for which `keep` holds, in order. */
export function selectRows(batch: CatalogBatch, keep: (row: CatalogRow) => boolean): CatalogBatch {
  const kept: number[] = [];
  for (let i = 0; i < batch.length; i++) if (keep(rowAt(batch, i))) kept.push(i);
  return { length: kept.length, columns: buildColumns(kept.length, (name, i) => batch.columns[name][kept[i]!]) };
}

/** The source with only its AGN/QSO candidates (`is_candidate`). */
export function candidatesOnly(source: CatalogSource): CatalogSource {
  return {
    metadata: source.metadata,
    batches: (async function* () {
      for await (const batch of source.batches) yield selectRows(batch, (row) => row.is_candidate);
    })(),
  };
}

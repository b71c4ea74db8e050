/**
 * The export formats by name, each with its file extension and writer: the `export` command and its
 * help text read this table, so a new format is one entry here and one module beside it.
 */

import { candidatesOnly, type CatalogSource } from './batch.js';
import { writeCsvCatalog } from './csv.js';
import { writeDs9Regions } from './ds9.js';
import { writeFitsCatalog } from './fits.js';
import { writeParquetCatalog } from './parquet.js';
import { openCatalog } from './read.js';
import type { ColumnNaming } from './schema.js';

export interface ExportFormat {
  readonly extension: string;
  readonly description: string;
  /** Resolves to the number of rows (for ds9, regions) written. */
  write(target: string, source: CatalogSource, naming?: ColumnNaming): Promise<number>;
}

export const EXPORT_FORMATS = {
  parquet: { extension: 'parquet', description: 'Parquet, for DuckDB, pandas and archives', write: (target: string, source: CatalogSource, naming?: ColumnNaming) => writeParquetCatalog(target, source, { naming: naming ?? 'vis-agn' }) },
  fits: { extension: 'fits', description: 'FITS binary table, for TOPCAT and astropy', write: writeFitsCatalog },
  csv: { extension: 'csv', description: 'CSV (RFC 4180) with a header row', write: writeCsvCatalog },
  ds9: { extension: 'reg', description: 'ds9 region file of the candidates', write: writeDs9Regions },
} as const satisfies Record<string, ExportFormat>;

export type ExportFormatName = keyof typeof EXPORT_FORMATS;

/** `run.arrow` becomes `run.parquet`, or `run.candidates.parquet` with --candidates-only. */
export function defaultExportPath(input: string, format: ExportFormatName, candidatesOnly: boolean): string {
  const stem = input.replace(/\.arrow$/i, '');
  return `${stem}${candidatesOnly && format !== 'ds9' ? '.candidates' : ''}.${EXPORT_FORMATS[format].extension}`;
}

export interface ExportOptions {
  /** Keep only rows with `is_candidate` (ds9 always does). */
  readonly candidatesOnly?: boolean;
  /** Column names: vis-agn's (default) or the Euclid MER catalogue's where the meaning is the same. */
  readonly naming?: ColumnNaming;
}

/** Reads the Arrow catalogue at `input` and writes it to `target` as `format`; resolves to the rows written. */
export async function exportCatalog(input: string, format: ExportFormatName, target: string, options: ExportOptions = {}): Promise<number> {
  const file = await openCatalog(input);
  try {
    return await EXPORT_FORMATS[format].write(target, options.candidatesOnly ? candidatesOnly(file) : file, options.naming ?? 'vis-agn');
  } finally {
    await file.close();
  }
}

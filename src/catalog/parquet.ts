/**
 * Parquet export, for archives and DuckDB. Streams: row groups are encoded as the Arrow batches are
 * read and written to the temporary file as each completes. Units, UCDs and descriptions travel in
 * the file's key-value metadata twice: as `ARROW:schema` (the Arrow schema with its field metadata,
 * which pyarrow and polars restore on read) and as `vis_agn.columns` (plain JSON, for DuckDB's
 * parquet_kv_metadata()), beside the run metadata under the same keys as in the Arrow file.
 */

import { ByteWriter, ParquetWriter, type KeyValue, type SchemaElement } from 'hyparquet-writer';

import { schemaMessage } from './arrow.js';
import { writeAtomically, type AtomicFile } from '../atomic-file.js';
import type { CatalogSource } from './batch.js';
import { Field, Schema } from 'apache-arrow';

import { catalogArrowSchema, COLUMNS, encodeRunMetadata, exportedName, type CatalogValue, type ColumnKind, type ColumnNaming, type ColumnSpec, type RunMetadata } from './schema.js';

/** Rows per row group: DuckDB parallelises over row groups, and ~100k rows keeps each a few MB. */
export const ROW_GROUP_ROWS = 100_000;

export const COLUMNS_KEY = 'vis_agn.columns';

const PARQUET_TYPES: { readonly [K in ColumnKind]: Omit<SchemaElement, 'name' | 'repetition_type'> } = {
  int64: { type: 'INT64' },
  int32: { type: 'INT32' },
  uint32: { type: 'INT32', converted_type: 'UINT_32' },
  float64: { type: 'DOUBLE' },
  bool: { type: 'BOOLEAN' },
  utf8: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  // Plain strings: readers without dictionary-to-enum mapping still see the class names.
  category: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
};

function parquetSchema(naming: ColumnNaming): SchemaElement[] {
  return [
    { name: 'schema', num_children: COLUMNS.length },
    ...COLUMNS.map((column): SchemaElement => ({ name: exportedName(column.name, naming), repetition_type: column.nullable ? 'OPTIONAL' : 'REQUIRED', ...PARQUET_TYPES[column.kind] })),
  ];
}

function keyValueMetadata(metadata: RunMetadata, target: string, naming: ColumnNaming): KeyValue[] {
  const columns = COLUMNS.map(({ name, unit, ucd, description }: ColumnSpec) => ({ name: exportedName(name, naming), unit: unit ?? null, ucd, description }));
  const arrow = catalogArrowSchema(metadata, target);
  const renamed = new Schema(arrow.fields.map((f) => new Field(exportedName(f.name, naming), f.type, f.nullable, f.metadata)), arrow.metadata);
  return [
    ...[...encodeRunMetadata(metadata, target)].map(([key, value]) => ({ key, value })),
    { key: COLUMNS_KEY, value: JSON.stringify(columns) },
    { key: 'ARROW:schema', value: Buffer.from(schemaMessage(renamed)).toString('base64') },
  ];
}

/** hyparquet-writer's buffer, emptied into the file after every row group and at the end. */
class FileSink extends ByteWriter {
  constructor(private readonly file: AtomicFile) {
    super(1 << 20);
  }

  flush(): Promise<void> {
    const bytes = new Uint8Array(this.buffer.slice(0, this.index));
    this.index = 0;
    return this.file.write(bytes);
  }

  override finish(): Promise<void> {
    return this.flush();
  }
}

export interface ParquetOptions {
  /** Whole record batches go into a row group until it holds at least this many rows. */
  readonly rowGroupRows?: number;
  readonly naming?: ColumnNaming;
}

/** Writes `source` as Parquet; resolves to the number of rows. */
export async function writeParquetCatalog(target: string, source: CatalogSource, options: ParquetOptions = {}): Promise<number> {
  const rowGroupRows = options.rowGroupRows ?? ROW_GROUP_ROWS;
  const naming = options.naming ?? 'vis-agn';
  const kvMetadata = keyValueMetadata(source.metadata, target, naming);
  return writeAtomically(target, async (file) => {
    const writer = new ParquetWriter({ writer: new FileSink(file), schema: parquetSchema(naming), kvMetadata, createdBy: `vis-agn version ${source.metadata.visAgnVersion}` });
    let pending: Record<string, CatalogValue[]> = {};
    let pendingRows = 0;
    let rows = 0;
    const writeRowGroup = async (): Promise<void> => {
      if (pendingRows === 0) return;
      const columnData = COLUMNS.map((column) => ({ name: exportedName(column.name, naming), data: pending[column.name]! }));
      await writer.write({ columnData, rowGroupSize: pendingRows });
      rows += pendingRows;
      pending = {};
      pendingRows = 0;
    };
    for await (const batch of source.batches) {
      for (const column of COLUMNS) {
        const values = (pending[column.name] ??= []);
        for (const value of batch.columns[column.name]) values.push(value);
      }
      pendingRows += batch.length;
      if (pendingRows >= rowGroupRows) await writeRowGroup();
    }
    await writeRowGroup();
    await writer.finish();
    return rows;
  });
}

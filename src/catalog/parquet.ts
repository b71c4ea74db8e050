/**
 * Parquet export, for archives and DuckDB. Streams: row groups are encoded as the Arrow batches are
 * read and written to the temporary file as each completes. Units, UCDs and descriptions travel in
 * the file's key-value metadata three times: as `ARROW:schema` (the Arrow schema with its field
 * metadata, which pyarrow and polars restore on read), as `vis_agn.columns` (plain JSON, for DuckDB's
 * parquet_kv_metadata()) and as astropy's `table_meta_yaml` (with `table::len::NAME` per string
 * column), beside the run metadata under the same keys as in the Arrow file.
 *
 * pyarrow takes a file's schema metadata from inside `ARROW:schema` when there is one, not from the
 * Parquet key-value pairs, so astropy's keys are in both. For the same reason `ARROW:schema` declares
 * candidate_class a plain string, as the Parquet column is: a dictionary there makes pyarrow read it
 * as one, whose dtype astropy's Parquet reader cannot map (NotImplementedError).
 */

import { ByteWriter, ParquetWriter, type KeyValue, type SchemaElement } from 'hyparquet-writer';

import { schemaMessage } from './arrow.js';
import { writeAtomically, type AtomicFile } from '../atomic-file.js';
import type { CatalogSource } from './batch.js';
import { DataType, Field, Schema } from 'apache-arrow';

import { CATALOG_FIELDS, COLUMNS, encodeRunMetadata, exportedName, type CatalogValue, type ColumnKind, type ColumnNaming, type ColumnSpec } from './schema.js';

/** Rows per row group: DuckDB parallelises over row groups, and ~100k rows keeps each a few MB. */
export const ROW_GROUP_ROWS = 100_000;

export const COLUMNS_KEY = 'vis_agn.columns';

/** astropy's Parquet keys: the ECSV-style header it writes and reads, and the width of a string column. */
const ASTROPY_YAML_KEY = 'table_meta_yaml';
const astropyLengthKey = (name: string): string => `table::len::${name}`;

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

/** The ECSV datatype astropy gives each kind. */
const ASTROPY_DATATYPES: { readonly [K in ColumnKind]: string } = {
  int64: 'int64',
  int32: 'int32',
  uint32: 'uint32',
  float64: 'float64',
  bool: 'bool',
  utf8: 'string',
  category: 'string',
};

const isString = (column: ColumnSpec): boolean => ASTROPY_DATATYPES[column.kind] === 'string';

function parquetSchema(naming: ColumnNaming): SchemaElement[] {
  return [
    { name: 'schema', num_children: COLUMNS.length },
    ...COLUMNS.map((column): SchemaElement => ({ name: exportedName(column.name, naming), repetition_type: column.nullable ? 'OPTIONAL' : 'REQUIRED', ...PARQUET_TYPES[column.kind] })),
  ];
}

/**
 * A YAML double-quoted scalar in printable ASCII, as astropy's own writer leaves its header: other
 * characters as \uXXXX or \UXXXXXXXX escapes of their code point (PyYAML reads a surrogate pair
 * written as two \u escapes as two characters).
 */
function yamlString(text: string): string {
  let quoted = '"';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === '\\') quoted += `\\${char}`;
    else if (code >= 0x20 && code < 0x7f) quoted += char;
    else quoted += code > 0xffff ? `\\U${code.toString(16).padStart(8, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return `${quoted}"`;
}

/**
 * What astropy's Parquet reader restores the table from: `table_meta_yaml`, the header astropy's
 * get_yaml_from_table writes (every column with its datatype, unit, description and UCD as `meta`,
 * the run metadata as the table's `meta`), and `table::len::NAME`, the width of each string column
 * (its longest value in UTF-8 bytes, never fewer than astropy's characters), which it otherwise
 * guesses from the rows.
 */
function astropyMetadata(run: ReadonlyMap<string, string>, naming: ColumnNaming, stringBytes: Readonly<Record<string, number>>): Map<string, string> {
  const yaml = ['datatype:'];
  for (const column of COLUMNS as readonly ColumnSpec[]) {
    yaml.push(`- name: ${yamlString(exportedName(column.name, naming))}`, `  datatype: ${ASTROPY_DATATYPES[column.kind]}`);
    if (column.unit !== undefined) yaml.push(`  unit: ${yamlString(column.unit)}`);
    yaml.push(`  description: ${yamlString(column.description)}`, '  meta:', `    ucd: ${yamlString(column.ucd)}`);
  }
  yaml.push('meta:', ...[...run].map(([key, value]) => `  ${yamlString(key)}: ${yamlString(value)}`));
  const lengths = COLUMNS.filter(isString).map((column): [string, string] => [astropyLengthKey(exportedName(column.name, naming)), String(stringBytes[column.name] ?? 0)]);
  return new Map([[ASTROPY_YAML_KEY, yaml.join('\n')], ...lengths]);
}

function keyValueMetadata(run: ReadonlyMap<string, string>, naming: ColumnNaming, stringBytes: Readonly<Record<string, number>>): KeyValue[] {
  const columns = COLUMNS.map(({ name, unit, ucd, description }: ColumnSpec) => ({ name: exportedName(name, naming), unit: unit ?? null, ucd, description }));
  const astropy = astropyMetadata(run, naming, stringBytes);
  // The Parquet column's own type: a category is a plain string column here (see the top of the file).
  const fields = CATALOG_FIELDS.map((f) => new Field(exportedName(f.name, naming), DataType.isDictionary(f.type) ? f.type.dictionary : f.type, f.nullable, f.metadata));
  const arrow = new Schema(fields, new Map([...run, ...astropy]));
  return [
    ...[...run].map(([key, value]) => ({ key, value })),
    { key: COLUMNS_KEY, value: JSON.stringify(columns) },
    ...[...astropy].map(([key, value]) => ({ key, value })),
    { key: 'ARROW:schema', value: Buffer.from(schemaMessage(arrow)).toString('base64') },
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
  // Invalid metadata is refused before anything is written.
  const run = encodeRunMetadata(source.metadata, target);
  return writeAtomically(target, async (file) => {
    const writer = new ParquetWriter({ writer: new FileSink(file), schema: parquetSchema(naming), createdBy: `vis-agn version ${source.metadata.visAgnVersion}` });
    /** Longest value of each string column in UTF-8 bytes, for astropy's table::len keys. */
    const stringBytes: Record<string, number> = {};
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
        if (isString(column)) {
          for (const value of batch.columns[column.name]) {
            if (typeof value === 'string') stringBytes[column.name] = Math.max(stringBytes[column.name] ?? 0, Buffer.byteLength(value, 'utf8'));
          }
        }
      }
      pendingRows += batch.length;
      if (pendingRows >= rowGroupRows) await writeRowGroup();
    }
    await writeRowGroup();
    // The footer's metadata: astropy's string widths are known only now that every row is written.
    writer.kvMetadata = keyValueMetadata(run, naming, stringBytes);
    await writer.finish();
    return rows;
  });
}

/**
 * Reads catalogues back: the run metadata, and the rows a record batch at a time (never the whole file
 * at once), checked against the schema so an export never misreads a foreign or older Arrow file.
 */

import { open, type FileHandle } from 'node:fs/promises';

import { RecordBatchReader, type RecordBatch, type Schema } from 'apache-arrow';

import { InputNotFoundError, InvalidInputError, type ErrorLocation } from '../errors.js';
import { rowAt, type CatalogBatch, type CatalogColumns, type CatalogSource } from './batch.js';
import { CATALOG_FIELDS, COLUMNS, decodeRunMetadata, type CatalogRow, type RunMetadata } from './schema.js';

export interface CatalogFile extends CatalogSource {
  readonly path: string;
  /** The Arrow schema as stored, with its field and schema metadata. */
  readonly schema: Schema;
  /** Only needed when `batches` is not read to the end. */
  close(): Promise<void>;
}

/** Where each catalogue column sits in the file, checking names, types and nullability. */
function columnIndices(schema: Schema, location: ErrorLocation): number[] {
  return CATALOG_FIELDS.map((expected) => {
    const index = schema.fields.findIndex((field) => field.name === expected.name);
    const found = schema.fields[index];
    if (found === undefined) throw new InvalidInputError(`catalogue has no column ${expected.name}`, location);
    if (String(found.type) !== String(expected.type)) {
      throw new InvalidInputError(`column ${expected.name} is ${String(found.type)}, expected ${String(expected.type)}`, location);
    }
    return index;
  });
}

function toBatch(batch: RecordBatch, indices: readonly number[], location: ErrorLocation): CatalogBatch {
  const columns: Record<string, unknown[]> = {};
  COLUMNS.forEach((column, c) => {
    const vector = batch.getChildAt(indices[c]!)!;
    const values: unknown[] = new Array(batch.numRows);
    for (let i = 0; i < batch.numRows; i++) values[i] = vector.get(i) ?? null;
    if (!column.nullable && vector.nullCount > 0) throw new InvalidInputError(`column ${column.name} holds nulls but is not nullable`, location);
    if ('values' in column) {
      const allowed: readonly unknown[] = column.values;
      const stray = values.find((value) => value !== null && !allowed.includes(value));
      if (stray !== undefined) throw new InvalidInputError(`column ${column.name} holds ${JSON.stringify(stray)}, not one of ${allowed.join(', ')}`, location);
    }
    columns[column.name] = values;
  });
  return { length: batch.numRows, columns: columns as unknown as CatalogColumns };
}

async function openArrow(handle: FileHandle, location: ErrorLocation): Promise<RecordBatchReader> {
  try {
    const reader = await RecordBatchReader.from(handle);
    return await reader.open();
  } catch (error) {
    throw new InvalidInputError(`not an Arrow IPC file: ${(error as Error).message}`, location, { cause: error });
  }
}

/** Opens a catalogue and checks its schema and metadata; rows are read as `batches` is iterated. */
export async function openCatalog(path: string): Promise<CatalogFile> {
  const location = { file: path };
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new InputNotFoundError(`cannot open: ${(error as Error).message}`, location, { cause: error });
  }
  try {
    const reader = await openArrow(handle, location);
    const indices = columnIndices(reader.schema, location);
    const metadata = decodeRunMetadata(reader.schema.metadata, location);
    const batches = (async function* () {
      try {
        for await (const batch of reader) yield toBatch(batch, indices, location);
      } catch (error) {
        throw error instanceof InvalidInputError ? error : new InvalidInputError(`unreadable record batch: ${(error as Error).message}`, location, { cause: error });
      } finally {
        await handle.close();
      }
    })();
    return { path, schema: reader.schema, metadata, batches, close: () => handle.close().catch(() => undefined) };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

export interface Catalog {
  readonly metadata: RunMetadata;
  readonly schema: Schema;
  readonly rows: readonly CatalogRow[];
}

/** The whole catalogue in memory, for inspection and tests; exports stream with openCatalog. */
export async function readCatalog(path: string): Promise<Catalog> {
  const file = await openCatalog(path);
  const rows: CatalogRow[] = [];
  for await (const batch of file.batches) for (let i = 0; i < batch.length; i++) rows.push(rowAt(batch, i));
  return { metadata: file.metadata, schema: file.schema, rows };
}

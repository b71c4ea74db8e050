/**
 * Arrow IPC catalogues: the file format a run writes and every export reads. Rows arrive one at a time
 * from the batch engine and leave as record batches while the run goes on; the file appears at its
 * name only when closed (temp + rename), so a crashed run leaves no half catalogue behind.
 */

import {
  Data,
  Dictionary,
  Int8,
  makeBuilder,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  Table,
  tableToIPC,
  Utf8,
  vectorFromArray,
  type DataType,
  type Vector,
} from 'apache-arrow';

import { OutputError } from '../errors.js';
import { AtomicFile, asOutputError } from '../atomic-file.js';
import { batchFromRows, type CatalogBatch } from './batch.js';
import { catalogArrowSchema, COLUMNS, rowProblem, type CatalogRow, type CatalogValue, type ColumnSpec, type RunMetadata } from './schema.js';

/** Rows per record batch: large enough that per-batch overhead vanishes, small enough to stream. */
export const DEFAULT_BATCH_ROWS = 8192;

/** The fixed dictionary of each category column, shared by every batch so the file holds it once. */
const DICTIONARIES: ReadonlyMap<string, Vector<Utf8>> = new Map(
  COLUMNS.flatMap((column: ColumnSpec) => (column.values === undefined ? [] : [[column.name, vectorFromArray([...column.values], new Utf8())]])),
);

/** Arrow's validity bitmap (bit set = valid) and null count, or none when every value is present. */
function validity(values: readonly CatalogValue[]): { nullBitmap?: Uint8Array; nullCount: number } {
  const nullCount = values.filter((value) => value === null).length;
  if (nullCount === 0) return { nullCount };
  const nullBitmap = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((value, i) => {
    if (value !== null) nullBitmap[i >> 3]! |= 1 << (i & 7);
  });
  return { nullBitmap, nullCount };
}

function columnData(column: ColumnSpec, type: DataType, values: readonly CatalogValue[]): Data {
  const dictionary = DICTIONARIES.get(column.name);
  if (dictionary !== undefined) {
    const codes = Int8Array.from(values, (value): number => (value === null ? 0 : column.values!.indexOf(value as string)));
    return makeData({ type: type as Dictionary<Utf8, Int8>, length: values.length, data: codes, dictionary, ...validity(values) });
  }
  const builder = makeBuilder({ type, nullValues: [null] });
  for (const value of values) builder.append(value);
  return builder.finish().flush();
}

/** `batch` as a record batch of `schema` (a catalogue schema from catalogArrowSchema). */
function recordBatchOf(schema: Schema, batch: CatalogBatch): RecordBatch {
  const children = COLUMNS.map((column, i) => columnData(column, schema.fields[i]!.type, batch.columns[column.name]));
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: batch.length, nullCount: 0, children }));
}

/**
 * The schema as one encapsulated IPC message (continuation marker, length, flatbuffer), the form
 * Parquet writers store base64-encoded under `ARROW:schema` so Arrow readers get back field metadata.
 */
export function schemaMessage(schema: Schema): Uint8Array {
  const stream = tableToIPC(new Table(schema), 'stream');
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  if (view.getUint32(0, true) !== 0xffffffff) throw new Error('apache-arrow wrote an IPC stream without a continuation marker');
  return stream.subarray(0, 8 + view.getInt32(4, true));
}

export interface CatalogWriterOptions {
  readonly batchRows?: number;
}

/**
 * Writes a catalogue row by row. `append` validates each row (a bad row is refused with an OutputError
 * and the writer stays usable) and hands full batches to a background loop that writes them to the
 * temporary file; `close` writes the rest and the footer and moves the file into place. An I/O failure
 * abandons the file and is reported by the next `append` or by `close`.
 *
 *     const writer = await CatalogWriter.create('run.arrow', metadata);
 *     for await (const row of scored) writer.append(row);
 *     await writer.close();
 */
export class CatalogWriter {
  private pending: CatalogRow[] = [];
  private written = 0;
  private failure: OutputError | undefined;
  private finished = false;
  private readonly ipc = new RecordBatchFileWriter();
  private readonly drained: Promise<void>;

  private constructor(
    readonly path: string,
    private readonly file: AtomicFile,
    private readonly schema: Schema,
    private readonly batchRows: number,
  ) {
    this.ipc.reset(undefined, schema);
    this.drained = this.drain();
  }

  /** Checks the metadata before any file is created. */
  static async create(target: string, metadata: RunMetadata, options: CatalogWriterOptions = {}): Promise<CatalogWriter> {
    const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
    if (!Number.isSafeInteger(batchRows) || batchRows < 1) throw new OutputError(`batchRows must be a positive integer, not ${batchRows}`, { file: target });
    const schema = catalogArrowSchema(metadata, target);
    return new CatalogWriter(target, await AtomicFile.create(target), schema, batchRows);
  }

  /** Rows accepted so far. */
  get rows(): number {
    return this.written + this.pending.length;
  }

  append(row: CatalogRow): void {
    this.checkUsable();
    const problem = rowProblem(row);
    if (problem !== undefined) throw new OutputError(`row ${this.rows} (object_id ${String(row.object_id)}): ${problem}`, { file: this.path });
    this.pending.push(row);
    if (this.pending.length >= this.batchRows) this.writeBatch();
  }

  /** Writes what is left and moves the file into place; resolves to the number of rows. */
  async close(): Promise<number> {
    this.checkUsable();
    this.writeBatch();
    this.finished = true;
    this.ipc.close();
    await this.drained;
    if (this.failure !== undefined) {
      await this.file.abort();
      throw this.failure;
    }
    await this.file.commit();
    return this.written;
  }

  /** Gives up: nothing appears at the target. Safe to call more than once. */
  async abort(): Promise<void> {
    this.finished = true;
    this.failure ??= new OutputError('the catalogue was abandoned', { file: this.path });
    this.ipc.abort();
    await this.drained;
    await this.file.abort();
  }

  private checkUsable(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.finished) throw new OutputError('the catalogue writer is already closed', { file: this.path });
  }

  private writeBatch(): void {
    if (this.pending.length === 0) return;
    this.ipc.write(recordBatchOf(this.schema, batchFromRows(this.pending)));
    this.written += this.pending.length;
    this.pending = [];
  }

  private async drain(): Promise<void> {
    try {
      for await (const chunk of this.ipc) await this.file.write(chunk);
    } catch (error) {
      this.failure ??= asOutputError(error, this.path);
    }
  }
}

/** Writes `rows` as a catalogue at `target`; resolves to the number of rows. */
export async function writeCatalog(
  target: string,
  metadata: RunMetadata,
  rows: Iterable<CatalogRow> | AsyncIterable<CatalogRow>,
  options: CatalogWriterOptions = {},
): Promise<number> {
  const writer = await CatalogWriter.create(target, metadata, options);
  try {
    for await (const row of rows) writer.append(row);
    return await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

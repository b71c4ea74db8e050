/**
 * Binary table extensions (FITS 4.0 section 7.3): column metadata from the header, and columns, cells
 * or the raw bytes of variable-length arrays read on demand, touching only the rows (and heap bytes)
 * asked for. Also the parts both kinds of FITS table share (column lookup, row ranges, the TTYPEn
 * family of keywords, reading rows in blocks), which the ASCII-table reader reuses.
 */

import { InvalidInputError, type ErrorLocation } from '../errors.js';
import {
  byteBlock,
  parseBinaryTform,
  type BinaryTform,
  type ByteBlock,
  type ElementArray,
  type ElementDecoder,
  type ValueDtype,
} from './tform.js';
import type { ByteSource, HduInfo, HeaderLookup, HeaderValue } from './types.js';

/** Rows `start` (inclusive) to `end` (exclusive), 0-based. */
export interface RowRange {
  readonly start: number;
  readonly end: number;
}

/** A column by 0-based index or by TTYPEn (exact match first, then case-insensitive as FITS 4.0 asks). */
export type ColumnRef = string | number;

export interface TableColumn {
  /** 0-based; the header keywords of the column carry `index + 1`. */
  readonly index: number;
  /** TTYPEn, or '' when absent. */
  readonly name: string;
  /** TFORMn as written, trimmed. */
  readonly format: string;
  readonly unit?: string | undefined;
  readonly disp?: string | undefined;
  /** TSCALn, 1 when absent. */
  readonly scale: number;
  /** TZEROn, 0 when absent; a bigint when the header holds an integer beyond 2^53 (e.g. 2^63). */
  readonly zero: number | bigint;
  /** What `readColumn` gives, after TSCALn/TZEROn. */
  readonly dtype: ValueDtype;
}

/** A column whose cells all have the same number of values. */
export interface FixedColumnData {
  readonly varying: false;
  readonly dtype: ValueDtype;
  readonly rows: number;
  /** Array slots per row: elements (bits for X), twice that for complex, strings for A. */
  readonly stride: number;
  /** Row r holds slots [r * stride, (r + 1) * stride). */
  readonly values: ElementArray;
  /** Only when TNULLn is set: 1 for each slot stored as the null value. */
  readonly nullMask?: Uint8Array | undefined;
}

/** A variable-length-array (P/Q) column: one array per row, decoded like a fixed cell of its length. */
export interface VarColumnData {
  readonly varying: true;
  readonly dtype: ValueDtype;
  readonly rows: number;
  readonly cells: readonly ElementArray[];
  /** Only when TNULLn is set: per cell, 1 for each slot stored as the null value. */
  readonly nullMasks?: readonly Uint8Array[] | undefined;
}

export type ColumnData = FixedColumnData | VarColumnData;

/** What binary and ASCII tables both offer. */
export interface FitsTable<C extends TableColumn = TableColumn> {
  readonly nrows: number;
  readonly columns: readonly C[];
  column(ref: ColumnRef): C;
  /** All rows, or `rows`; reads only those rows from the source. */
  readColumn(ref: ColumnRef, rows?: RowRange): ColumnData;
  /** The values of one cell, as `readColumn` would give them for that row. */
  readCell(row: number, ref: ColumnRef): ElementArray;
}

export interface BinaryColumn extends TableColumn {
  readonly tform: BinaryTform;
  /** TDIMn, FITS order (fastest varying first); for A the first axis is the string length. */
  readonly dim?: readonly number[] | undefined;
  /** TNULLn, kept only for integer element types (B, I, J, K and P/Q arrays of them). */
  readonly null?: number | bigint | undefined;
  /** Byte offset of the field within a row. */
  readonly offset: number;
  /** A P/Q column: cells live in the heap. */
  readonly varying: boolean;
}

export interface BinaryTable extends FitsTable<BinaryColumn> {
  readonly hdu: HduInfo;
  /** NAXIS1. */
  readonly rowBytes: number;
  /** THEAP: bytes from the start of the data unit to the heap. */
  readonly heapOffset: number;
  /** Bytes from THEAP to the end of the data unit. */
  readonly heapSize: number;
  /**
   * The bytes of one P/Q cell exactly as stored in the heap (big-endian, no TSCAL/TZERO), e.g. one
   * compressed tile. May share memory with the source: treat as read-only.
   */
  readVarBytes(row: number, ref: ColumnRef): Uint8Array;
}

function integerValue(value: HeaderValue | undefined): number | undefined {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : undefined;
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

/** Reads the integer keyword `key`, `fallback` when absent; throws when malformed or below `min`. */
export function headerInt(header: HeaderLookup, key: string, at: ErrorLocation, fallback?: number, min = 0): number {
  const raw = header.get(key);
  if (raw === undefined && fallback !== undefined) return fallback;
  const value = integerValue(raw);
  if (value === undefined) throw new InvalidInputError(`${key} = ${String(raw)} is not an integer`, at);
  if (value < min) throw new InvalidInputError(`${key} = ${value} is below ${min}`, at);
  return value;
}

function headerString(header: HeaderLookup, key: string, at: ErrorLocation): string | undefined {
  const raw = header.get(key);
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string') throw new InvalidInputError(`${key} = ${String(raw)} is not a string`, at);
  return raw.trimEnd();
}

function headerReal(header: HeaderLookup, key: string, at: ErrorLocation): number | bigint | undefined {
  const raw = header.get(key);
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'bigint') return Number.isSafeInteger(Number(raw)) ? Number(raw) : raw;
  if (typeof raw !== 'number') throw new InvalidInputError(`${key} = ${String(raw)} is not a number`, at);
  return raw;
}

/** The keywords of one table, checked against the layout FITS 4.0 requires of it. */
export interface TableLayout {
  readonly at: ErrorLocation;
  readonly header: HeaderLookup;
  readonly rowBytes: number;
  readonly nrows: number;
  readonly fields: number;
  readonly pcount: number;
}

export function tableLayout(source: ByteSource, hdu: HduInfo, xtensions: readonly string[]): TableLayout {
  const at: ErrorLocation = { file: source.path, hdu: hdu.index };
  const { header } = hdu;
  const xtension = headerString(header, 'XTENSION', at);
  if (xtension === undefined || !xtensions.includes(xtension.trim())) {
    throw new InvalidInputError(`XTENSION = '${xtension ?? ''}', expected ${xtensions.map((x) => `'${x}'`).join(' or ')}`, at);
  }
  if (headerInt(header, 'BITPIX', at, undefined, -64) !== 8) throw new InvalidInputError('a table must have BITPIX = 8', at);
  if (headerInt(header, 'NAXIS', at) !== 2) throw new InvalidInputError('a table must have NAXIS = 2', at);
  if (headerInt(header, 'GCOUNT', at, 1) !== 1) throw new InvalidInputError('a table must have GCOUNT = 1', at);
  const layout = {
    at,
    header,
    rowBytes: headerInt(header, 'NAXIS1', at),
    nrows: headerInt(header, 'NAXIS2', at),
    fields: headerInt(header, 'TFIELDS', at),
    pcount: headerInt(header, 'PCOUNT', at, 0),
  };
  // The standard's bound, checked before the column loop it sizes.
  if (layout.fields > 999) throw new InvalidInputError(`TFIELDS = ${layout.fields} is above 999`, at);
  return layout;
}

/** The keywords every table column may carry, and the column's name for messages. */
export interface ColumnKeywords {
  readonly label: string;
  readonly common: Omit<TableColumn, 'dtype'>;
}

export function columnKeywords(layout: TableLayout, index: number): ColumnKeywords {
  const { header, at } = layout;
  const n = index + 1;
  const name = headerString(header, `TTYPE${n}`, at) ?? '';
  const format = headerString(header, `TFORM${n}`, at);
  const label = `column ${n}${name === '' ? '' : ` (${name})`}`;
  if (format === undefined) throw new InvalidInputError(`${label}: TFORM${n} is missing`, at);
  const scale = headerReal(header, `TSCAL${n}`, at) ?? 1;
  if (typeof scale === 'bigint') throw new InvalidInputError(`${label}: TSCAL${n} = ${scale} is out of range`, at);
  const common = {
    index,
    name,
    format: format.trim(),
    unit: headerString(header, `TUNIT${n}`, at)?.trim() || undefined,
    disp: headerString(header, `TDISP${n}`, at)?.trim() || undefined,
    scale,
    zero: headerReal(header, `TZERO${n}`, at) ?? 0,
  };
  return { label, common };
}

export function findColumn<C extends TableColumn>(columns: readonly C[], ref: ColumnRef, at: ErrorLocation): C {
  if (typeof ref === 'number') {
    const column = Number.isInteger(ref) ? columns[ref] : undefined;
    if (column === undefined) throw new InvalidInputError(`no column ${ref} (the table has ${columns.length})`, at);
    return column;
  }
  const folded = ref.toUpperCase();
  const column = columns.find((c) => c.name === ref) ?? columns.find((c) => c.name.toUpperCase() === folded);
  if (column === undefined) throw new InvalidInputError(`no column named '${ref}'`, at);
  return column;
}

export function checkRows(rows: RowRange | undefined, nrows: number, at: ErrorLocation): RowRange {
  const range = rows ?? { start: 0, end: nrows };
  const { start, end } = range;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > nrows) {
    throw new InvalidInputError(`rows [${start}, ${end}) are not within the table's ${nrows} rows`, at);
  }
  return range;
}

/** Large enough that a read costs little per row, small enough that a narrow column of a wide table stays cheap. */
const BLOCK_BYTES = 8 * 1024 * 1024;

/**
 * Reads rows `range` in contiguous blocks and hands each to `visit` with the block's first row; row
 * r of a block starts at byte (r - firstRow) * rowBytes.
 */
export function readRowBlocks(
  source: ByteSource,
  dataOffset: number,
  rowBytes: number,
  range: RowRange,
  visit: (block: ByteBlock, firstRow: number, rows: number) => void,
): void {
  const rowsPerBlock = rowBytes === 0 ? Math.max(1, range.end - range.start) : Math.max(1, Math.floor(BLOCK_BYTES / rowBytes));
  for (let first = range.start; first < range.end; first += rowsPerBlock) {
    const rows = Math.min(rowsPerBlock, range.end - first);
    visit(byteBlock(source.read(dataOffset + first * rowBytes, rows * rowBytes)), first, rows);
  }
}

const TDIM = /^\(\s*\d+\s*(?:,\s*\d+\s*)*\)$/;

function parseTdim(text: string | undefined, tform: BinaryTform, label: string, at: ErrorLocation): number[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const trimmed = text.trim();
  if (!TDIM.test(trimmed)) throw new InvalidInputError(`${label}: TDIM '${text}' is not of the form (n1,n2,...)`, at);
  const dim = trimmed.slice(1, -1).split(',').map(Number);
  const size = dim.reduce((product, n) => product * n, 1);
  if (tform.descriptor === undefined && size > tform.repeat) {
    throw new InvalidInputError(`${label}: TDIM ${trimmed} holds ${size} elements, more than the ${tform.repeat} of TFORM`, at);
  }
  return dim;
}

interface Descriptor {
  readonly count: number;
  /** From the start of the heap. */
  readonly offset: number;
}

const EMPTY = new Uint8Array(0);

/** Unused heap bytes worth reading through rather than starting another read. */
const HEAP_MERGE_GAP = 4096;

class BinaryTableReader implements BinaryTable {
  readonly nrows: number;
  readonly rowBytes: number;
  readonly heapOffset: number;
  readonly heapSize: number;
  readonly columns: readonly BinaryColumn[];
  private readonly decoders: readonly ElementDecoder[];
  private readonly at: ErrorLocation;

  constructor(
    private readonly source: ByteSource,
    readonly hdu: HduInfo,
  ) {
    const layout = tableLayout(source, hdu, ['BINTABLE', 'A3DTABLE']);
    const { at, header } = layout;
    this.at = at;
    this.nrows = layout.nrows;
    this.rowBytes = layout.rowBytes;
    const mainBytes = layout.rowBytes * layout.nrows;
    this.heapOffset = headerInt(header, 'THEAP', at, mainBytes);
    if (this.heapOffset < mainBytes || this.heapOffset > mainBytes + layout.pcount) {
      throw new InvalidInputError(`THEAP = ${this.heapOffset} is outside [NAXIS1*NAXIS2, NAXIS1*NAXIS2 + PCOUNT]`, at);
    }
    this.heapSize = mainBytes + layout.pcount - this.heapOffset;

    const columns: BinaryColumn[] = [];
    const decoders: ElementDecoder[] = [];
    let offset = 0;
    for (let index = 0; index < layout.fields; index++) {
      const { label, common } = columnKeywords(layout, index);
      const tform = parseBinaryTform(common.format, label, at);
      const dim = parseTdim(headerString(header, `TDIM${index + 1}`, at), tform, label, at);
      const nullValue = tform.type.integer ? this.readNull(index, label) : undefined;
      const stringLength = tform.descriptor === undefined ? (dim?.[0] ?? tform.substringLength) : undefined;
      const decoder = tform.type.decoder({ scale: common.scale, zero: common.zero, nullValue }, stringLength);
      columns.push({ ...common, dtype: decoder.dtype, tform, dim, null: nullValue, offset, varying: tform.descriptor !== undefined });
      decoders.push(decoder);
      offset += tform.byteWidth;
    }
    if (offset > layout.rowBytes) {
      throw new InvalidInputError(`the fields take ${offset} bytes, more than NAXIS1 = ${layout.rowBytes}`, at);
    }
    this.columns = columns;
    this.decoders = decoders;
  }

  private readNull(index: number, label: string): number | bigint | undefined {
    const raw = this.hdu.header.get(`TNULL${index + 1}`);
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw === 'bigint' || (typeof raw === 'number' && Number.isInteger(raw))) return raw;
    throw new InvalidInputError(`${label}: TNULL${index + 1} = ${String(raw)} is not an integer`, this.at);
  }

  column(ref: ColumnRef): BinaryColumn {
    return findColumn(this.columns, ref, this.at);
  }

  readColumn(ref: ColumnRef, rows?: RowRange): ColumnData {
    const column = this.column(ref);
    const range = checkRows(rows, this.nrows, this.at);
    return column.varying ? this.readVarColumn(column, range) : this.readFixedColumn(column, range);
  }

  readCell(row: number, ref: ColumnRef): ElementArray {
    const column = this.column(ref);
    checkRows({ start: row, end: row + 1 }, this.nrows, this.at);
    const decoder = this.decoders[column.index]!;
    if (column.varying) {
      const descriptor = this.descriptorOf(column, row);
      const values = decoder.alloc(decoder.slots(descriptor.count));
      decoder.decode(byteBlock(this.heapBytes(column, descriptor)), 0, descriptor.count, values, 0);
      return values;
    }
    const { repeat, byteWidth } = column.tform;
    const values = decoder.alloc(decoder.slots(repeat));
    const bytes = this.source.read(this.hdu.dataOffset + row * this.rowBytes + column.offset, byteWidth);
    decoder.decode(byteBlock(bytes), 0, repeat, values, 0);
    return values;
  }

  readVarBytes(row: number, ref: ColumnRef): Uint8Array {
    const column = this.column(ref);
    if (!column.varying) throw new InvalidInputError(`column '${column.name}' is not a variable-length array (TFORM ${column.format})`, this.at);
    checkRows({ start: row, end: row + 1 }, this.nrows, this.at);
    return this.heapBytes(column, this.descriptorOf(column, row));
  }

  private readFixedColumn(column: BinaryColumn, range: RowRange): FixedColumnData {
    const decoder = this.decoders[column.index]!;
    const { repeat } = column.tform;
    const stride = decoder.slots(repeat);
    const rows = range.end - range.start;
    const values = decoder.alloc(rows * stride);
    const nullMask = column.null === undefined ? undefined : new Uint8Array(values.length);
    if (stride > 0) {
      readRowBlocks(this.source, this.hdu.dataOffset, this.rowBytes, range, (block, firstRow, count) => {
        for (let r = 0; r < count; r++) {
          decoder.decode(block, r * this.rowBytes + column.offset, repeat, values, (firstRow - range.start + r) * stride, nullMask);
        }
      });
    }
    return { varying: false, dtype: decoder.dtype, rows, stride, values, nullMask };
  }

  private readVarColumn(column: BinaryColumn, range: RowRange): VarColumnData {
    const decoder = this.decoders[column.index]!;
    const descriptors: Descriptor[] = [];
    readRowBlocks(this.source, this.hdu.dataOffset, this.rowBytes, range, (block, _firstRow, count) => {
      for (let r = 0; r < count; r++) {
        descriptors.push(this.descriptorIn(block, r * this.rowBytes + column.offset, column, descriptors.length + range.start));
      }
    });

    const located = this.readHeapRuns(column, descriptors);
    const cells: ElementArray[] = [];
    const nullMasks: Uint8Array[] | undefined = column.null === undefined ? undefined : [];
    descriptors.forEach((descriptor, i) => {
      const values = decoder.alloc(decoder.slots(descriptor.count));
      const nulls = nullMasks === undefined ? undefined : new Uint8Array(values.length);
      const { block, position } = located[i]!;
      decoder.decode(block, position, descriptor.count, values, 0, nulls);
      cells.push(values);
      nullMasks?.push(nulls!);
    });
    return { varying: true, dtype: decoder.dtype, rows: descriptors.length, cells, nullMasks };
  }

  /**
   * Reads the heap bytes of all `descriptors`, merging cells that lie within HEAP_MERGE_GAP of each
   * other into one read (writers put a row's arrays next to each other), so a column costs a few large
   * reads and never reads far-away parts of the heap. Gives each cell's block and position in it.
   */
  private readHeapRuns(column: BinaryColumn, descriptors: readonly Descriptor[]): { block: ByteBlock; position: number }[] {
    const empty = { block: byteBlock(EMPTY), position: 0 };
    const located = descriptors.map(() => empty);
    const byOffset = descriptors
      .map((descriptor, i) => ({ i, start: descriptor.offset, end: descriptor.offset + column.tform.type.bytes(descriptor.count) }))
      .filter((cell) => cell.end > cell.start)
      .sort((a, b) => a.start - b.start);
    for (let first = 0; first < byOffset.length; ) {
      const start = byOffset[first]!.start;
      let end = byOffset[first]!.end;
      let last = first + 1;
      while (last < byOffset.length && byOffset[last]!.start - end <= HEAP_MERGE_GAP) end = Math.max(end, byOffset[last++]!.end);
      const block = byteBlock(this.source.read(this.hdu.dataOffset + this.heapOffset + start, end - start));
      for (const cell of byOffset.slice(first, last)) located[cell.i] = { block, position: cell.start - start };
      first = last;
    }
    return located;
  }

  private descriptorOf(column: BinaryColumn, row: number): Descriptor {
    const bytes = this.source.read(this.hdu.dataOffset + row * this.rowBytes + column.offset, column.tform.byteWidth);
    return this.descriptorIn(byteBlock(bytes), 0, column, row);
  }

  private descriptorIn(block: ByteBlock, position: number, column: BinaryColumn, row: number): Descriptor {
    const { descriptor, type } = column.tform;
    if (column.tform.repeat === 0) return { count: 0, offset: 0 };
    let count: number;
    let offset: number;
    if (descriptor!.code === 'P') {
      count = block.view.getUint32(position);
      offset = block.view.getUint32(position + 4);
    } else {
      const count64 = block.view.getBigInt64(position);
      const offset64 = block.view.getBigInt64(position + 8);
      if (count64 < 0n || offset64 < 0n || count64 > BigInt(this.heapSize) || offset64 > BigInt(this.heapSize)) {
        throw new InvalidInputError(`column '${column.name}' row ${row}: descriptor (${count64}, ${offset64}) points outside the heap`, this.at);
      }
      count = Number(count64);
      offset = Number(offset64);
    }
    if (offset + type.bytes(count) > this.heapSize) {
      throw new InvalidInputError(
        `column '${column.name}' row ${row}: ${count} elements at heap offset ${offset} run past the heap's ${this.heapSize} bytes`,
        this.at,
      );
    }
    return { count, offset };
  }

  private heapBytes(column: BinaryColumn, { count, offset }: Descriptor): Uint8Array {
    const bytes = column.tform.type.bytes(count);
    return bytes === 0 ? EMPTY : this.source.read(this.hdu.dataOffset + this.heapOffset + offset, bytes);
  }
}

/** Opens the binary table (or tile-compressed image, which is one) of `hdu`; reads no data yet. */
export function openBinaryTable(source: ByteSource, hdu: HduInfo): BinaryTable {
  return new BinaryTableReader(source, hdu);
}

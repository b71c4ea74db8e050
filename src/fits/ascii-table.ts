/**
 * ASCII table extensions (FITS 4.0 section 7.2): fixed-width text fields at TBCOLn, read on demand
 * with the same API as binary tables. Each field is one value per row (stride 1).
 *
 * Values follow FITS 4.0 7.2.5 (a blank numeric field is 0, implicit decimal points, D exponents)
 * and astropy's types (Aw strings, Iw int32 up to 9 characters else int64, Fw.d/Ew.d/Dw.d float64,
 * float64 when TSCALn/TZEROn scale). A field equal to TNULLn is marked in `nullMask` and reads as NaN
 * (real), 0 (integer, as astropy) or its text (string).
 */

import { Buffer } from 'node:buffer';
import { InvalidInputError, type ErrorLocation } from '../errors.js';
import {
  checkRows,
  columnKeywords,
  findColumn,
  headerInt,
  readRowBlocks,
  tableLayout,
  type ColumnRef,
  type FitsTable,
  type FixedColumnData,
  type RowRange,
  type TableColumn,
} from './table.js';
import { parseAsciiTform, type AsciiCode, type AsciiTform, type ColumnScaling, type ElementArray, type ValueDtype } from './tform.js';
import type { ByteSource, HduInfo } from './types.js';

export interface AsciiColumn extends TableColumn {
  readonly tform: AsciiTform;
  /** Byte offset of the field within a row (TBCOLn - 1). */
  readonly start: number;
  /** TNULLn, the text that marks an undefined field. */
  readonly null?: string | undefined;
}

export interface AsciiTable extends FitsTable<AsciiColumn> {
  readonly hdu: HduInfo;
  /** NAXIS1. */
  readonly rowBytes: number;
  readColumn(ref: ColumnRef, rows?: RowRange): FixedColumnData;
}

type Slots = { [slot: number]: number | bigint | string };

/** How the text of one field becomes a value; `parse` gives `undefined` for text the format forbids. */
interface FieldType {
  readonly dtype: ValueDtype;
  alloc(length: number): ElementArray;
  parse(text: string): number | bigint | string | undefined;
  /** What a field equal to TNULLn reads as. */
  nullValue(text: string): number | bigint | string;
}

const INTEGER = /^[+-]?\d+$/;
/** Sign, digits with an optional point, then an optional exponent: E/D and digits, or a bare signed integer (Fortran input). */
const REAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[ED]([+-]?\d+)|([+-]\d+))?$/;
/** Above this many characters an Iw field may not fit in int32. */
const INT32_DIGITS = 9;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function parseInteger(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return '0';
  return INTEGER.test(trimmed) ? trimmed : undefined;
}

/** FITS 4.0 7.2.5: blanks are not significant and, without a decimal point, the last d digits are the fraction. */
function parseReal(text: string, decimals: number): number | undefined {
  const packed = text.replaceAll(' ', '').toUpperCase();
  if (packed === '') return 0;
  const match = REAL.exec(packed);
  if (match === null) return undefined;
  type Groups = [string, string, string, string | undefined, string | undefined, string | undefined];
  const [, sign, whole, fraction, exponent, bareExponent] = match as unknown as Groups;
  if (whole === '' && (fraction === undefined || fraction === '')) return undefined;
  let mantissa: string;
  if (fraction !== undefined) mantissa = `${whole}.${fraction}`;
  else {
    const digits = whole.padStart(decimals + 1, '0');
    mantissa = `${digits.slice(0, digits.length - decimals)}.${digits.slice(digits.length - decimals)}`;
  }
  return Number(`${sign}${mantissa}e${exponent ?? bareExponent ?? '0'}`);
}

function scaled(scaling: ColumnScaling, value: number | undefined): number | undefined {
  return value === undefined ? undefined : value * scaling.scale + Number(scaling.zero);
}

function isScaled(scaling: ColumnScaling): boolean {
  return scaling.scale !== 1 || Number(scaling.zero) !== 0;
}

const float64Field = (parse: (text: string) => number | undefined): FieldType => ({
  dtype: 'float64',
  alloc: (length) => new Float64Array(length),
  parse,
  nullValue: () => NaN,
});

const realField = (tform: AsciiTform, scaling: ColumnScaling): FieldType => float64Field((text) => scaled(scaling, parseReal(text, tform.decimals)));

/** Every ASCII-table field type, indexed by its TFORM letter. */
const ASCII_FIELDS: Readonly<Record<AsciiCode, (tform: AsciiTform, scaling: ColumnScaling) => FieldType>> = {
  A: () => ({
    dtype: 'string',
    alloc: (length) => new Array<string>(length).fill(''),
    parse: (text) => text.trimEnd(),
    nullValue: (text) => text.trimEnd(),
  }),
  I: (tform, scaling) => {
    if (isScaled(scaling)) {
      return float64Field((text) => {
        const digits = parseInteger(text);
        return scaled(scaling, digits === undefined ? undefined : Number(digits));
      });
    }
    if (tform.width <= INT32_DIGITS) {
      return {
        dtype: 'int32',
        alloc: (length) => new Int32Array(length),
        parse: (text) => {
          const digits = parseInteger(text);
          return digits === undefined ? undefined : Number(digits);
        },
        nullValue: () => 0,
      };
    }
    return {
      dtype: 'int64',
      alloc: (length) => new BigInt64Array(length),
      parse: (text) => {
        const digits = parseInteger(text);
        const value = digits === undefined ? undefined : BigInt(digits);
        return value === undefined || value < INT64_MIN || value > INT64_MAX ? undefined : value;
      },
      nullValue: () => 0n,
    };
  },
  F: realField,
  E: realField,
  D: realField,
};

class AsciiTableReader implements AsciiTable {
  readonly nrows: number;
  readonly rowBytes: number;
  readonly columns: readonly AsciiColumn[];
  private readonly fields: readonly FieldType[];
  private readonly at: ErrorLocation;

  constructor(
    private readonly source: ByteSource,
    readonly hdu: HduInfo,
  ) {
    const layout = tableLayout(source, hdu, ['TABLE']);
    const { at, header } = layout;
    this.at = at;
    this.nrows = layout.nrows;
    this.rowBytes = layout.rowBytes;
    const columns: AsciiColumn[] = [];
    const fields: FieldType[] = [];
    for (let index = 0; index < layout.fields; index++) {
      const n = index + 1;
      const { label, common } = columnKeywords(layout, index);
      const tform = parseAsciiTform(common.format, label, at);
      const start = headerInt(header, `TBCOL${n}`, at, undefined, 1) - 1;
      if (start + tform.width > layout.rowBytes) {
        throw new InvalidInputError(`${label}: TBCOL${n} = ${start + 1} with width ${tform.width} runs past NAXIS1 = ${layout.rowBytes}`, at);
      }
      const rawNull = header.get(`TNULL${n}`);
      const nullText = rawNull === undefined || rawNull === null ? undefined : String(rawNull).trim();
      const field = ASCII_FIELDS[tform.code](tform, common);
      columns.push({ ...common, dtype: field.dtype, tform, start, null: nullText });
      fields.push(field);
    }
    this.columns = columns;
    this.fields = fields;
  }

  column(ref: ColumnRef): AsciiColumn {
    return findColumn(this.columns, ref, this.at);
  }

  readColumn(ref: ColumnRef, rows?: RowRange): FixedColumnData {
    const column = this.column(ref);
    const range = checkRows(rows, this.nrows, this.at);
    const field = this.fields[column.index]!;
    const count = range.end - range.start;
    const values = field.alloc(count);
    const nullMask = column.null === undefined ? undefined : new Uint8Array(count);
    readRowBlocks(this.source, this.hdu.dataOffset, this.rowBytes, range, (block, firstRow, rows) => {
      for (let r = 0; r < rows; r++) {
        const row = firstRow + r;
        this.store(column, field, block.bytes, r * this.rowBytes + column.start, row, values, row - range.start, nullMask);
      }
    });
    return { varying: false, dtype: field.dtype, rows: count, stride: 1, values, nullMask };
  }

  readCell(row: number, ref: ColumnRef): ElementArray {
    const column = this.column(ref);
    checkRows({ start: row, end: row + 1 }, this.nrows, this.at);
    const field = this.fields[column.index]!;
    const values = field.alloc(1);
    const bytes = this.source.read(this.hdu.dataOffset + row * this.rowBytes + column.start, column.tform.width);
    this.store(column, field, bytes, 0, row, values, 0);
    return values;
  }

  private store(
    column: AsciiColumn,
    field: FieldType,
    bytes: Uint8Array,
    offset: number,
    row: number,
    out: ElementArray,
    slot: number,
    nullMask?: Uint8Array,
  ): void {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + offset, column.tform.width).toString('latin1');
    const isNull = column.null !== undefined && text.trim() === column.null;
    if (nullMask !== undefined) nullMask[slot] = isNull ? 1 : 0;
    const value = isNull ? field.nullValue(text) : field.parse(text);
    if (value === undefined) {
      throw new InvalidInputError(`column '${column.name}' row ${row}: '${text}' is not a valid ${column.format} value`, this.at);
    }
    (out as Slots)[slot] = value;
  }
}

/** Opens the ASCII table of `hdu`; reads no data yet. */
export function openAsciiTable(source: ByteSource, hdu: HduInfo): AsciiTable {
  return new AsciiTableReader(source, hdu);
}

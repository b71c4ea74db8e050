import { InvalidInputError, UnsupportedError } from '../../src/errors.js';
import { expectThrows } from '../helpers/errors.js';
import { openAsciiTable, type AsciiTable } from '../../src/fits/ascii-table.js';
import { formatCard } from '../../src/fits/card-format.js';
import { BLOCK_SIZE, readHeader } from '../../src/fits/header.js';
import { MemoryByteSource } from '../../src/fits/source.js';
import type { HeaderValue } from '../../src/fits/types.js';

/** One ASCII-table field: its TFORM, optional keywords, and the text of each row (padded to the width). */
interface FieldSpec {
  readonly name: string;
  readonly form: string;
  readonly keys?: Record<string, HeaderValue>;
  readonly rows: readonly string[];
  /** Left-justify instead of the usual right-justification of numbers. */
  readonly left?: boolean;
}

class LoggingMemorySource extends MemoryByteSource {
  readonly reads: { offset: number; length: number }[] = [];

  override read(offset: number, length: number): Uint8Array {
    this.reads.push({ offset, length });
    return super.read(offset, length);
  }
}

const widthOf = (form: string) => Number(/^[A-Z](\d+)/.exec(form)![1]);

/**
 * A whole ASCII-table HDU in FITS bytes, header written by the project's card formatter and read back
 * by its header parser, fields one blank apart so TBCOLn matters.
 */
function asciiTable(fields: readonly FieldSpec[], overrides: Record<string, HeaderValue | undefined> = {}) {
  const nrows = fields[0]!.rows.length;
  let column = 1;
  const starts = fields.map((field) => {
    const start = column;
    column += widthOf(field.form) + 1;
    return start;
  });
  const rowBytes = column - 1;
  const cards: Record<string, HeaderValue | undefined> = {
    XTENSION: 'TABLE',
    BITPIX: 8,
    NAXIS: 2,
    NAXIS1: rowBytes,
    NAXIS2: nrows,
    PCOUNT: 0,
    GCOUNT: 1,
    TFIELDS: fields.length,
  };
  fields.forEach((field, i) => {
    cards[`TTYPE${i + 1}`] = field.name;
    cards[`TBCOL${i + 1}`] = starts[i]!;
    cards[`TFORM${i + 1}`] = field.form;
    for (const [key, value] of Object.entries(field.keys ?? {})) cards[`${key}${i + 1}`] = value;
  });
  Object.assign(cards, overrides);
  const images = Object.entries(cards)
    .filter((entry): entry is [string, HeaderValue] => entry[1] !== undefined)
    .flatMap(([key, value]) => formatCard({ key, value }));
  const headerText = [...images, 'END'.padEnd(80)].join('').padEnd(BLOCK_SIZE, ' ');
  const rowsText = Array.from({ length: nrows }, (_, r) =>
    fields
      .map((field) => {
        const width = widthOf(field.form);
        const text = field.rows[r]!;
        return (field.left ? text.padEnd(width) : text.padStart(width)).slice(0, width);
      })
      .join(' ')
      .padEnd(rowBytes),
  ).join('');
  const bytes = Buffer.from(headerText + rowsText.padEnd(Math.ceil(rowsText.length / BLOCK_SIZE) * BLOCK_SIZE, ' '), 'latin1');
  const source = new LoggingMemorySource(new Uint8Array(bytes), 'ascii.fits');
  const { header, dataOffset } = readHeader(source, 0, { file: source.path, hdu: 1 });
  const hdu = { index: 1, name: '', kind: 'ascii-table' as const, header, headerOffset: 0, dataOffset, dataSize: rowBytes * nrows };
  source.reads.length = 0;
  return { source, hdu, rowBytes, starts, open: (): AsciiTable => openAsciiTable(source, hdu) };
}


function valuesOf(table: AsciiTable, name: string): unknown[] {
  return Array.from(table.readColumn(name).values as ArrayLike<unknown>);
}

describe('ASCII table fields (FITS 4.0 7.2.5)', () => {
  // Field text and what the standard says it means.
  const reals: [string, number][] = [
    ['3.250', 3.25],
    ['-0.5', -0.5],
    ['1.25E+03', 1250],
    ['-2.5D-02', -0.025],
    ['1.5-3', 0.0015],
    ['4.E2', 400],
    ['.5', 0.5],
    ['', 0],
    ['1 2.5', 12.5],
  ];
  const implicit: [string, number][] = [
    ['12345', 123.45],
    ['-150', -1.5],
    ['7', 0.07],
    ['2.5', 2.5],
    ['314E1', 31.4],
  ];
  const ints: [string, number][] = [
    ['42', 42],
    ['-7', -7],
    ['+3', 3],
    ['', 0],
    ['0', 0],
  ];
  const bigs: [string, bigint][] = [
    ['9223372036854775807', 2n ** 63n - 1n],
    ['-9223372036854775808', -(2n ** 63n)],
    ['12', 12n],
    ['', 0n],
    ['-1', -1n],
  ];
  const names = ['alpha', '', '  lead', 'a b', 'trail  '];
  const { open, starts } = asciiTable([
    { name: 'name', form: 'A8', rows: names, left: true, keys: { TUNIT: 'text' } },
    { name: 'count', form: 'I6', rows: ints.map(([text]) => text) },
    { name: 'flux', form: 'E12.4', rows: reals.slice(0, 5).map(([text]) => text) },
    { name: 'more', form: 'D15.7', rows: reals.slice(4).map(([text]) => text), left: true },
    { name: 'imp', form: 'F6.2', rows: implicit.map(([text]) => text) },
    { name: 'big', form: 'I20', rows: bigs.map(([text]) => text) },
  ]);
  const table = open();

  it('describes the columns from the header', () => {
    expect(table.nrows).toBe(5);
    expect(table.columns.map((c) => c.name)).toEqual(['name', 'count', 'flux', 'more', 'imp', 'big']);
    expect(table.columns.map((c) => c.format)).toEqual(['A8', 'I6', 'E12.4', 'D15.7', 'F6.2', 'I20']);
    expect(table.columns.map((c) => c.start)).toEqual(starts.map((tbcol) => tbcol - 1));
    expect(table.columns.map((c) => c.dtype)).toEqual(['string', 'int32', 'float64', 'float64', 'float64', 'int64']);
    expect(table.column('NAME').unit).toBe('text');
    expect(table.column('imp').tform).toEqual({ code: 'F', width: 6, decimals: 2 });
  });

  it('reads strings without trailing blanks', () => {
    expect(valuesOf(table, 'name')).toEqual(names.map((n) => n.trimEnd()));
  });

  it('reads integers, blank as 0, into int32 up to 9 characters and int64 beyond', () => {
    expect(table.readColumn('count').values).toBeInstanceOf(Int32Array);
    expect(valuesOf(table, 'count')).toEqual(ints.map(([, value]) => value));
    expect(table.readColumn('big').values).toBeInstanceOf(BigInt64Array);
    expect(valuesOf(table, 'big')).toEqual(bigs.map(([, value]) => value));
  });

  it('reads reals with E, D or bare exponents, ignoring blanks, blank as 0', () => {
    expect(valuesOf(table, 'flux')).toEqual(reals.slice(0, 5).map(([, value]) => value));
    expect(valuesOf(table, 'more')).toEqual(reals.slice(4).map(([, value]) => value));
  });

  it('places an implicit decimal point before the last d digits', () => {
    expect(valuesOf(table, 'imp')).toEqual(implicit.map(([, value]) => value));
  });

  it('reads cells and row ranges the same as whole columns', () => {
    for (const column of table.columns) {
      const all = valuesOf(table, column.name);
      expect(Array.from(table.readColumn(column.index, { start: 1, end: 4 }).values as ArrayLike<unknown>)).toEqual(all.slice(1, 4));
      all.forEach((value, row) => expect(Array.from(table.readCell(row, column.name) as ArrayLike<unknown>)).toEqual([value]));
    }
  });
});

describe('ASCII table TNULL and scaling', () => {
  const built = asciiTable([
    { name: 'flux', form: 'F8.3', keys: { TNULL: '*' }, rows: ['1.500', '*', '', '  *  '] },
    { name: 'n', form: 'I5', keys: { TNULL: '-99' }, rows: ['3', '-99', '', '4'] },
    { name: 'label', form: 'A4', keys: { TNULL: 'NONE' }, rows: ['x', 'NONE', 'y', 'z'], left: true },
    { name: 'scaled', form: 'I4', keys: { TSCAL: 0.5, TZERO: 100 }, rows: ['4', '-2', '', '1'] },
    { name: 'rscaled', form: 'E8.2', keys: { TSCAL: 10 }, rows: ['1.5', '2.', '-0.1', ''] },
  ]);
  const table = built.open();

  it('reads a real TNULL field as NaN and marks it; a blank field is 0, not null', () => {
    const flux = table.readColumn('flux');
    expect(table.column('flux').null).toBe('*');
    expect(Array.from(flux.values as Float64Array)).toEqual([1.5, NaN, 0, NaN]);
    expect(flux.nullMask).toEqual(Uint8Array.from([0, 1, 0, 1]));
  });

  it('reads an integer TNULL field as 0 (as astropy does) and a string one as its text, both marked', () => {
    const n = table.readColumn('n');
    expect(Array.from(n.values as Int32Array)).toEqual([3, 0, 0, 4]);
    expect(n.nullMask).toEqual(Uint8Array.from([0, 1, 0, 0]));
    const label = table.readColumn('label');
    expect(label.values).toEqual(['x', 'NONE', 'y', 'z']);
    expect(label.nullMask).toEqual(Uint8Array.from([0, 1, 0, 0]));
    expect(table.readColumn('scaled').nullMask).toBeUndefined();
  });

  it('applies TSCALn and TZEROn, giving float64', () => {
    const scaled = table.readColumn('scaled');
    expect(scaled.dtype).toBe('float64');
    expect(Array.from(scaled.values as Float64Array)).toEqual([4, -2, 0, 1].map((v) => v * 0.5 + 100));
    expect(Array.from(table.readColumn('rscaled').values as Float64Array)).toEqual([1.5, 2, -0.1, 0].map((v) => v * 10));
  });

  it('reads only the rows asked for, and only the field for a cell', () => {
    const { source, hdu, rowBytes } = built;
    source.reads.length = 0;
    table.readColumn('n', { start: 2, end: 4 });
    expect(source.reads).toEqual([{ offset: hdu.dataOffset + 2 * rowBytes, length: 2 * rowBytes }]);
    source.reads.length = 0;
    table.readCell(3, 'label');
    const label = table.column('label');
    expect(source.reads).toEqual([{ offset: hdu.dataOffset + 3 * rowBytes + label.start, length: label.tform.width }]);
  });
});

describe('ASCII table errors', () => {
  it('names the column and row of text the format forbids', () => {
    const bad = asciiTable([{ name: 'count', form: 'I4', rows: ['1', 'x2', '3'] }]).open();
    expect(Array.from(bad.readColumn('count', { start: 0, end: 1 }).values as Int32Array)).toEqual([1]);
    expectThrows(() => bad.readColumn('count'), InvalidInputError, 'count', 'row 1', 'x2', 'ascii.fits');
    const real = asciiTable([{ name: 'r', form: 'F6.1', rows: ['1.2.3'] }]).open();
    expectThrows(() => real.readCell(0, 'r'), InvalidInputError, 'r', 'row 0');
    const sign = asciiTable([{ name: 'r', form: 'E6.1', rows: ['E5'] }]).open();
    expectThrows(() => sign.readColumn('r'), InvalidInputError);
  });

  it('rejects integers beyond int64', () => {
    const table = asciiTable([{ name: 'big', form: 'I20', rows: ['9223372036854775808'] }]).open();
    expectThrows(() => table.readColumn('big'), InvalidInputError, 'big');
  });

  it('rejects bad TFORM, TBCOL and XTENSION, naming the column', () => {
    const fields: FieldSpec[] = [{ name: 'a', form: 'I4', rows: ['1'] }];
    expectThrows(() => asciiTable([{ name: 'odd', form: 'Z4', rows: ['1'] }]).open(), UnsupportedError, 'odd', 'Z4');
    expectThrows(() => asciiTable([{ name: 'odd', form: 'I4.x', rows: ['1'] }]).open(), InvalidInputError, 'odd');
    expectThrows(() => asciiTable(fields, { TBCOL1: 3 }).open(), InvalidInputError, 'TBCOL1', 'NAXIS1');
    expectThrows(() => asciiTable(fields, { TBCOL1: undefined }).open(), InvalidInputError, 'TBCOL1');
    expectThrows(() => asciiTable(fields, { TBCOL1: 0 }).open(), InvalidInputError, 'TBCOL1');
    expectThrows(() => asciiTable(fields, { XTENSION: 'BINTABLE' }).open(), InvalidInputError, 'XTENSION');
  });

  it('rejects unknown columns and rows out of range', () => {
    const table = asciiTable([{ name: 'a', form: 'I4', rows: ['1', '2'] }]).open();
    expectThrows(() => table.readColumn('b'), InvalidInputError, "'b'");
    expectThrows(() => table.readColumn('a', { start: 0, end: 3 }), InvalidInputError, 'rows');
    expectThrows(() => table.readCell(-1, 'a'), InvalidInputError, 'rows');
  });
});

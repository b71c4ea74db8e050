/**
 * Every conformance file that has a reference in fits-conformance/expected/ (what astropy 5.2.1 reads)
 * is read with vis-agn and compared HDU by HDU: structure, header values, shapes, dtypes, pixel
 * statistics and edge values, and table columns through the table modules.
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { VisAgnError } from '../../src/errors.js';
import { openAsciiTable } from '../../src/fits/ascii-table.js';
import { openFits, type FitsFile, type FitsHdu } from '../../src/fits/file.js';
import { PixelStats } from '../../src/fits/image.js';
import { openBinaryTable, type ColumnData } from '../../src/fits/table.js';
import type { HeaderValue, PixelArray } from '../../src/fits/types.js';
import { conformanceDir, describeWithShared, hasShared } from '../helpers/shared.js';

type Scalar = number | string | boolean | null;

interface ExpectedStats {
  size?: number;
  nan_count?: number;
  sum?: number | string | null;
  min?: number | null;
  max?: number | null;
  first?: Scalar[];
  last?: Scalar[];
}

interface ExpectedColumn {
  name: string;
  format: string;
  stats?: ExpectedStats;
  first_rows?: Scalar[][];
  error?: string;
}

interface ExpectedHdu {
  index: number;
  name: string;
  class: string;
  ncards: number;
  header: Record<string, Scalar>;
  shape?: number[];
  dtype?: string;
  stats?: ExpectedStats;
  data?: null;
  groups?: number;
  nrows?: number;
  columns?: ExpectedColumn[];
}

interface ExpectedFile {
  file: string;
  hdus: ExpectedHdu[];
}

interface Case {
  relative: string;
  absolute: string;
  expected: ExpectedFile;
}

function conformanceCases(): Case[] {
  if (!hasShared) return [];
  const expectedDir = path.join(conformanceDir, 'expected');
  const cases: Case[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const absolute = path.join(dir, entry);
      if (absolute === expectedDir) continue;
      if (statSync(absolute).isDirectory()) {
        walk(absolute);
        continue;
      }
      const reference = path.join(expectedDir, `${entry}.json`);
      try {
        const expected = JSON.parse(readFileSync(reference, 'utf8')) as ExpectedFile;
        cases.push({ relative: path.relative(conformanceDir, absolute), absolute, expected });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  };
  walk(conformanceDir);
  return cases;
}

function astropyClass(hdu: FitsHdu): string {
  switch (hdu.kind) {
    case 'image':
      return hdu.index === 0 ? 'PrimaryHDU' : 'ImageHDU';
    case 'compressed-image':
      return 'CompImageHDU';
    case 'bintable':
      return 'BinTableHDU';
    case 'ascii-table':
      return 'TableHDU';
    case 'random-groups':
      return 'GroupsHDU';
  }
}

/** Our values in the form the reference JSON writes them (NaN and infinities as Python's names). */
function normalize(value: number | bigint | boolean | string | null | undefined, like?: Scalar): Scalar {
  if (typeof like === 'boolean') return Boolean(value);
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return typeof like === 'number' ? Number(value) : value;
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  }
  return value ?? null;
}

function normalizeHeaderValue(value: HeaderValue | undefined): Scalar | undefined {
  return typeof value === 'bigint' ? Number(value) : value;
}

function expectClose(label: string, actual: number | null, expected: number | string | null | undefined): void {
  if (expected === undefined) return;
  if (typeof expected !== 'number' || actual === null) {
    expect([label, actual === null ? null : normalize(actual)]).toEqual([label, expected]);
    return;
  }
  const tolerance = 1e-9 * Math.max(Math.abs(expected), Number.MIN_VALUE);
  if (!(Math.abs(actual - expected) <= tolerance)) expect([label, actual]).toEqual([label, expected]);
}

/** numpy sums integers (and logicals) in 64 bits that wrap around: the reference's sums of huge I20 fields do. */
function numpyIntegerSum(values: ArrayLike<number | bigint | boolean | null>, dtype: string): number {
  let total = 0n;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    total += typeof v === 'bigint' ? v : BigInt(Number(v ?? 0));
  }
  return Number(dtype.startsWith('uint') ? BigInt.asUintN(64, total) : BigInt.asIntN(64, total));
}

function expectStats(values: ArrayLike<number | bigint | boolean | null>, expected: ExpectedStats, dtype: string): void {
  const numbers = Float64Array.from({ length: values.length }, (_, i) => Number(values[i] ?? 0));
  const stats = new PixelStats().add(numbers);
  if (expected.size !== undefined) expect(['size', values.length]).toEqual(['size', expected.size]);
  if (expected.nan_count !== undefined) expect(['nan_count', stats.nanCount]).toEqual(['nan_count', expected.nan_count]);
  const valid = stats.validCount > 0;
  const isFloat = dtype.startsWith('float');
  expectClose('sum', isFloat ? (valid || values.length === 0 ? stats.sum : 0) : numpyIntegerSum(values, dtype), expected.sum);
  expectClose('min', valid ? stats.min : null, expected.min);
  expectClose('max', valid ? stats.max : null, expected.max);
  const slice = (from: number, to?: number): Scalar[] =>
    Array.from(values).slice(from, to).map((v, i) => normalize(v, expected.first?.[i]));
  if (expected.first) expect(['first', slice(0, expected.first.length)]).toEqual(['first', expected.first]);
  if (expected.last) expect(['last', expected.last.length === 0 ? [] : slice(-expected.last.length)]).toEqual(['last', expected.last]);
}

/** Python's repr of a complex number ('0j', '(1.5-2j)') as [re, im]. */
function parseComplex(text: string): [number, number] {
  const inner = text.replace(/^\(|\)$/g, '').replace(/j$/, '');
  const split = inner.search(/(?<=[\d.ainf])[+-]/);
  const parse = (s: string): number => (s.endsWith('nan') ? NaN : s.endsWith('inf') ? (s.startsWith('-') ? -Infinity : Infinity) : Number(s));
  return split < 0 ? [0, parse(inner)] : [parse(inner.slice(0, split)), parse(inner.slice(split))];
}

function expectComplexColumn(values: ArrayLike<number>, expected: ExpectedStats): void {
  const pairs = Array.from({ length: values.length / 2 }, (_, i) => [values[2 * i]!, values[2 * i + 1]!]);
  if (expected.size !== undefined) expect(['size', pairs.length]).toEqual(['size', expected.size]);
  if (expected.first) expect(['first', pairs.slice(0, expected.first.length)]).toEqual(['first', expected.first.map((t) => parseComplex(String(t)))]);
  if (expected.last) expect(['last', pairs.slice(-expected.last.length)]).toEqual(['last', expected.last.map((t) => parseComplex(String(t)))]);
}

/**
 * Cells as astropy's reference writes them, made comparable: strings lose trailing spaces (astropy's own
 * element access strips them; the reference kept numpy's padded form), PA cells arrive as arrays of
 * characters and PL cells as raw bytes ('T' = 84, 'F' = 70, 0 = undefined).
 */
function referenceCell(row: Scalar[], dtype: string): Scalar[] {
  if (dtype === 'string') return [row.join('').trimEnd()];
  if (dtype === 'logical') return row.map((v) => (v === 84 ? true : v === 70 ? false : v === 0 ? null : v));
  return row;
}

function ourCell(cell: ArrayLike<number | bigint | boolean | string | null>, dtype: string, like: Scalar[]): Scalar[] {
  if (dtype === 'string') return [Array.from(cell).join('').trimEnd()];
  return Array.from(cell, (v, i) => normalize(v, dtype === 'logical' ? undefined : like[i]));
}

function expectColumn(data: ColumnData, expected: ExpectedColumn, ascii: boolean): void {
  if (expected.first_rows) {
    const rows = expected.first_rows.map((row, r) => {
      const cell = data.varying ? data.cells[r]! : Array.from(data.values as ArrayLike<unknown>).slice(r * data.stride, (r + 1) * data.stride);
      return ourCell(cell as ArrayLike<number | bigint | boolean | string | null>, data.dtype, row);
    });
    expect(rows).toEqual(expected.first_rows.map((row) => referenceCell(row, data.dtype)));
  }
  if (!expected.stats) return;
  if (data.varying) throw new Error(`column ${expected.name}: reference has flat statistics but the column is variable-length`);
  if (data.dtype === 'complex64' || data.dtype === 'complex128') {
    expectComplexColumn(data.values as ArrayLike<number>, expected.stats);
  } else if (data.dtype === 'string') {
    const strings = Array.from(data.values as readonly string[], (v) => v.trimEnd());
    const first = (expected.stats.first ?? []).map((v) => String(v).trimEnd());
    expect(strings.slice(0, first.length)).toEqual(first);
  } else {
    expectStats(ascii ? astropyAsciiNullFill(data) : (data.values as ArrayLike<number | bigint | boolean | null>), expected.stats, data.dtype);
  }
}

/**
 * A real ASCII-table field equal to TNULL reads as NaN here (it is missing); astropy 5.2.1 fills it
 * with 0. (Binary-table TNULL values are kept as stored by both.)
 */
function astropyAsciiNullFill(data: Extract<ColumnData, { varying: false }>): ArrayLike<number | bigint | boolean | null> {
  const values = data.values as ArrayLike<number | bigint | boolean | null>;
  const mask = data.nullMask;
  if (mask === undefined || !data.dtype.startsWith('float')) return values;
  return Array.from(values, (v, i) => (mask[i] ? 0 : v));
}

function expectImage(file: FitsFile, hdu: FitsHdu, expected: ExpectedHdu, deliberate?: Deliberate): void {
  const image = file.readImage(hdu);
  expect([...image.axes].reverse()).toEqual(expected.shape);
  expect(image.dtype).toBe(expected.dtype);
  expectStats(image.data as PixelArray as ArrayLike<number | bigint>, { ...expected.stats, ...deliberate?.stats }, image.dtype);
}

/** Where vis-agn deliberately differs from astropy: what it gives instead, and why. */
interface Deliberate {
  why: string;
  ncards?: number;
  header?: Record<string, Scalar | undefined>;
  stats?: Partial<ExpectedStats>;
}

const DELIBERATE: Record<string, Deliberate> = {
  'astropy/invalid_group_invalid.fits#0': {
    why: 'astropy rewrites NAXIS = 0 of this invalid random-groups header to NAXIS = 1, NAXIS1 = 0; vis-agn keeps the header as stored',
    ncards: 7,
    header: { NAXIS: 0, NAXIS1: undefined },
  },
  'astropy/compressed_with_nan.fits#1': {
    why: 'pixel 13 holds ZBLANK, which the tile-compression convention makes NaN; astropy 5.2.1 ignores ZBLANK and gives -5.3215',
    // astropy's statistics without that pixel (computed with astropy from the same file).
    stats: { nan_count: 1, sum: 10283.482542544287, min: 0.2480013370513916, max: 143.00620657153172 },
  },
};

const cases = conformanceCases();

describeWithShared('FITS conformance against astropy 5.2.1 (fits-conformance/expected)', () => {
  it('finds reference files to compare against', () => {
    expect(cases.length).toBeGreaterThan(50);
  });

  describe.each(cases.length > 0 ? cases : [undefined as unknown as Case])('$relative', (c) => {
    let file: FitsFile | undefined;
    let openError: unknown;
    beforeAll(() => {
      try {
        file = openFits(c.absolute);
      } catch (error) {
        openError = error;
      }
    });
    afterAll(() => file?.close());
    const opened = (): FitsFile => {
      if (!file) throw openError;
      return file;
    };

    it('has the HDUs astropy finds', () => {
      expect(opened().hdus.map((h) => [h.index, h.name, astropyClass(h)])).toEqual(c.expected.hdus.map((h) => [h.index, h.name, h.class]));
    });

    describe.each(c.expected.hdus)('HDU $index $class $name', (expected) => {
      const deliberate = DELIBERATE[`${c.relative}#${expected.index}`];
      it(deliberate ? `header (deliberately unlike astropy: ${deliberate.why})` : 'header', () => {
        const f = opened();
        const hdu = f.hdus[expected.index]!;
        // A compressed HDU's header, for astropy, is the logical image header.
        const header = hdu.kind === 'compressed-image' ? f.imageHeader(hdu) : hdu.header;
        // astropy builds that header with its own choice of cards, so only non-compressed counts compare.
        if (hdu.kind !== 'compressed-image') expect(header.cards.length).toBe(deliberate?.ncards ?? expected.ncards);
        const wanted = Object.entries({ ...expected.header, ...deliberate?.header });
        expect(wanted.map(([key]) => [key, normalizeHeaderValue(header.get(key))])).toEqual(wanted);
        if (expected.groups !== undefined) expect(header.getInt('GCOUNT')).toBe(expected.groups);
      });

      if (expected.shape) {
        it(`image ${expected.shape.join('x')} ${expected.dtype}${deliberate?.stats ? ` (deliberately unlike astropy: ${deliberate.why})` : ''}`, () => {
          const f = opened();
          expectImage(f, f.hdus[expected.index]!, expected, deliberate);
        });
      }

      if (expected.data === null && expected.class !== 'GroupsHDU') {
        it('has no image data (a typed error, as astropy gives None)', () => {
          const f = opened();
          expect(() => f.readImage(expected.index)).toThrow(VisAgnError);
        });
      }

      const columns = expected.columns ?? [];
      if (expected.nrows !== undefined) {
        it(`table: ${expected.nrows} rows, ${columns.length} columns`, () => {
          const f = opened();
          const hdu = f.hdus[expected.index]!;
          const table = hdu.kind === 'ascii-table' ? openAsciiTable(f.source, hdu) : openBinaryTable(f.source, hdu);
          expect(table.nrows).toBe(expected.nrows);
          expect(table.columns.map((col) => [col.name, col.format])).toEqual(columns.map((col) => [col.name, col.format]));
        });
      }

      describe.each(columns.length > 0 ? columns : [undefined as unknown as ExpectedColumn])('column $name ($format)', (column) => {
        if (!column) return;
        it(column.error ? 'reads without crashing (astropy could not)' : 'values', () => {
          const f = opened();
          const hdu = f.hdus[expected.index]!;
          const table = hdu.kind === 'ascii-table' ? openAsciiTable(f.source, hdu) : openBinaryTable(f.source, hdu);
          if (column.error) {
            try {
              table.readColumn(column.name);
            } catch (error) {
              expect(error).toBeInstanceOf(VisAgnError);
            }
            return;
          }
          expectColumn(table.readColumn(column.name), column, hdu.kind === 'ascii-table');
        });
      });
    });
  });
});

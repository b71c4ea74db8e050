import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';

import { parseCsv, readPositionTable } from '../../src/ground/table.js';
import { InputNotFoundError, InvalidInputError, UsageError, type VisAgnError } from '../../src/errors.js';
import { writeFits } from '../../src/fits/writer.js';
import { tempDir } from '../catalog/fixtures.js';
import { expectThrows } from '../helpers/errors.js';

const { dir, remove } = tempDir('reference');
afterAll(remove);

const RA = [359.9999, 0.5, 150.25];
const DEC = [-45.5, 0, 89.9];
const MAG = [20.5, 21.25, 24];
const file = (name: string) => path.join(dir, name);

async function rejection(promise: Promise<unknown>, type: new (...args: never[]) => VisAgnError, ...fragments: string[]): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(type);
  for (const fragment of fragments) expect((error as Error).message).toContain(fragment);
}

beforeAll(async () => {
  await writeFits(file('qso.fits'), [
    { type: 'empty' },
    { type: 'image', name: 'PICTURE', axes: [2, 2], dtype: 'float32', data: new Float32Array(4) },
    {
      type: 'bintable',
      name: 'QSO',
      columns: [
        { name: 'ID', strings: ['a', 'bb', 'c'] },
        { name: 'RAJ2000', values: Float64Array.from(RA) },
        { name: 'DEJ2000', values: Float64Array.from(DEC) },
        { name: 'MAG_AUTO', values: Float32Array.from(MAG) },
      ],
    },
    { type: 'bintable', name: 'OTHER', columns: [{ name: 'ALPHA_J2000', values: Float64Array.from([1]) }, { name: 'DELTA_J2000', values: Float64Array.from([2]) }] },
  ]);

  const parquet = parquetWriteBuffer({
    columnData: [
      { name: 'object_id', data: [1n, -2n, 9007199254740993n], type: 'INT64' },
      { name: 'right_ascension', data: RA, type: 'DOUBLE' },
      { name: 'declination', data: DEC, type: 'DOUBLE' },
      { name: 'mag_vis', data: [MAG[0], null, MAG[2]], type: 'DOUBLE', nullable: true },
    ],
  });
  writeFileSync(file('qso.parquet'), new Uint8Array(parquet));

  const arrow = tableFromArrays({ ra: Float64Array.from(RA), dec: Float64Array.from(DEC), object_id: BigInt64Array.from([5n, 6n, 7n]) });
  writeFileSync(file('qso.arrow'), tableToIPC(arrow, 'file'));
  writeFileSync(file('qso.arrows'), tableToIPC(arrow, 'stream'));

  writeFileSync(
    file('qso.csv'),
    '\ufeff# written by hand\r\n# second comment\r\nname,alpha,delta,Mag\r\n"J1, the first",359.9999,-45.5,20.5\r\n"say ""hi""",0.5,0,\r\n\r\nthird,1.5025e2,8.99E1,nan\r\n',
  );
});

describe('readPositionTable', () => {
  test('FITS: the first table HDU, with RAJ2000/DEJ2000/MAG_AUTO/ID found by their common names', async () => {
    const table = await readPositionTable(file('qso.fits'));
    expect(table.format).toBe('fits');
    expect(table.location).toEqual({ file: file('qso.fits'), hdu: 2 });
    expect(table.columns).toEqual({ ra: 'RAJ2000', dec: 'DEJ2000', mag: 'MAG_AUTO', id: 'ID' });
    expect(Array.from(table.ra)).toEqual(RA);
    expect(Array.from(table.dec)).toEqual(DEC);
    expect(Array.from(table.mag!)).toEqual(MAG);
    expect(table.id).toEqual(['a', 'bb', 'c']);
  });

  test('FITS: another table by EXTNAME or index, and no table where an image is named', async () => {
    const other = await readPositionTable(file('qso.fits'), { hdu: 'other' });
    expect(other.columns).toEqual({ ra: 'ALPHA_J2000', dec: 'DELTA_J2000', mag: null, id: null });
    expect(Array.from(other.dec)).toEqual([2]);
    expect((await readPositionTable(file('qso.fits'), { hdu: 3 })).ra[0]).toBe(1);
    await rejection(readPositionTable(file('qso.fits'), { hdu: 1 }), InvalidInputError, 'qso.fits, HDU 1', 'not a table');
  });

  test('Parquet: right_ascension/declination, int64 ids beyond 2^53 kept exactly, a null magnitude as NaN', async () => {
    const table = await readPositionTable(file('qso.parquet'));
    expect(table.format).toBe('parquet');
    expect(table.columns).toEqual({ ra: 'right_ascension', dec: 'declination', mag: 'mag_vis', id: 'object_id' });
    expect(Array.from(table.ra)).toEqual(RA);
    expect(Array.from(table.mag!)).toEqual([MAG[0], Number.NaN, MAG[2]]);
    expect(table.id).toEqual(['1', '-2', '9007199254740993']);
  });

  test('Arrow IPC file and stream', async () => {
    for (const name of ['qso.arrow', 'qso.arrows']) {
      const table = await readPositionTable(file(name));
      expect(table.format).toBe('arrow');
      expect(table.columns).toEqual({ ra: 'ra', dec: 'dec', mag: null, id: 'object_id' });
      expect(Array.from(table.dec)).toEqual(DEC);
      expect(table.id).toEqual(['5', '6', '7']);
    }
  });

  test('CSV: comment lines, quoted fields, blank lines and missing values, with columns named by the caller', async () => {
    const table = await readPositionTable(file('qso.csv'), { raColumn: 'alpha', decColumn: 'DELTA', magColumn: 'mag', idColumn: 'name' });
    expect(table.format).toBe('csv');
    expect(table.columns).toEqual({ ra: 'alpha', dec: 'delta', mag: 'Mag', id: 'name' });
    expect(Array.from(table.ra)).toEqual(RA);
    expect(Array.from(table.dec)).toEqual(DEC);
    expect(Array.from(table.mag!)).toEqual([20.5, Number.NaN, Number.NaN]);
    expect(table.id).toEqual(['J1, the first', 'say "hi"', 'third']);
  });

  test('a missing column is an InvalidInputError naming the file, the column and the columns there are', async () => {
    await rejection(readPositionTable(file('qso.csv')), InvalidInputError, file('qso.csv'), 'no right ascension column', '--ra-col', 'name, alpha, delta, Mag');
    await rejection(readPositionTable(file('qso.arrow'), { magColumn: 'gmag' }), InvalidInputError, file('qso.arrow'), "no magnitude column 'gmag'", 'ra, dec, object_id');
  });

  test('values that are not positions are refused with their row', async () => {
    writeFileSync(file('text.csv'), 'ra,dec\n1,2\nabc,3\n');
    await rejection(readPositionTable(file('text.csv')), InvalidInputError, 'column ra row 2', '"abc" is not a number');
    writeFileSync(file('pole.csv'), 'ra,dec\n1,2\n3,91\n');
    await rejection(readPositionTable(file('pole.csv')), InvalidInputError, 'row 2', 'not a sky position');
    writeFileSync(file('ragged.csv'), 'ra,dec\n1,2,3\n');
    await rejection(readPositionTable(file('ragged.csv')), InvalidInputError, 'line 2 has 3 fields, the header 2');
  });

  test('a missing file is InputNotFoundError; an HDU for a file that is not FITS is a usage error', async () => {
    await rejection(readPositionTable(file('none.fits')), InputNotFoundError, 'none.fits');
    await rejection(readPositionTable(file('qso.csv'), { hdu: 1 }), UsageError, 'qso.csv is a csv file, not FITS');
  });
});

describe('parseCsv', () => {
  const at = { file: 'x.csv' };

  test('keeps line numbers across quoted line breaks and skips blank lines', () => {
    expect(parseCsv('a,b\n"multi\nline",2\n\n3, "x" \n4,', at)).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['multi\nline', '2'] },
      { line: 5, fields: ['3', 'x'] },
      { line: 6, fields: ['4', ''] },
    ]);
  });

  test('refuses an unclosed quote and text after a closing one', () => {
    expectThrows(() => parseCsv('a\n"open\n', at), InvalidInputError, 'x.csv', 'line 2', 'not closed');
    expectThrows(() => parseCsv('a\n"x"y\n', at), InvalidInputError, 'line 2', 'after the closing quote');
  });
});

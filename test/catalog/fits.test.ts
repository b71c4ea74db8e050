import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

import { COLUMNS, exportCatalog, metadataEntries, RUN_METADATA, writeCatalog, type CatalogRow, type CatalogValue, type ColumnSpec } from '../../src/catalog/index.js';
import { asciiEscape, FITS_EXTNAME } from '../../src/catalog/fits.js';
import { openFits } from '../../src/fits/file.js';
import { openBinaryTable } from '../../src/fits/table.js';
import { astropyPython, describeIf, hasAstropy, hasFitsverify } from '../helpers/shared.js';
import { DIMENSIONAL_COLUMNS, makeRows, METADATA, tempDir } from './fixtures.js';

const { dir, remove } = tempDir('fits');
afterAll(remove);

const rows = makeRows(45, 3);
const file = path.join(dir, 'run.fits');

beforeAll(async () => {
  await writeCatalog(path.join(dir, 'run.arrow'), METADATA, rows, { batchRows: 8 });
  expect(await exportCatalog(path.join(dir, 'run.arrow'), 'fits', file)).toBe(rows.length);
});

/** What a FITS reader should find for `value`: strings escaped to ASCII, a missing string blank. */
function expectedInFits(column: ColumnSpec, value: CatalogValue): CatalogValue {
  if (column.kind === 'utf8') return asciiEscape((value as string | null) ?? '');
  return value;
}

/** The card values the run metadata should have become. */
function expectedCards(): Record<string, unknown> {
  const cards: Record<string, unknown> = { CATSCHEM: 'vis-agn/catalog/2' };
  for (const [field, { fits, codec }] of metadataEntries()) {
    const text = codec.encode(METADATA[field])!;
    cards[fits] = codec.fits === 'integer' ? Number(text) : codec.fits === 'date' ? text.slice(0, -1) : asciiEscape(text);
  }
  return cards;
}

describe('FITS export read back with our reader', () => {
  it('has an empty primary HDU and one binary table named CATALOG with every column, unit, UCD and description', () => {
    const fits = openFits(file);
    try {
      expect(fits.hdus.map((h) => [h.kind, h.name])).toEqual([['image', 'PRIMARY'], ['bintable', FITS_EXTNAME]]);
      const hdu = fits.hdu(FITS_EXTNAME);
      const table = openBinaryTable(fits.source, hdu);
      expect(table.nrows).toBe(rows.length);
      expect(table.columns.map((c) => c.name)).toEqual(COLUMNS.map((c) => c.name));
      COLUMNS.forEach((column: ColumnSpec, i) => {
        expect(table.columns[i]!.unit).toBe(column.unit);
        expect(hdu.header.get(`TUCD${i + 1}`)).toBe(column.ucd);
        expect(hdu.header.get(`TCOMM${i + 1}`)).toBe(column.description);
      });
    } finally {
      fits.close();
    }
  });

  it('holds every value, with TNULL and NaN where values are missing', () => {
    const fits = openFits(file);
    try {
      const table = openBinaryTable(fits.source, fits.hdu(FITS_EXTNAME));
      for (const column of COLUMNS as readonly ColumnSpec[]) {
        const data = table.readColumn(column.name);
        if (data.varying) throw new Error(`${column.name} is a variable-length column`);
        const read = rows.map((_, r): CatalogValue => {
          if (data.nullMask?.[r] === 1) return null;
          const value = data.values[r]!;
          return typeof value === 'number' && Number.isNaN(value) ? null : (value as CatalogValue);
        });
        expect({ [column.name]: read }).toEqual({ [column.name]: rows.map((row) => expectedInFits(column, row[column.name as keyof CatalogRow])) });
      }
    } finally {
      fits.close();
    }
  });

  it('carries the run metadata as header cards, long JSON values over CONTINUE', () => {
    const fits = openFits(file);
    try {
      const header = fits.hdu(FITS_EXTNAME).header;
      for (const [key, value] of Object.entries(expectedCards())) expect({ [key]: header.get(key) }).toEqual({ [key]: value });
      expect(JSON.parse(header.getString(RUN_METADATA.config.fits))).toEqual(METADATA.config);
      expect(JSON.parse(header.getString(RUN_METADATA.inputs.fits))).toEqual(METADATA.inputs);
      expect(header.cards.some((card) => card.key === 'LONGSTRN')).toBe(true);
    } finally {
      fits.close();
    }
  });
});

describeIf(hasFitsverify, 'fitsverify not on PATH', 'FITS export and fitsverify', () => {
  it('verifies with 0 warnings and 0 errors', () => {
    // fitsverify exits non-zero when it finds problems, so read its report either way.
    const run = spawnSync('fitsverify', [file], { encoding: 'utf8' });
    const summary = /Verification found (\d+) warning\(s\) and (\d+) error\(s\)/.exec(run.stdout);
    expect(summary).not.toBeNull();
    if (summary![1] !== '0' || summary![2] !== '0') throw new Error(run.stdout);
  });
});

/** What astropy sees: raw cells (TNULL and NaN as None, int64 as text), units as astropy parses them, header cards. */
const ASTROPY_DUMP = String.raw`
import sys, json, math, warnings
import numpy as np
from astropy.io import fits
from astropy.table import Table
warnings.simplefilter('error')

def cell(v, tnull):
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer, int)):
        v = int(v)
        if tnull is not None and v == tnull:
            return None
        return str(v) if abs(v) > 2**53 else v
    if isinstance(v, (np.floating, float)):
        return None if math.isnan(v) else float(v)
    return str(v)

with fits.open(sys.argv[1], checksum=True) as hdul:
    hdu = hdul['CATALOG']
    columns = {}
    for i, c in enumerate(hdu.columns, start=1):
        tnull = hdu.header.get('TNULL%d' % i)
        columns[c.name] = [cell(v, None if tnull is None else int(tnull) + int(hdu.header.get('TZERO%d' % i, 0))) for v in hdu.data[c.name]]
    header = {k: v for k, v in hdu.header.items() if k not in ('COMMENT', 'HISTORY', '')}
table = Table.read(sys.argv[1], hdu='CATALOG')
print(json.dumps({'columns': columns, 'header': header,
                  'units': {c: (None if table[c].unit is None else table[c].unit.to_string('vounit')) for c in table.colnames},
                  'meta': {k: v for k, v in table.meta.items() if k in ('MODEL', 'CONFIG', 'SEED', 'DATE')}}))
`;

interface AstropyDump {
  columns: Record<string, unknown[]>;
  header: Record<string, unknown>;
  units: Record<string, string | null>;
  meta: Record<string, unknown>;
}

describeIf(hasAstropy, `astropy not importable by ${astropyPython}`, 'FITS export read by astropy', () => {
  let dump: AstropyDump;
  beforeAll(() => {
    dump = JSON.parse(execFileSync(astropyPython, ['-c', ASTROPY_DUMP, file], { encoding: 'utf8' })) as AstropyDump;
  });

  it('reads every value as written, without a warning (checksums verified)', () => {
    for (const column of COLUMNS as readonly ColumnSpec[]) {
      const expected = rows.map((row) => {
        const value = expectedInFits(column, row[column.name as keyof CatalogRow]);
        return typeof value === 'bigint' ? (value > 2n ** 53n || value < -(2n ** 53n) ? String(value) : Number(value)) : value;
      });
      expect({ [column.name]: dump.columns[column.name] }).toEqual({ [column.name]: expected });
    }
  });

  it('gives every dimensional column a unit astropy understands', () => {
    expect(Object.fromEntries(DIMENSIONAL_COLUMNS.map((name) => [name, dump.units[name] !== null && dump.units[name] !== undefined]))).toEqual(Object.fromEntries(DIMENSIONAL_COLUMNS.map((name) => [name, true])));
    expect(dump.units.ps_flux).toBe('adu');
    expect(dump.units.noise_sigma).toBe('adu');
  });

  it("spells the position as the Euclid MER catalogue does under naming 'mer', units kept", async () => {
    const mer = path.join(dir, 'run-mer.fits');
    await exportCatalog(path.join(dir, 'run.arrow'), 'fits', mer, { naming: 'mer' });
    const read = JSON.parse(execFileSync(astropyPython, ['-c', ASTROPY_DUMP, mer], { encoding: 'utf8' })) as AstropyDump;
    expect(Object.keys(read.units)).toEqual(COLUMNS.map((c) => ({ ra: 'right_ascension', dec: 'declination' } as Record<string, string>)[c.name] ?? c.name));
    expect([read.units.right_ascension, read.units.declination]).toEqual(['deg', 'deg']);
    expect(read.columns.right_ascension).toEqual(dump.columns.ra);
  });

  it('parses every unit (as VOUnit) and sees the UCDs, descriptions and run metadata', () => {
    expect(dump.units).toEqual(Object.fromEntries(COLUMNS.map((c: ColumnSpec) => [c.name, c.unit ?? null])));
    COLUMNS.forEach((column, i) => {
      expect(dump.header[`TUCD${i + 1}`]).toBe(column.ucd);
      expect(dump.header[`TCOMM${i + 1}`]).toBe(column.description);
    });
    for (const [key, value] of Object.entries(expectedCards())) expect({ [key]: dump.header[key] }).toEqual({ [key]: value });
    expect(JSON.parse(dump.meta.CONFIG as string)).toEqual(METADATA.config);
    expect(dump.meta.SEED).toBe(METADATA.seed);
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';

import { exportCatalog, writeCatalog, type CatalogRow } from '../../src/catalog/index.js';
import { CLASS_COLOURS, REGION_RADIUS_ARCSEC } from '../../src/catalog/ds9.js';
import { makeRows, METADATA, tempDir } from './fixtures.js';

const { dir, remove } = tempDir('ds9');
afterAll(remove);

const rows = makeRows(80, 11);
const file = path.join(dir, 'run.reg');
let lines: string[];

beforeAll(async () => {
  await writeCatalog(path.join(dir, 'run.arrow'), METADATA, rows, { batchRows: 25 });
  expect(await exportCatalog(path.join(dir, 'run.arrow'), 'ds9', file)).toBe(rows.filter((row) => row.is_candidate).length);
  lines = readFileSync(file, 'utf8').split('\n');
});

const CIRCLE = /^circle\((-?\d+\.\d{8}),(-?\d+\.\d{8}),(\d+(?:\.\d+)?)"\) # color=(\w+) text=\{(-?\d+) (\w+)\}$/;
const NOT_DRAWN = /^# (-?\d+) (\w+): no ra\/dec, not drawn$/;

describe('ds9 region export', () => {
  it('starts with the ds9 format line, a provenance comment, global properties and the icrs frame of the catalogue (not fk5)', () => {
    expect(lines[0]).toBe('# Region file format: DS9 version 4.1');
    expect(lines[1]).toContain(METADATA.modelName);
    expect(lines[2]).toMatch(/^global /);
    expect(lines[3]).toBe('icrs');
    expect(lines.at(-1)).toBe('');
  });

  it('draws each candidate once, at its ra/dec, labelled with its id and class and coloured by class', () => {
    const candidates = rows.filter((row) => row.is_candidate);
    const body = lines.slice(4, -1);
    expect(body).toHaveLength(candidates.length);
    body.forEach((line, i) => {
      const row: CatalogRow = candidates[i]!;
      if (row.ra === null || row.dec === null) {
        const [, id, cls] = NOT_DRAWN.exec(line) ?? [];
        expect([id, cls]).toEqual([String(row.object_id), row.candidate_class]);
        return;
      }
      const match = CIRCLE.exec(line);
      expect(match).not.toBeNull();
      const [, ra, dec, radius, colour, id, cls] = match!;
      expect(Math.abs(Number(ra) - row.ra)).toBeLessThanOrEqual(5e-9);
      expect(Math.abs(Number(dec) - row.dec)).toBeLessThanOrEqual(5e-9);
      expect(Number(radius)).toBe(REGION_RADIUS_ARCSEC);
      expect([id, cls, colour]).toEqual([String(row.object_id), row.candidate_class, CLASS_COLOURS[row.candidate_class]]);
    });
    expect(body.filter((line) => NOT_DRAWN.test(line)).length).toBe(candidates.filter((row) => row.ra === null || row.dec === null).length);
    expect(body.some((line) => NOT_DRAWN.test(line))).toBe(true);
  });

  it('gives each class a distinct colour ds9 knows', () => {
    const colours = Object.values(CLASS_COLOURS);
    expect(new Set(colours).size).toBe(colours.length);
    for (const colour of colours) expect(['white', 'black', 'red', 'green', 'blue', 'cyan', 'magenta', 'yellow']).toContain(colour);
  });
});

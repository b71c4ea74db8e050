import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { readManifest, type TileManifest } from '../../src/batch/shards.js';
import { assignToTiles, coreDistance } from '../../src/cutout/tile-assign.js';
import { readCatalog } from '../../src/catalog/read.js';
import type { CatalogRow } from '../../src/catalog/schema.js';
import { EXIT_CODES } from '../../src/errors.js';
import { openFits } from '../../src/fits/file.js';
import { isReservedKeyword, writeFits } from '../../src/fits/writer.js';
import { simulateTile, type TileFiles } from '../../src/sim/mosaic.js';
import { runCli } from '../helpers/cli.js';

const SIZE = 400;

/** Columns [x0, x1) of a simulated tile as a tile of its own, its WCS shifted to match. */
async function subTile(source: string, target: string, x0: number, x1: number): Promise<void> {
  const fits = openFits(source);
  try {
    const hdu = fits.hdus.find((h) => h.kind === 'image' && fits.imageHeader(h).getInt('NAXIS', 0) === 2)!;
    const header = fits.imageHeader(hdu);
    const image = fits.readImage(hdu, { x0, x1, y0: 0, y1: SIZE });
    const cards = header.cards
      .filter((card) => card.key !== '' && card.key !== 'COMMENT' && card.key !== 'HISTORY' && !isReservedKeyword(card.key))
      .map((card) => ({ key: card.key, value: card.key === 'CRPIX1' ? (card.value as number) - x0 : card.value }));
    await writeFits(target, [{ type: 'image', dtype: 'float32', axes: image.axes, data: image.data as Float32Array, name: hdu.name, cards }]);
  } finally {
    fits.close();
  }
}

const jsonRow = (row: CatalogRow) => JSON.stringify(row, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

describe('core-area assignment', () => {
  test('an object goes to the tile it is most central in, and nowhere when it is on none', () => {
    expect(coreDistance(49.5, 49.5, 100, 100)).toBe(0);
    expect(coreDistance(-0.5, 49.5, 100, 100)).toBe(Infinity);
    expect(coreDistance(99, 99, 100, 100)).toBeCloseTo(Math.SQRT2 * (49.5 / 50), 12);
    // Two 100-px tiles overlapping by 20 px: tile 1 starts at x = 80 of tile 0.
    const xs = [10, 89, 90, 95, 170, 250];
    const tiles = [
      { x: xs, y: xs.map(() => 5), width: 100, height: 100 },
      { x: xs.map((x) => x - 80), y: xs.map(() => 5), width: 100, height: 100 },
    ];
    expect(Array.from(assignToTiles(tiles, xs.length))).toEqual([0, 0, 1, 1, 1, -1]);
  });
});

describe('sharded runs over tiles', () => {
  let dir: string;
  let sim: TileFiles;
  const tiles = { a: '', b: '', rmsA: '', rmsB: '' };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-tile-shards-'));
    sim = await simulateTile({ seed: 8, out: path.join(dir, 'sim'), size: SIZE, workers: 1 });
    // Two tiles sharing the 120 columns [140, 260) of the simulated one.
    Object.assign(tiles, { a: path.join(dir, 'a.fits'), b: path.join(dir, 'b.fits'), rmsA: path.join(dir, 'a-rms.fits'), rmsB: path.join(dir, 'b-rms.fits') });
    await subTile(sim.image, tiles.a, 0, 260);
    await subTile(sim.image, tiles.b, 140, SIZE);
    await subTile(sim.rms, tiles.rmsA, 0, 260);
    await subTile(sim.rms, tiles.rmsB, 140, SIZE);
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('every object is processed once, on its core tile, with the rows of a single run of that tile', async () => {
    const manifestFile = path.join(dir, 'tiles.json');
    const planned = await runCli(['plan', '--tile', tiles.a, tiles.b, '--rms', tiles.rmsA, tiles.rmsB, '--catalog', sim.catalogue, '--shards', '3', '--out', manifestFile]);
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(EXIT_CODES.ok);
    const manifest = readManifest(manifestFile) as TileManifest;
    expect(manifest.kind).toBe('tiles');
    const rows = manifest.shards.flatMap((shard) => shard.flatMap((part) => part.rows.map((row) => ({ tile: part.tile, row }))));
    const catalogue = (await readCatalogRows(sim.catalogue)).length;
    expect(rows.length + manifest.unassigned.length).toBe(catalogue);
    expect(new Set(rows.map((r) => r.row)).size).toBe(rows.length);
    expect(manifest.unassigned).toEqual([]);
    expect(new Set(rows.map((r) => r.tile))).toEqual(new Set([0, 1]));

    const parts = path.join(dir, 'parts');
    for (const k of [0, 1, 2]) {
      const shard = await runCli(['run', '--manifest', manifestFile, '--shard', String(k), '--out', parts, '--chunk', '7', '--quiet', '--threads', '1']);
      expect(shard.stderr).toBe('');
      expect(shard.code).toBe(EXIT_CODES.ok);
    }
    const mergedFile = path.join(dir, 'merged.arrow');
    const merge = await runCli(['merge', '--manifest', manifestFile, '--parts', parts, '--out', mergedFile, '--truth', sim.truth]);
    expect(merge.stderr).toBe('');
    expect(merge.stdout).toMatch(new RegExp(`merged ${catalogue} rows`));
    // Completeness of the whole merged catalogue against the simulation's truth, as `completeness` gives it.
    const alone = await runCli(['completeness', '--catalog', mergedFile, '--truth', sim.truth]);
    expect(readFileSync(path.join(dir, 'merged.completeness.md'), 'utf8')).toBe(alone.stdout);
    expect(JSON.parse(readFileSync(path.join(dir, 'merged.summary.json'), 'utf8')).sources).toBe(catalogue);
    const merged = (await readCatalog(mergedFile)).rows;
    expect(merged).toHaveLength(catalogue);
    expect(new Set(merged.map((r) => r.object_id)).size).toBe(catalogue);

    // A single run of each tile over the whole catalogue: the merged row of each object is that tile's.
    const single = new Map<string, Map<bigint, CatalogRow>>();
    for (const [tile, rms] of [[tiles.a, tiles.rmsA], [tiles.b, tiles.rmsB]] as const) {
      const out = path.join(dir, `single-${path.basename(tile, '.fits')}`);
      expect((await runCli(['run', '--tile', tile, '--rms', rms, '--catalog', sim.catalogue, '--out', out, '--quiet', '--threads', '1'])).code).toBe(EXIT_CODES.ok);
      single.set(tile, new Map((await readCatalog(path.join(out, 'catalog.arrow'))).rows.map((r) => [r.object_id, r])));
    }
    let inOverlap = 0;
    for (const row of merged) {
      const reference = single.get(row.source_file)!.get(row.object_id)!;
      expect(jsonRow(row)).toBe(jsonRow(reference));
      // Tile b starts at column 140 of the simulated tile: the core boundary is column 199.5.
      const x = row.source_file === tiles.a ? row.x_center! : row.x_center! + 140;
      expect(row.source_file).toBe(x < 199.5 ? tiles.a : tiles.b);
      if (x >= 140 && x < 260) inOverlap++;
    }
    expect(inOverlap).toBeGreaterThan(0);
  }, 180_000);

  test('plan checks its tile options', async () => {
    const out = path.join(dir, 'bad.json');
    expect((await runCli(['plan', '--tile', tiles.a, '--shards', '2', '--out', out])).stderr).toMatch(/--tile needs --catalog/);
    expect((await runCli(['plan', '--tile', tiles.a, tiles.b, '--rms', tiles.rmsA, '--catalog', sim.catalogue, '--shards', '2', '--out', out])).stderr).toMatch(/one --rms per --tile/);
    expect((await runCli(['plan', '--catalog', sim.catalogue, '--shards', '2', '--out', out])).stderr).toMatch(/give --tile too/);
  });
});

async function readCatalogRows(file: string): Promise<unknown[]> {
  const { readPositionTable } = await import('../../src/ground/table.js');
  return Array.from((await readPositionTable(file)).ra);
}

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { tableFromIPC } from 'apache-arrow';
import { jest } from '@jest/globals';

import { buildProgram } from '../../src/cli/index.js';
import { UsageError } from '../../src/errors.js';
import { openFits } from '../../src/fits/file.js';
import { wcsFromHeader } from '../../src/fits/wcs.js';
import { simulateCutouts } from '../../src/sim/cutouts.js';
import { simulateTile } from '../../src/sim/mosaic.js';
import { simulateObject } from '../../src/sim/products.js';
import { MICROJANSKY_PER_UNIT } from '../../src/ground/vis.js';
import { DEFAULT_RECIPE, buildRecipe } from '../../src/sim/recipe.js';
import { writeTrainingShards, type ShardManifest } from '../../src/sim/shards.js';
import { runStampTask } from '../../src/sim/tasks.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-sim-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('simulation outputs', () => {
  test('cutouts have the Q1 MER layout, a WCS that puts the truth at TARGETX/Y, and truth tables', async () => {
    const out = path.join(dir, 'cutouts');
    const result = await simulateCutouts({ count: 4, seed: 12, out, size: 100, workers: 1, firstId: 41 });
    const truth = tableFromIPC(readFileSync(result.truth));
    expect(truth.numRows).toBe(4);
    expect(truth.schema.fields.find((f) => f.name === 'flux_total')!.metadata.get('unit')).toBe('uJy');
    const rows = truth.toArray().map((r) => r.toJSON());
    for (const [k, file] of result.files.entries()) {
      const fits = openFits(file);
      try {
        expect(fits.hdus.map((h) => h.name)).toEqual(['PRIMARY', 'VIS_FLUX', 'VIS_PSF', 'VIS_RMS']);
        const header = fits.hdu('VIS_FLUX').header;
        expect(header.get('MAGZERO')).toBe(24.6);
        expect(fits.hdu(0).header.get('OBJECTID')).toBe(41 + k);
        const sky = wcsFromHeader(header).pixelToSky(header.get('TARGETX') as number, header.get('TARGETY') as number);
        expect(sky.ra).toBeCloseTo(rows[k]!.right_ascension, 9);
        expect(sky.dec).toBeCloseTo(rows[k]!.declination, 9);
        expect(rows[k]!.x).toBeCloseTo(header.get('TARGETX') as number, 12);
        const image = fits.readImage('VIS_FLUX');
        expect(image.axes).toEqual([100, 100]);
        expect(Array.from(image.data as Float32Array)).toEqual(Array.from(simulateObject(DEFAULT_RECIPE, 12, 41 + k, k, 100).image));
        expect(fits.readImage('VIS_PSF').axes).toEqual([21, 21]);
      } finally {
        fits.close();
      }
    }
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { count: number; recipe: unknown };
    expect(manifest.count).toBe(4);
    expect(manifest.recipe).toEqual(JSON.parse(JSON.stringify(DEFAULT_RECIPE)));
  });

  test('shards are little-endian float32 (n, h, w) arrays split as the manifest says, stamp k = object firstId + k', async () => {
    const out = path.join(dir, 'shards');
    const recipe = buildRecipe({ mix: 'grid' });
    const manifest: ShardManifest = await writeTrainingShards({ count: 7, seed: 4, out, stamp: 32, shardSize: 3, recipe, workers: 1 });
    expect(JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(manifest)));
    expect(manifest.files.map((f) => [f.path, f.kind, f.shape.join('x'), f.first])).toEqual([
      ['shard-00000.image.f32', 'image', '3x32x32', 0],
      ['shard-00000.rms.f32', 'rms', '3x32x32', 0],
      ['shard-00000.point.f32', 'point', '3x32x32', 0],
      ['shard-00000.sigma.f32', 'sigma', '3', 0],
      ['shard-00001.image.f32', 'image', '3x32x32', 3],
      ['shard-00001.rms.f32', 'rms', '3x32x32', 3],
      ['shard-00001.point.f32', 'point', '3x32x32', 3],
      ['shard-00001.sigma.f32', 'sigma', '3', 3],
      ['shard-00002.image.f32', 'image', '1x32x32', 6],
      ['shard-00002.rms.f32', 'rms', '1x32x32', 6],
      ['shard-00002.point.f32', 'point', '1x32x32', 6],
      ['shard-00002.sigma.f32', 'sigma', '1', 6],
    ]);
    for (const f of manifest.files) expect(statSync(path.join(out, f.path)).size).toBe(4 * f.shape.reduce((a, b) => a * b, 1));
    const second = readFileSync(path.join(out, 'shard-00001.image.f32'));
    const stamp = simulateObject(recipe, 4, 5, 4, 32).image;
    expect(second.readFloatLE(4 * 32 * 32)).toBe(stamp[0]);
    expect(second.readFloatLE(4 * (2 * 32 * 32 - 1))).toBe(stamp[32 * 32 - 1]);
    const truth = tableFromIPC(readFileSync(path.join(out, 'truth.arrow')));
    expect(truth.numRows).toBe(7);
    expect(Array.from(truth.getChild('f_ps')!.toArray())).toEqual([0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8]);
    // The point image holds the point source's flux (in image units) and nothing else: on the target
    // position, in proportion to f_PS.
    const points = readFileSync(path.join(out, 'shard-00001.point.f32'));
    const pointOf = (k: number): Float32Array => new Float32Array(points.buffer.slice(points.byteOffset + 4 * 32 * 32 * k, points.byteOffset + 4 * 32 * 32 * (k + 1)));
    for (let k = 0; k < 3; k++) {
      const row = truth.get(3 + k)!.toJSON();
      const expected = row.flux_point / MICROJANSKY_PER_UNIT;
      const point = pointOf(k);
      const sum = point.reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - expected) / expected).toBeLessThan(0.03);
      const peak = point.indexOf(Math.max(...point));
      expect(Math.abs((peak % 32) - row.x)).toBeLessThanOrEqual(1);
      expect(Math.abs(Math.floor(peak / 32) - row.y)).toBeLessThanOrEqual(1);
    }
  });

  test('stamps do not depend on how the ids are split into tasks', () => {
    const base = { kind: 'stamps', recipe: DEFAULT_RECIPE, seed: 6, width: 24, height: 24 } as const;
    const whole = runStampTask({ ...base, firstId: 1, firstIndex: 0, count: 5 });
    const first = runStampTask({ ...base, firstId: 1, firstIndex: 0, count: 2 });
    const rest = runStampTask({ ...base, firstId: 3, firstIndex: 2, count: 3 });
    expect(Array.from(whole.images)).toEqual([...first.images, ...rest.images]);
    expect(whole.truth).toEqual([...first.truth, ...rest.truth]);
  });

  test('a tile has its mosaic, RMS mosaic, a catalogue whose positions match the truth, and truth tables', async () => {
    const out = path.join(dir, 'tile');
    const files = await simulateTile({ seed: 2, out, size: 200, workers: 1 });
    const image = openFits(files.image);
    const wcs = wcsFromHeader(image.hdu(0).header);
    expect(image.readImage(0).axes).toEqual([200, 200]);
    image.close();
    const catalogue = openFits(files.catalogue);
    expect(catalogue.hdus.map((h) => h.kind)).toEqual(['image', 'bintable']);
    catalogue.close();
    const truth = tableFromIPC(readFileSync(files.truth)).toArray().map((r) => r.toJSON());
    expect(truth.length).toBeGreaterThan(0);
    for (const row of truth) {
      const pixel = wcs.skyToPixel(row.right_ascension, row.declination);
      expect(pixel.x).toBeCloseTo(row.x, 6);
      expect(pixel.y).toBeCloseTo(row.y, 6);
    }
  });

  test('the CLI writes grid-mix shards with the options given, and refuses bad ones', async () => {
    const program = buildProgram;
    const out = path.join(dir, 'cli');
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await program().parseAsync(['simulate', 'shards', '--n', '3', '--seed', '5', '--stamp', '16', '--mix', 'grid', '--fps', '0.1,0.6', '--workers', '1', '--out', out], { from: 'user' });
      await expect(program().parseAsync(['simulate', 'shards', '--n', '3', '--mix', 'random', '--out', out], { from: 'user' })).rejects.toThrow(UsageError);
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
    }
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as ShardManifest;
    expect(manifest.stamp).toEqual({ width: 16, height: 16 });
    expect(manifest.recipe.population.gridFps).toEqual([0.1, 0.6]);
    const fps = tableFromIPC(readFileSync(path.join(out, 'truth.arrow'))).getChild('f_ps')!.toArray();
    expect(Array.from(fps)).toEqual([0.6, 0.1, 0.6]);
  });
});

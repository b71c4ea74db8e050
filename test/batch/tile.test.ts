import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { decodeFlags } from '../../src/ground/flags.js';
import { readCatalog } from '../../src/catalog/read.js';
import { writeFits } from '../../src/fits/writer.js';
import { simulateTile, type TileFiles } from '../../src/sim/mosaic.js';
import { q1Psfs } from '../../src/ground/psf.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared.js';

describe('vis-agn run --tile', () => {
  let dir: string;
  let files: TileFiles;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-tile-'));
    files = await simulateTile({ seed: 5, out: dir, size: 400, workers: 1 });
    const psf = q1Psfs()[1]!;
    await writeFits(path.join(dir, 'psf.fits'), [{ type: 'image', dtype: 'float64', axes: [psf.size, psf.size], data: Float64Array.from(psf.data) }]);
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('cuts every catalogue object from the tile at its WCS position, ids from the catalogue', async () => {
    const out = path.join(dir, 'run');
    const result = await runCli(['run', '--tile', files.image, '--catalog', files.catalogue, '--rms', files.rms, '--psf', path.join(dir, 'psf.fits'), '--out', out, '--quiet', '--threads', '1']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const rows = (await readCatalog(path.join(out, 'catalog.arrow'))).rows;
    const truth = tableFromIPC(readFileSync(files.truth)).toArray().map((r) => r.toJSON());
    expect(rows.map((r) => r.object_id).sort()).toEqual(truth.map((t) => BigInt(t.object_id)).sort());
    const byId = new Map(truth.map((t) => [BigInt(t.object_id), t]));
    for (const row of rows) {
      const t = byId.get(row.object_id)!;
      // The window is centred on the nearest pixel to the catalogue position.
      expect(Math.abs(row.x_center! - t.x)).toBeLessThanOrEqual(0.5 + 1e-6);
      expect(Math.abs(row.y_center! - t.y)).toBeLessThanOrEqual(0.5 + 1e-6);
      expect(row.source_file).toBe(files.image);
      const flags = decodeFlags(row.flags);
      expect(flags).not.toContain('no_psf_hdu');
      expect(flags).not.toContain('no_rms_map');
      const nearEdge = [t.x, t.y].some((v: number) => v < 36 || v > 400 - 37);
      expect(flags.includes('off_tile_edge')).toBe(nearEdge);
    }
    expect(rows.some((r) => r.agn_z !== null)).toBe(true);

    // The run records its tile, so a row is cut again from it and recomputes to the same scores.
    const pick = rows.find((r) => r.agn_z !== null && !decodeFlags(r.flags).includes('off_tile_edge'))!;
    const panel = path.join(dir, 'panel.png');
    const inspected = await runCli(['inspect', '--catalog', path.join(out, 'catalog.arrow'), '--id', String(pick.object_id), '--out', panel]);
    expect(inspected.stderr).toBe('');
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toContain(`agn_z ${pick.agn_z!.toFixed(2)}`);
    expect(inspected.stdout).toContain(`object_id ${pick.object_id}`);
    expect(readFileSync(panel).subarray(1, 4).toString()).toBe('PNG');
  }, 60_000);

  test('tile mode on 1 and 2 worker threads gives the same bytes (the built CLI, whose workers are compiled)', () => {
    const cli = path.join(repoRoot, 'dist', 'cli', 'index.js');
    const csv = (workers: number): string => {
      const out = path.join(dir, `tile-workers-${workers}`);
      execFileSync(process.execPath, [cli, 'run', '--tile', files.image, '--catalog', files.catalogue, '--rms', files.rms, '--out', out, '--workers', String(workers), '--batch', '5', '--quiet'], { stdio: 'ignore' });
      execFileSync(process.execPath, [cli, 'export', path.join(out, 'catalog.arrow'), '--format', 'csv', '--out', path.join(out, 'c.csv')], { stdio: 'ignore' });
      return readFileSync(path.join(out, 'c.csv'), 'utf8');
    };
    const one = csv(1);
    expect(one.split('\n').length).toBeGreaterThan(10);
    expect(csv(2)).toBe(one);
  }, 90_000);

  test('tile options are checked', async () => {
    const out = path.join(dir, 'bad');
    expect((await runCli(['run', '--catalog', files.catalogue, '--out', out])).stderr).toMatch(/--catalog is for tile mode/);
    expect((await runCli(['run', '--tile', files.image, '--out', out])).stderr).toMatch(/--tile needs --catalog/);
    expect((await runCli(['run', files.image, '--tile', files.image, '--catalog', files.catalogue, '--out', out])).code).toBe(2);
    expect((await runCli(['run', '--out', out])).stderr).toMatch(/give cutout files or folders/);
  }, 30_000);
});

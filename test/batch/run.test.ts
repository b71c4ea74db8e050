import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { readCatalog } from '../../src/catalog/read.js';
import { decodeFlags } from '../../src/ground/flags.js';
import { writeFits } from '../../src/fits/writer.js';
import { simulateCutouts } from '../../src/sim/cutouts.js';
import { buildRecipe } from '../../src/sim/recipe.js';
import { defaultCardPath, readCard } from '../../src/model/card.js';
import { DEFAULT_THRESHOLDS } from '../../src/detect/detect.js';
import { EXIT_CODES } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared.js';

describe('vis-agn run', () => {
  let dir: string;
  let files: string[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-run-'));
    const sims = await simulateCutouts({ count: 9, seed: 31, out: path.join(dir, 'sim'), recipe: buildRecipe({ mix: 'grid', magnitude: [19, 21] }), workers: 1 });
    files = sims.files;
    // A corrupt file sorts between the good ones, and a bare single-image file has no RMS, PSF or id.
    writeFileSync(path.join(dir, 'sim', 'cutouts', files[3]!.split('/').pop()!.replace('.fits', 'x.fits')), 'SIMPLE  =                    T');
    const bare = new Float32Array(100 * 100);
    for (let i = 0; i < bare.length; i++) bare[i] = 0.003 * Math.sin(i * 12.9898) + (i === 50 * 100 + 50 ? 2 : 0);
    await writeFits(path.join(dir, 'bare.fits'), [{ type: 'image', dtype: 'float32', data: bare, axes: [100, 100] }]);
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('writes one row per input, in input order, with flags for what was missing or broken', async () => {
    const out = path.join(dir, 'run-a');
    const result = await runCli(['run', path.join(dir, 'sim', 'cutouts'), path.join(dir, 'bare.fits'), '--out', out, '--batch', '4', '--quiet', '--threads', '1']);
    expect(result.stderr).toMatch(/corrupt_input: .*x\.fits/);
    // One input could not be read: the catalogue is complete, but the run is a partial failure.
    expect(result.code).toBe(EXIT_CODES.partialFailure);
    const catalog = await readCatalog(path.join(out, 'catalog.arrow'));
    const rows = catalog.rows;
    expect(rows).toHaveLength(11);
    expect(rows.map((r) => path.basename(r.source_file))).toEqual([...files.slice(0, 4), files[3]!.replace('.fits', 'x.fits'), ...files.slice(4), 'bare.fits'].map((f) => path.basename(f)));
    const corrupt = rows[4]!;
    expect(decodeFlags(corrupt.flags)).toEqual(['corrupt_input']);
    expect(corrupt.agn_z).toBeNull();
    const bareRow = rows[10]!;
    expect(decodeFlags(bareRow.flags)).toEqual(['no_rms_map', 'no_psf_hdu']);
    expect(bareRow.hdu).toBe('PRIMARY');
    // Simulated cutouts carry their id in the header, their own PSF and RMS map.
    const sims = rows.filter((r) => r.source_file.includes('/sim/') && r.flags === 0);
    expect(sims).toHaveLength(9);
    expect(sims.map((r) => r.object_id)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
    const cardSamples = readCard(defaultCardPath()).card.sampler.samples;
    for (const row of sims) {
      expect(row.n_samples).toBe(cardSamples);
      expect(row.agn_z).not.toBeNull();
      expect(row.ra).not.toBeNull();
      expect(row.mag_vis).toBeGreaterThan(18);
      expect(row.mag_vis).toBeLessThan(22);
    }
    // The default card calibrates the combined score: every scored row has it, at least as large a
    // test as either alone would allow, and the selection is made on it.
    for (const row of sims) {
      expect(row.morph_z).not.toBeNull();
      expect(row.combined_z).not.toBeNull();
      expect(row.is_candidate).toBe(row.combined_z! > DEFAULT_THRESHOLDS.z && row.candidate_class !== 'point_like');
    }
    for (const row of sims) {
      expect(row.agn_pvalue).toBeGreaterThanOrEqual(0);
      expect(row.agn_pvalue).toBeLessThanOrEqual(1);
      expect(row.ps_flux_err).toBeGreaterThan(0);
      // The default card regresses f_ps on the generative ratio (kept beside it) and SPREAD_MODEL.
      expect(row.f_ps_generative).not.toBeNull();
      expect(row.f_ps).toBeGreaterThanOrEqual(0);
      expect(row.f_ps).toBeLessThanOrEqual(1);
      expect(row.f_ps_err).toBeGreaterThanOrEqual(0.01);
    }
    expect(catalog.metadata.executionProvider).toBe('cpu');
    expect(catalog.metadata.inputs).toEqual([path.join(dir, 'sim', 'cutouts'), path.join(dir, 'bare.fits')]);
  }, 60_000);

  test('scores do not depend on the batch size', async () => {
    const a = path.join(dir, 'run-b1');
    const b = path.join(dir, 'run-b7');
    const inputs = files.slice(0, 7);
    expect((await runCli(['run', ...inputs, '--out', a, '--batch', '1', '--quiet', '--threads', '1'])).code).toBe(0);
    expect((await runCli(['run', ...inputs, '--out', b, '--batch', '7', '--quiet', '--threads', '1'])).code).toBe(0);
    const rowsA = (await readCatalog(path.join(a, 'catalog.arrow'))).rows;
    const rowsB = (await readCatalog(path.join(b, 'catalog.arrow'))).rows;
    expect(rowsA.map((r) => [r.agn_z, r.ps_flux, r.chi2_core])).toEqual(rowsB.map((r) => [r.agn_z, r.ps_flux, r.chi2_core]));
    // A different run seed draws different samples.
    const c = path.join(dir, 'run-seed2');
    expect((await runCli(['run', ...inputs, '--out', c, '--seed', '2', '--quiet', '--threads', '1'])).code).toBe(0);
    const rowsC = (await readCatalog(path.join(c, 'catalog.arrow'))).rows;
    expect(rowsC.map((r) => r.agn_z)).not.toEqual(rowsA.map((r) => r.agn_z));
  }, 60_000);

  test('scores are bit-identical with 1, 2 and 4 worker threads (the built CLI, whose workers are compiled)', () => {
    const cli = path.join(repoRoot, 'dist', 'cli', 'index.js');
    const csv = (workers: number): string => {
      const out = path.join(dir, `workers-${workers}`);
      // The folder holds the corrupt file too: a partial failure, whose catalogue is complete.
      const run = spawnSync(process.execPath, [cli, 'run', path.join(dir, 'sim', 'cutouts'), '--out', out, '--workers', String(workers), '--batch', '3', '--quiet'], { stdio: 'ignore' });
      expect(run.status).toBe(EXIT_CODES.partialFailure);
      execFileSync(process.execPath, [cli, 'export', path.join(out, 'catalog.arrow'), '--format', 'csv', '--out', path.join(out, 'c.csv')], { stdio: 'ignore' });
      return readFileSync(path.join(out, 'c.csv'), 'utf8');
    };
    const one = csv(1);
    expect(one.split('\n').length).toBeGreaterThan(10);
    expect(csv(2)).toBe(one);
    expect(csv(4)).toBe(one);
  }, 90_000);

  test('bad options and missing inputs fail with their exit codes, writing nothing', async () => {
    const out = path.join(dir, 'run-bad');
    expect((await runCli(['run', files[0]!, '--out', out, '--samples', '1'])).code).toBe(2);
    expect((await runCli(['run', path.join(dir, 'nope.fits'), '--out', out])).code).toBe(3);
    copyFileSync(files[0]!, path.join(dir, 'copy.fits'));
    expect((await runCli(['run', path.join(dir, 'copy.fits'), '--out', out, '--device', 'tpu'])).code).toBe(2);
    expect(existsSync(out)).toBe(false);
    // An output folder that cannot exist (under a regular file): an output error naming it, nothing written.
    const blocked = path.join(dir, 'copy.fits', 'run');
    const refused = await runCli(['run', files[0]!, '--out', blocked, '--quiet']);
    expect(refused.code).toBe(EXIT_CODES.outputFailed);
    expect(refused.stderr).toContain(blocked);
  }, 60_000);
});

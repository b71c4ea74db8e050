/**
 * Issue 15: a bad source never costs a good one. Good simulated cutouts mixed with hand-made bad ones
 * (test/helpers/bad-cutouts.ts), run by the built CLI with one and with two worker threads: one row
 * per input, the good rows identical to a run of the good files alone, every bad row flagged with no
 * absurd value, the failures in errors.jsonl, and the partial-failure exit.
 */

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { prepareCutout, scorePrepared, scoreProblem, sourceRow, type PreparedCutout } from '../../src/batch/run.js';
import { defaultDetectionSettings, significanceCalibration } from '../../src/detect/settings.js';
import { decodeFlags, FAILURE_FLAGS } from '../../src/ground/flags.js';
import { readCatalog } from '../../src/catalog/read.js';
import type { CatalogRow } from '../../src/catalog/schema.js';
import { readCutout } from '../../src/cutout/from-files.js';
import { EXIT_CODES } from '../../src/errors.js';
import { defaultCardPath, readCard } from '../../src/model/card.js';
import { CoreGenerator } from '../../src/model/generator.js';
import { CORE_SEARCH } from '../../src/detect/prepare.js';
import { simulateCutouts } from '../../src/sim/cutouts.js';
import { BAD_KINDS, writeBadCutout, type BadKind } from '../helpers/bad-cutouts.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared.js';

const cli = path.join(repoRoot, 'dist', 'cli', 'index.js');

/** The flags each bad kind must carry (at least), and whether its source is lost (a failure flag). */
const EXPECTED: Record<BadKind, readonly string[]> = {
  'huge-negative-pixel': ['unphysical_pixels'],
  'psf-3x3': ['bad_psf'],
  'psf-zero': ['bad_psf'],
  'psf-nan': ['bad_psf'],
  'psf-negative': ['bad_psf'],
  'rms-zero': ['bad_rms_map', 'no_rms_map'],
  'rms-nan': ['bad_rms_map'],
  'flux-inf': ['unphysical_pixels'],
  'not-fits': ['corrupt_input'],
  empty: ['corrupt_input'],
  truncated: ['corrupt_input'],
};

/** The values that must agree between runs: everything measured. */
const measured = (row: CatalogRow) => [row.object_id, row.flags, row.candidate_class, row.agn_z, row.f_ps, row.ps_flux, row.chi2_core, row.noise_sigma, row.mag_vis];

describe('bad inputs mixed with good ones', () => {
  let dir: string;
  let good: string[];
  let mixed: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-bad-'));
    good = (await simulateCutouts({ count: 5, seed: 41, out: path.join(dir, 'sims'), workers: 1 })).files;
    mixed = path.join(dir, 'mixed');
    mkdirSync(mixed);
    // Bad files sort between the good ones ('b_' after 'a_', before 'c_'), so they share batches.
    good.forEach((file, i) => copyFileSync(file, path.join(mixed, `${i < 2 ? 'a' : 'c'}_${path.basename(file)}`)));
    for (const kind of BAD_KINDS) await writeBadCutout(good[0]!, path.join(mixed, `b_${kind}.fits`), kind);
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (inputs: string[], out: string, workers: number) => spawnSync(process.execPath, [cli, 'run', ...inputs, '--out', out, '--workers', String(workers), '--batch', '4', '--threads', '1', '--quiet'], { encoding: 'utf8' });

  test('one row per input with 1 and 2 workers; good rows as when run alone; bad rows flagged, no absurd value; exit 9 and errors.jsonl', async () => {
    const alone = path.join(dir, 'alone');
    const clean = run(good, alone, 1);
    expect(clean.status).toBe(EXIT_CODES.ok);
    expect(readFileSync(path.join(alone, 'errors.jsonl'), 'utf8')).toBe('');
    const goodRows = (await readCatalog(path.join(alone, 'catalog.arrow'))).rows;
    const files = readdirSync(mixed).sort();
    for (const workers of [1, 2]) {
      const out = path.join(dir, `mixed-${workers}`);
      const result = run([mixed], out, workers);
      expect(result.stderr).not.toMatch(/internal error|    at /);
      expect(result.status).toBe(EXIT_CODES.partialFailure);
      const rows = (await readCatalog(path.join(out, 'catalog.arrow'))).rows;
      expect(rows.map((r) => path.basename(r.source_file))).toEqual(files);
      expect(rows.filter((r) => path.basename(r.source_file).startsWith('b_')).length).toBe(BAD_KINDS.length);
      expect(rows.filter((r) => !path.basename(r.source_file).startsWith('b_')).map(measured)).toEqual(goodRows.map(measured));
      for (const kind of BAD_KINDS) {
        const row = rows.find((r) => path.basename(r.source_file) === `b_${kind}.fits`)!;
        expect({ kind, flags: decodeFlags(row.flags) }).toEqual({ kind, flags: expect.arrayContaining([...EXPECTED[kind]]) });
        if (row.f_ps !== null) expect(Math.abs(row.f_ps)).toBeLessThanOrEqual(10);
      }
      const errors = readFileSync(path.join(out, 'errors.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { file: string; flag: string; reason: string; object_id: string; hdu: string });
      expect(errors.map((e) => path.basename(e.file)).sort()).toEqual(['b_empty.fits', 'b_not-fits.fits', 'b_truncated.fits']);
      for (const error of errors) {
        expect(error.flag).toBe('corrupt_input');
        expect(error.reason.length).toBeGreaterThan(5);
        expect(error.object_id).toMatch(/^\d+$/);
      }
      const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { byFlag: Record<string, number>; failed: number };
      expect(summary.failed).toBe(3);
      expect(summary.byFlag.corrupt_input).toBe(3);
      expect(summary.byFlag.bad_psf).toBe(4);
      expect(summary.byFlag.unphysical_pixels).toBe(2);
    }
  }, 120_000);

  test('an output folder that cannot be made fails at once, naming it', async () => {
    const result = await runCli(['run', good[0]!, '--out', '/proc/vis-agn-nope/run', '--quiet']);
    expect(result.code).toBe(EXIT_CODES.outputFailed);
    expect(result.stderr).toContain('/proc/vis-agn-nope/run');
  }, 30_000);
});

describe('a source whose scoring throws, or whose score is absurd', () => {
  let dir: string;
  let generator: CoreGenerator;
  let group: PreparedCutout[];
  const config = defaultDetectionSettings(readCard(defaultCardPath()).card);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-throw-'));
    const files = (await simulateCutouts({ count: 3, seed: 43, out: path.join(dir, 'sims'), workers: 1 })).files;
    generator = await CoreGenerator.load(defaultCardPath(), { device: 'cpu', threads: 1 });
    const side = generator.crop + CORE_SEARCH - 1;
    group = files.map((file) => prepareCutout(readCutout(file, { side }), generator.crop, generator, config.rmsToSigma));
  }, 60_000);

  afterAll(async () => {
    await generator.release();
    rmSync(dir, { recursive: true, force: true });
  });

  test('is a flagged row with its reason; the others in its batch score as they do alone', async () => {
    // What validation keeps out, forced in: an infinite pixel makes the regenerations NaN and the covariance fail.
    const broken = { ...group[1]!, prepared: { ...group[1]!.prepared, crop: group[1]!.prepared.crop.map((v, i) => (i === 0 ? Infinity : v)) } };
    const calibration = significanceCalibration(generator.loaded);
    const scored = await scorePrepared(generator, [group[0]!, broken, group[2]!], config, calibration);
    expect(decodeFlags(scored[1]!.row.flags)).toContain('scoring_failed');
    expect(scored[1]!.row.agn_z).toBeNull();
    expect(scored[1]!.error?.reason).toMatch(/not positive definite/);
    for (const k of [0, 2]) {
      const [alone] = await scorePrepared(generator, [group[k]!], config, calibration);
      expect(scored[k]!.error).toBeUndefined();
      expect(scored[k]!.row).toEqual(alone!.row);
    }
  }, 60_000);

  test('a score outside its physical bounds is withheld and flagged, never published', async () => {
    const [scored] = await scorePrepared(generator, [group[0]!], config, significanceCalibration(generator.loaded));
    // The value the corrupted PSFs produced, on an otherwise sound row.
    const absurd = { ...scored!.scores!, fPs: 6e35 };
    expect(scoreProblem(absurd)).toMatch(/f_ps = 6e\+35 is outside its physical bounds/);
    const row = sourceRow(group[0]!.cutout, group[0]!.prepared, absurd, config.thresholds);
    expect(decodeFlags(row.flags)).toContain('unphysical_score');
    expect(FAILURE_FLAGS).toContain('unphysical_score');
    expect([row.f_ps, row.ps_flux, row.agn_z]).toEqual([null, null, null]);
    expect(row.candidate_class).toBe('none');
  }, 60_000);

  test('a PSF of no weight past the door is a flagged row, never a published score', async () => {
    const { prepared } = group[0]!;
    const psf = { size: prepared.psf.size, data: new Float64Array(prepared.psf.data.length) };
    const weightless = { ...group[0]!, prepared: { ...prepared, psf, psfWeights: prepared.psfWeights.map(() => 0) } };
    const [scored] = await scorePrepared(generator, [weightless], config, significanceCalibration(generator.loaded));
    expect(decodeFlags(scored!.row.flags).some((flag) => (FAILURE_FLAGS as readonly string[]).includes(flag))).toBe(true);
    expect([scored!.row.f_ps, scored!.row.ps_flux, scored!.row.agn_z]).toEqual([null, null, null]);
    expect(scored!.error).toBeDefined();
  }, 60_000);
});

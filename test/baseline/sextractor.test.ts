import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import {
  psfWidths,
  runSourceExtractor,
  sourceExtractorAvailable,
  summariseTiming,
  writePsfexModel,
  type SourceExtractorResult,
} from '../../src/baseline/sextractor.js';
import { openFits } from '../../src/fits/file.js';
import { openBinaryTable } from '../../src/fits/table.js';
import { writeFits } from '../../src/fits/writer.js';
import { simulateCutouts } from '../../src/sim/cutouts.js';
import { moffatPsf, q1Psfs } from '../../src/ground/psf.js';
import { buildRecipe } from '../../src/sim/recipe.js';
import { describeIf } from '../helpers/shared.js';
import { seededRandom } from '../helpers/random.js';

const hasSourceExtractor = sourceExtractorAvailable();
const hasPsfex = spawnSync('psfex', ['-v'], { stdio: 'ignore' }).status === 0;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-baseline-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PSF stamp as a PSFEx model', () => {
  test('widths of a pixel-integrated Moffat: half-maximum FWHM near the nominal, half-light radius beyond half of it', () => {
    const psf = moffatPsf(0.18);
    const { fwhm, halfLightRadius } = psfWidths(psf.data, psf.size, psf.size);
    // 1.8 px nominal; integrating over the pixel widens the core a little.
    expect(fwhm).toBeGreaterThan(1.7);
    expect(fwhm).toBeLessThan(1.95);
    // A beta = 3 Moffat holds a quarter of its light beyond 2 FWHM: r50 > FWHM / 2.
    expect(halfLightRadius).toBeGreaterThan(0.6 * fwhm);
    expect(halfLightRadius).toBeLessThan(fwhm);
  });

  test('the file has the PSF_DATA layout psfex writes, and the stamp as its one PSF_MASK cell', async () => {
    const psf = moffatPsf(0.18);
    const target = path.join(dir, 'model.psf');
    const widths = await writePsfexModel(target, psf.data, psf.size, psf.size);
    const fits = openFits(target);
    try {
      const hdu = fits.hdu('PSF_DATA');
      for (const [key, value] of Object.entries({ POLNAXIS: 0, POLNGRP: 0, PSF_SAMP: 1, PSFNAXIS: 3, PSFAXIS1: 21, PSFAXIS2: 21, PSFAXIS3: 1 })) {
        expect([key, hdu.header.get(key)]).toEqual([key, value]);
      }
      expect(hdu.header.get('PSF_FWHM')).toBeCloseTo(2 * widths.halfLightRadius, 10);
      const table = openBinaryTable(fits.source, hdu);
      expect(table.nrows).toBe(1);
      expect(table.column('PSF_MASK').dim).toEqual([21, 21, 1]);
      expect(table.column('PSF_MASK').format).toBe('441E');
      expect(Array.from(table.readCell(0, 'PSF_MASK') as Float32Array)).toEqual(Array.from(Float32Array.from(psf.data)));
    } finally {
      fits.close();
    }
  });

  test('the timing summary divides wall time by sources and takes the median cutout time', () => {
    const result = (seconds: number): SourceExtractorResult => ({ file: 'a.fits', spreadModel: 0, spreadErr: 0, classStar: 1, magAuto: 20, flags: 0, seconds, reason: null });
    expect(summariseTiming([0.3, 0.1, 0.2].map(result), 1.5)).toEqual({
      sources: 3,
      wallSeconds: 1.5,
      wallSecondsPerSource: 0.5,
      medianSecondsPerCutout: 0.2,
    });
  });
});

interface Truth {
  readonly f_ps: number;
  readonly host_re: number;
  readonly mag_total: number;
}

/** Rewrites a simulated cutout with another VIS_PSF stamp (and the same pixels). */
async function withPsf(source: string, target: string, stamp: Float64Array, size: number): Promise<void> {
  const fits = openFits(source);
  try {
    const flux = fits.readImage('VIS_FLUX');
    await writeFits(target, [
      { type: 'empty' },
      { type: 'image', name: 'VIS_FLUX', axes: flux.axes, dtype: 'float32', data: flux.data, cards: [{ key: 'MAGZERO', value: 24.6 }] },
      { type: 'image', name: 'VIS_PSF', axes: [size, size], dtype: 'float32', data: Float32Array.from(stamp) },
      { type: 'image', name: 'VIS_RMS', axes: flux.axes, dtype: 'float32', data: fits.readImage('VIS_RMS').data },
    ]);
  } finally {
    fits.close();
  }
}

describeIf(hasSourceExtractor, 'source-extractor not on PATH (apt install source-extractor)', 'SPREAD_MODEL and CLASS_STAR from source-extractor', () => {
  let files: string[];
  let truth: Truth[];
  let results: SourceExtractorResult[];

  beforeAll(async () => {
    // Bright stars and pure galaxies alternate by object id: known f_PS, high S/N.
    // The stress population: the fixture this test was written on (its galaxies are compact enough to be one detection each).
    const recipe = buildRecipe({ population: 'stress', mix: 'grid', gridFps: [0, 1], magnitude: [19.5, 20.5] });
    const out = path.join(dir, 'grid');
    const sim = await simulateCutouts({ count: 10, seed: 31, out, recipe, workers: 1 });
    files = sim.files;
    truth = tableFromIPC(readFileSync(sim.truth)).toArray().map((row) => row.toJSON() as unknown as Truth);
    results = await runSourceExtractor(files, { workers: 2, tmpDir: dir });
  });

  test('every cutout is measured, in input order, with no error', () => {
    expect(results.map((r) => r.file)).toEqual(files);
    for (const r of results) {
      expect([r.file, r.reason]).toEqual([r.file, null]);
      expect(r.seconds).toBeGreaterThan(0);
    }
  });

  test('stars (f_PS = 1) have |SPREAD_MODEL| < 0.003 and CLASS_STAR > 0.8', () => {
    const stars = results.filter((_, i) => truth[i]!.f_ps === 1);
    expect(stars.length).toBe(5);
    for (const star of stars) {
      expect(Math.abs(star.spreadModel!)).toBeLessThan(0.003);
      expect(star.classStar!).toBeGreaterThan(0.8);
    }
  });

  test('extended bright galaxies (r_e >= 3 px) have SPREAD_MODEL clearly positive', () => {
    const galaxies = results.filter((_, i) => truth[i]!.f_ps === 0 && truth[i]!.host_re >= 3);
    expect(galaxies.length).toBeGreaterThanOrEqual(2);
    for (const galaxy of galaxies) {
      expect(galaxy.spreadModel!).toBeGreaterThan(0.01);
      expect(galaxy.spreadModel!).toBeGreaterThan(5 * galaxy.spreadErr!);
      expect(galaxy.classStar!).toBeLessThan(0.5);
    }
  });

  test('MAG_AUTO recovers the total magnitude of the stars', () => {
    results.forEach((r, i) => {
      if (truth[i]!.f_ps === 1) expect(Math.abs(r.magAuto! - truth[i]!.mag_total)).toBeLessThan(0.15);
    });
  });

  test('the PSF fitted is the one the cutout carries: a star under a much wider PSF has SPREAD_MODEL well below 0', async () => {
    const star = truth.findIndex((t) => t.f_ps === 1);
    const wide = moffatPsf(0.4);
    const target = path.join(dir, 'star-wide-psf.fits');
    await withPsf(files[star]!, target, wide.data, wide.size);
    const [result] = await runSourceExtractor([target], { tmpDir: dir });
    expect(result!.reason).toBeNull();
    expect(result!.spreadModel!).toBeLessThan(-0.01);
  });

  test('blank sky gives null values with a reason; an unreadable cutout too, without stopping the others', async () => {
    const random = seededRandom(7);
    const noise = Float32Array.from({ length: 100 * 100 }, () => 0.01 * (random() + random() + random() - 1.5));
    const blank = path.join(dir, 'blank.fits');
    await writeFits(blank, [
      { type: 'empty' },
      { type: 'image', name: 'VIS_FLUX', axes: [100, 100], dtype: 'float32', data: noise },
      { type: 'image', name: 'VIS_PSF', axes: [21, 21], dtype: 'float32', data: Float32Array.from(moffatPsf(0.18).data) },
      { type: 'image', name: 'VIS_RMS', axes: [100, 100], dtype: 'float32', data: new Float32Array(100 * 100).fill(0.01) },
    ]);
    const noPsf = path.join(dir, 'no-psf.fits');
    await writeFits(noPsf, [{ type: 'empty' }, { type: 'image', name: 'VIS_FLUX', axes: [100, 100], dtype: 'float32', data: noise }]);
    const [sky, broken, star] = await runSourceExtractor([blank, noPsf, files[truth.findIndex((t) => t.f_ps === 1)]!], { workers: 2, tmpDir: dir });
    expect(sky).toMatchObject({ spreadModel: null, classStar: null, magAuto: null, flags: null });
    expect(sky!.reason).toMatch(/no detection within 3 px/);
    expect(broken!.spreadModel).toBeNull();
    expect(broken!.reason).toMatch(/VIS_PSF/);
    expect(star!.reason).toBeNull();
  });

  test('the run leaves nothing in its temporary directory', async () => {
    const tmpDir = mkdtempSync(path.join(dir, 'tmp-'));
    await runSourceExtractor(files.slice(0, 2), { tmpDir });
    expect(readdirSync(tmpDir)).toEqual([]);
  });
});

/** The PSF_DATA keywords SExtractor's psf_load reads for a constant model. */
const PSF_KEYWORDS = ['POLNAXIS', 'POLNGRP', 'PSF_FWHM', 'PSF_SAMP', 'PSFNAXIS', 'PSFAXIS1', 'PSFAXIS2', 'PSFAXIS3'];

describeIf(hasSourceExtractor && hasPsfex, 'source-extractor or psfex not on PATH (apt install source-extractor psfex)', 'the model file against one psfex writes', () => {
  test('psfex fitted to a field of the same stamp writes the same layout and a PSF_FWHM within 10% of ours', async () => {
    const work = mkdtempSync(path.join(dir, 'psfex-'));
    const psf = q1Psfs()[0]!;
    const side = 420;
    const random = seededRandom(3);
    const field = Float32Array.from({ length: side * side }, () => 0.01 * (random() + random() + random() - 1.5));
    const half = (psf.size - 1) / 2;
    // 49 stars at pixel centres, as the stamp is centred, with fluxes of S/N ~100-400.
    for (let gy = 0; gy < 7; gy++) {
      for (let gx = 0; gx < 7; gx++) {
        const flux = 50 + 150 * random();
        for (let j = 0; j < psf.size; j++) {
          const row = (30 + 60 * gy + j - half) * side + 30 + 60 * gx - half;
          for (let i = 0; i < psf.size; i++) field[row + i]! += flux * psf.data[j * psf.size + i]!;
        }
      }
    }
    await writeFits(path.join(work, 'stars.fits'), [{ type: 'image', axes: [side, side], dtype: 'float32', data: field }]);
    // The columns psfex's own prepsfex.param asks for.
    const columns = ['VIGNET(35,35)', 'X_IMAGE', 'Y_IMAGE', 'FLUX_APER(1)', 'FLUXERR_APER(1)', 'FLUX_RADIUS', 'ELONGATION', 'FLAGS', 'SNR_WIN'];
    writeFileSync(path.join(work, 'stars.param'), columns.join('\n'));
    // No detection filter: the stars are bright, and its file would have to be found.
    const options = { cwd: work, stdio: 'ignore' } as const;
    const extract = ['-CATALOG_TYPE', 'FITS_LDAC', '-CATALOG_NAME', 'stars.cat', '-PARAMETERS_NAME', 'stars.param', '-FILTER', 'N'];
    execFileSync('source-extractor', ['stars.fits', ...extract, '-PHOT_APERTURES', '10', '-GAIN', '0', '-SATUR_LEVEL', '1e18', '-VERBOSE_TYPE', 'QUIET'], options);
    const constant = ['-PSF_SAMPLING', '1.0', '-PSFVAR_DEGREES', '0', '-PSF_SIZE', `${psf.size},${psf.size}`];
    execFileSync('psfex', ['stars.cat', ...constant, '-CHECKPLOT_TYPE', 'NONE', '-CHECKIMAGE_TYPE', 'NONE', '-WRITE_XML', 'N', '-VERBOSE_TYPE', 'QUIET'], options);
    await writePsfexModel(path.join(work, 'ours.psf'), psf.data, psf.size, psf.size);
    const layout = (file: string): { keys: Record<string, unknown>; format: string; dim: readonly number[] | undefined } => {
      const fits = openFits(path.join(work, file));
      try {
        const hdu = fits.hdu('PSF_DATA');
        const column = openBinaryTable(fits.source, hdu).column('PSF_MASK');
        return { keys: Object.fromEntries(PSF_KEYWORDS.map((k) => [k, hdu.header.get(k)])), format: column.format, dim: column.dim };
      } finally {
        fits.close();
      }
    };
    const theirs = layout('stars.psf');
    const ours = layout('ours.psf');
    expect(ours.format).toBe(theirs.format);
    expect(ours.dim).toEqual(theirs.dim);
    expect({ ...ours.keys, PSF_FWHM: 0 }).toEqual({ ...theirs.keys, PSF_FWHM: 0 });
    expect(Math.abs((ours.keys.PSF_FWHM as number) / (theirs.keys.PSF_FWHM as number) - 1)).toBeLessThan(0.1);
  });
});

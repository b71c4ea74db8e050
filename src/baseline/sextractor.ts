/**
 * The peer baseline: Source Extractor's SPREAD_MODEL and CLASS_STAR measured on the same cutouts the
 * pipeline scores, with the cutout's own PSF stamp handed to it as a PSFEx model, so the comparison
 * is against SPREAD_MODEL at its best (a perfect PSF model) rather than against a PSFEx fit.
 *
 * The .psf file is written here, not by psfex: PSFEx would have to fit the model from stars, which a
 * single cutout does not have, and the stamp already is the answer. Its layout (a PSF_DATA binary
 * table with one PSF_MASK cell of shape (1, h, w) and the POL and PSF keywords) was copied from a
 * model that psfex 3.21.1 wrote for a field of these stamps; a degree-0 model is just that one cell.
 *
 * One source-extractor process per cutout, several at once: each takes ~70 ms of CPU, nearly all of it
 * inside source-extractor, on one thread.
 */

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { InputNotFoundError, InvalidInputError, LimitExceededError, UnsupportedError, VisAgnError } from '../errors.js';
import { openFits, type FitsFile } from '../fits/file.js';
import { openBinaryTable } from '../fits/table.js';
import type { PixelArray } from '../fits/types.js';
import { writeFits, type HduInput } from '../fits/writer.js';
import { median } from '../ground/stats.js';
import { MAGZERO, PIXEL_SCALE_ARCSEC } from '../ground/vis.js';

export const SOURCE_EXTRACTOR = 'source-extractor';

/** Where distributions install default.nnw (the CLASS_STAR network) and default.conv. */
const SHARE_DIRS = ['/usr/share/source-extractor', '/usr/local/share/source-extractor', '/usr/share/sextractor'];

/** Image HDUs tried in turn: simulated and most Q1 cutouts say VIS_FLUX, some Q1 cutouts VIS_BGSUB. */
const IMAGE_HDUS = ['VIS_FLUX', 'VIS_BGSUB'];

/** A detection further than this from the cutout centre is some other source. */
export const MATCH_RADIUS_PX = 3;

const PARAMETERS = ['NUMBER', 'X_IMAGE', 'Y_IMAGE', 'FLUX_AUTO', 'MAG_AUTO', 'SPREAD_MODEL', 'SPREADERR_MODEL', 'CLASS_STAR', 'FLAGS'];

export function sourceExtractorAvailable(): boolean {
  return spawnSync(SOURCE_EXTRACTOR, ['-v'], { stdio: 'ignore' }).status === 0;
}

/** Widths of a PSF stamp in image pixels. */
export interface PsfWidths {
  /** Full width at half maximum: what SEEING_FWHM (CLASS_STAR) means. */
  readonly fwhm: number;
  /** Radius holding half the stamp's light, about its light centroid. */
  readonly halfLightRadius: number;
}

/** Subdivisions per pixel side: a VIS core is ~2 pixels wide, too few to count in whole pixels. */
const SUBSAMPLE = 10;

/** The FWHM as the diameter of a circle with the area above half the peak, on a bilinear resampling. */
function halfMaxFwhm(stamp: ArrayLike<number>, width: number, height: number): number {
  let peak = 0;
  for (let i = 0; i < stamp.length; i++) peak = Math.max(peak, stamp[i]!);
  let above = 0;
  for (let j = 0; j < (height - 1) * SUBSAMPLE; j++) {
    const y = (j + 0.5) / SUBSAMPLE;
    const y0 = Math.floor(y);
    const fy = y - y0;
    for (let i = 0; i < (width - 1) * SUBSAMPLE; i++) {
      const x = (i + 0.5) / SUBSAMPLE;
      const x0 = Math.floor(x);
      const fx = x - x0;
      const at = y0 * width + x0;
      const value = (1 - fy) * ((1 - fx) * stamp[at]! + fx * stamp[at + 1]!) + fy * ((1 - fx) * stamp[at + width]! + fx * stamp[at + width + 1]!);
      if (value >= peak / 2) above++;
    }
  }
  return 2 * Math.sqrt(above / (SUBSAMPLE * SUBSAMPLE) / Math.PI);
}

/** Each pixel's light spread evenly over its sub-pixels, accumulated outwards from the light centroid. */
function halfLightRadius(stamp: ArrayLike<number>, width: number, height: number): number {
  let total = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = stamp[y * width + x]!;
      total += v;
      sx += v * x;
      sy += v * y;
    }
  }
  const cx = sx / total;
  const cy = sy / total;
  const samples: [number, number][] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const share = stamp[y * width + x]! / (SUBSAMPLE * SUBSAMPLE);
      for (let j = 0; j < SUBSAMPLE; j++) {
        for (let i = 0; i < SUBSAMPLE; i++) {
          samples.push([Math.hypot(x - 0.5 + (i + 0.5) / SUBSAMPLE - cx, y - 0.5 + (j + 0.5) / SUBSAMPLE - cy), share]);
        }
      }
    }
  }
  samples.sort((a, b) => a[0] - b[0]);
  let enclosed = 0;
  for (const [r, share] of samples) {
    enclosed += share;
    if (enclosed >= total / 2) return r;
  }
  return Number.NaN;
}

export function psfWidths(stamp: ArrayLike<number>, width: number, height: number): PsfWidths {
  return { fwhm: halfMaxFwhm(stamp, width, height), halfLightRadius: halfLightRadius(stamp, width, height) };
}

/**
 * Writes `stamp` (row-major, width fastest) as a constant PSFEx model sampled at the image pixels, and
 * returns its widths. PSF_FWHM follows PSFEx, which records twice the stars' FLUX_RADIUS rather than a
 * true FWHM (psfex 3.21 gave 2.57 px for a Q1 stamp whose half-maximum FWHM is ~1.5 px); it matters,
 * as SExtractor takes the SPREAD_MODEL galaxy to be an exponential of scale length PSF_FWHM / 16.
 * SExtractor measures FLUX_RADIUS within the Kron aperture, so its half-light radius is a little
 * smaller than the whole stamp's used here (2.6-2.8 px for the Q1 stamps).
 */
export async function writePsfexModel(target: string, stamp: ArrayLike<number>, width: number, height: number): Promise<PsfWidths> {
  const widths = psfWidths(stamp, width, height);
  await writeFits(target, [
    { type: 'empty' },
    {
      type: 'bintable',
      name: 'PSF_DATA',
      columns: [{ name: 'PSF_MASK', values: Float32Array.from(stamp), dims: [width, height, 1] }],
      cards: [
        { key: 'POLNAXIS', value: 0, comment: 'Number of context parameters' },
        { key: 'POLNGRP', value: 0, comment: 'Number of context groups' },
        { key: 'PSF_FWHM', value: 2 * widths.halfLightRadius, comment: 'PSF FWHM in image pixels' },
        { key: 'PSF_SAMP', value: 1, comment: 'Sampling step of the PSF data in image pixels' },
        { key: 'PSFNAXIS', value: 3, comment: 'Dimensionality of the PSF data' },
        { key: 'PSFAXIS1', value: width, comment: 'Number of element along this axis' },
        { key: 'PSFAXIS2', value: height, comment: 'Number of element along this axis' },
        { key: 'PSFAXIS3', value: 1, comment: 'Number of element along this axis' },
      ],
    },
  ]);
  return widths;
}

export interface SourceExtractorOptions {
  /** Cutouts measured at once; default the number of cores. */
  readonly workers?: number;
  /** Where the PSF comes from; the only source is the cutout's VIS_PSF stamp, the true PSF for simulations. */
  readonly psf?: 'hdu';
  /** Parent of the run's temporary directory, which is removed afterwards; default the OS's. */
  readonly tmpDir?: string;
}

export interface SourceExtractorResult {
  readonly file: string;
  readonly spreadModel: number | null;
  readonly spreadErr: number | null;
  readonly classStar: number | null;
  readonly magAuto: number | null;
  readonly flags: number | null;
  /** Wall time of this cutout: reading it, writing the inputs, source-extractor and its catalogue. */
  readonly seconds: number;
  /** Why the values are null (no detection at the centre, unreadable cutout, source-extractor failed). */
  readonly reason: string | null;
}

function findShareDir(): string {
  const found = SHARE_DIRS.find((dir) => existsSync(path.join(dir, 'default.nnw')) && existsSync(path.join(dir, 'default.conv')));
  if (found === undefined) throw new InputNotFoundError(`default.nnw and default.conv of source-extractor not found in ${SHARE_DIRS.join(', ')}`);
  return found;
}

/**
 * The settings every cutout shares. GAIN 0 leaves out the Poisson term: the RMS map already holds the
 * noise. A 64-pixel background mesh is wider than all but the brightest targets on a 100-pixel cutout.
 */
function configText(share: string, paramFile: string): string {
  const settings: [string, string | number][] = [
    ['CATALOG_TYPE', 'FITS_1.0'],
    ['PARAMETERS_NAME', paramFile],
    ['DETECT_TYPE', 'CCD'],
    ['DETECT_MINAREA', 5],
    ['DETECT_THRESH', 1.5],
    ['ANALYSIS_THRESH', 1.5],
    ['FILTER', 'Y'],
    ['FILTER_NAME', path.join(share, 'default.conv')],
    ['DEBLEND_NTHRESH', 32],
    ['DEBLEND_MINCONT', 0.005],
    ['CLEAN', 'Y'],
    ['CLEAN_PARAM', 1.0],
    ['WEIGHT_TYPE', 'MAP_RMS'],
    ['PHOT_AUTOPARAMS', '2.5,3.5'],
    ['SATUR_LEVEL', 1e18],
    ['GAIN', 0],
    ['PIXEL_SCALE', PIXEL_SCALE_ARCSEC],
    ['STARNNW_NAME', path.join(share, 'default.nnw')],
    ['BACK_TYPE', 'AUTO'],
    ['BACK_SIZE', 64],
    ['BACK_FILTERSIZE', 3],
    ['BACKPHOTO_TYPE', 'GLOBAL'],
    ['CHECKIMAGE_TYPE', 'NONE'],
    ['VERBOSE_TYPE', 'QUIET'],
    ['WRITE_XML', 'N'],
    ['NTHREADS', 1],
  ];
  return settings.map(([key, value]) => `${key.padEnd(16)} ${value}\n`).join('');
}

interface Cutout {
  readonly image: { readonly axes: readonly number[]; readonly data: PixelArray };
  readonly rms: PixelArray | undefined;
  readonly psf: { readonly axes: readonly number[]; readonly data: PixelArray };
  readonly magZero: number;
}

function imageHdu(fits: FitsFile): string {
  const names = new Set(fits.hdus.map((h) => h.name.toUpperCase()));
  const name = IMAGE_HDUS.find((n) => names.has(n));
  if (name === undefined) throw new InvalidInputError(`no ${IMAGE_HDUS.join(' or ')} image`, { file: fits.path });
  return name;
}

function readCutout(file: string): Cutout {
  const fits = openFits(file);
  try {
    const name = imageHdu(fits);
    const image = fits.readImage(name);
    if (image.axes.length !== 2) throw new InvalidInputError(`${name} is not a 2-D image`, { file });
    const rms = fits.hdus.some((h) => h.name.toUpperCase() === 'VIS_RMS') ? fits.readImage('VIS_RMS') : undefined;
    if (rms !== undefined && rms.axes.join() !== image.axes.join()) {
      throw new InvalidInputError(`VIS_RMS is ${rms.axes.join('x')}, ${name} ${image.axes.join('x')}`, { file });
    }
    const psf = fits.readImage('VIS_PSF');
    if (psf.axes.length !== 2) throw new InvalidInputError('VIS_PSF is not a 2-D image', { file });
    return { image, rms: rms?.data, psf, magZero: fits.hdu(name).header.getNumber('MAGZERO', MAGZERO) };
  } finally {
    fits.close();
  }
}

interface Detection {
  readonly x: number;
  readonly y: number;
  readonly magAuto: number;
  readonly spreadModel: number;
  readonly spreadErr: number;
  readonly classStar: number;
  readonly flags: number;
}

function readCatalogue(file: string): Detection[] {
  const fits = openFits(file);
  try {
    const table = openBinaryTable(fits.source, fits.hdu(1));
    const column = (name: string): ArrayLike<number> => {
      const data = table.readColumn(name);
      if (data.varying || data.dtype === 'string' || data.dtype === 'logical' || data.dtype === 'bit') {
        throw new InvalidInputError(`column ${name} is not a number per row`, { file });
      }
      return data.values as ArrayLike<number>;
    };
    const names = ['X_IMAGE', 'Y_IMAGE', 'MAG_AUTO', 'SPREAD_MODEL', 'SPREADERR_MODEL', 'CLASS_STAR', 'FLAGS'];
    const [x, y, mag, spread, spreadErr, classStar, flags] = names.map(column);
    return Array.from({ length: table.nrows }, (_, i) => ({
      // SExtractor's pixel coordinates are 1-based.
      x: x![i]! - 1,
      y: y![i]! - 1,
      magAuto: mag![i]!,
      spreadModel: spread![i]!,
      spreadErr: spreadErr![i]!,
      classStar: classStar![i]!,
      flags: flags![i]!,
    }));
  } finally {
    fits.close();
  }
}

/** The detection nearest the nominal centre (floor(w/2), floor(h/2)), the pipeline's target pixel. */
function nearestToCentre(detections: readonly Detection[], width: number, height: number): Detection | undefined {
  const cx = Math.floor(width / 2);
  const cy = Math.floor(height / 2);
  let best: Detection | undefined;
  let bestDistance = MATCH_RADIUS_PX;
  for (const d of detections) {
    const distance = Math.hypot(d.x - cx, d.y - cy);
    if (distance <= bestDistance) {
      best = d;
      bestDistance = distance;
    }
  }
  return best;
}

/** MAG_AUTO is 99 when FLUX_AUTO is not positive: that is no magnitude. */
function magnitude(value: number): number | null {
  return Number.isFinite(value) && value < 99 ? value : null;
}

function runProcess(args: readonly string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SOURCE_EXTRACTOR, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** SExtractor's message: an '*Error*' line and the line after it, which often holds the detail. */
function errorText(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.replace(/^[\s>]+/, '').trim()).filter((l) => l !== '');
  const at = lines.findIndex((l) => /error/i.test(l));
  return (at < 0 ? lines.slice(-2) : lines.slice(at, at + 2)).join(' ');
}

/** The input problems that make one cutout's values null rather than stopping the batch. */
function isInputError(error: unknown): error is VisAgnError {
  return error instanceof InvalidInputError || error instanceof InputNotFoundError || error instanceof UnsupportedError || error instanceof LimitExceededError;
}

async function measureOne(file: string, index: number, runDir: string, config: string): Promise<SourceExtractorResult> {
  const start = performance.now();
  const done = (values: Omit<SourceExtractorResult, 'file' | 'seconds'>): SourceExtractorResult => ({
    file,
    ...values,
    seconds: (performance.now() - start) / 1000,
  });
  const none = (reason: string): SourceExtractorResult =>
    done({ spreadModel: null, spreadErr: null, classStar: null, magAuto: null, flags: null, reason });
  let cutout: Cutout;
  try {
    cutout = readCutout(file);
  } catch (error) {
    if (isInputError(error)) return none(error.message);
    throw error;
  }
  const dir = path.join(runDir, String(index));
  await mkdir(dir);
  try {
    const [width, height] = cutout.image.axes as [number, number];
    const [psfWidth, psfHeight] = cutout.psf.axes as [number, number];
    const { fwhm } = await writePsfexModel(path.join(dir, 'psf.psf'), cutout.psf.data as ArrayLike<number>, psfWidth, psfHeight);
    const image = (data: PixelArray): HduInput[] => [{ type: 'image', axes: [width, height], dtype: 'float32', data: Float32Array.from(data as ArrayLike<number>) }];
    await writeFits(path.join(dir, 'image.fits'), image(cutout.image.data));
    const args = ['image.fits', '-c', config, '-CATALOG_NAME', 'catalogue.fits', '-PSF_NAME', 'psf.psf'];
    args.push('-SEEING_FWHM', (fwhm * PIXEL_SCALE_ARCSEC).toFixed(4), '-MAG_ZEROPOINT', String(cutout.magZero));
    if (cutout.rms === undefined) {
      args.push('-WEIGHT_TYPE', 'NONE');
    } else {
      await writeFits(path.join(dir, 'rms.fits'), image(cutout.rms));
      args.push('-WEIGHT_IMAGE', 'rms.fits');
    }
    const { code, stderr } = await runProcess(args, dir);
    if (code !== 0) return none(`${SOURCE_EXTRACTOR} exited with ${code}: ${errorText(stderr)}`);
    const match = nearestToCentre(readCatalogue(path.join(dir, 'catalogue.fits')), width, height);
    if (match === undefined) return none(`no detection within ${MATCH_RADIUS_PX} px of the cutout centre`);
    return done({
      spreadModel: match.spreadModel,
      spreadErr: match.spreadErr,
      classStar: match.classStar,
      magAuto: magnitude(match.magAuto),
      flags: match.flags,
      reason: null,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `task` on every item with at most `workers` in flight; results in item order. After a failure
 * no new item starts, and the first failure is thrown only once every running task has ended, so the
 * caller's clean-up never races a task still writing.
 */
async function mapPool<T, R>(items: readonly T[], workers: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index]!, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(workers, items.length)) }, lane));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  return results;
}

/**
 * SPREAD_MODEL, CLASS_STAR and MAG_AUTO of the source at the centre of each cutout, in `files` order.
 * A cutout that cannot be read, or where nothing is detected at the centre, gets null values and a reason.
 */
export async function runSourceExtractor(files: readonly string[], options: SourceExtractorOptions = {}): Promise<SourceExtractorResult[]> {
  if (!sourceExtractorAvailable()) throw new UnsupportedError(`${SOURCE_EXTRACTOR} is not on PATH (Debian: apt install source-extractor)`);
  const share = findShareDir();
  const runDir = await mkdtemp(path.join(options.tmpDir ?? tmpdir(), 'vis-agn-sextractor-'));
  try {
    const paramFile = path.join(runDir, 'baseline.param');
    const config = path.join(runDir, 'baseline.sex');
    await writeFile(paramFile, `${PARAMETERS.join('\n')}\n`);
    await writeFile(config, configText(share, paramFile));
    return await mapPool(files, options.workers ?? availableParallelism(), (file, index) => measureOne(file, index, runDir, config));
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
}

export interface TimingSummary {
  readonly sources: number;
  readonly wallSeconds: number;
  /** Wall time over sources: the throughput cost with the workers used. */
  readonly wallSecondsPerSource: number;
  /** Median of the per-cutout times: the latency of one cutout, waits for a free core included. */
  readonly medianSecondsPerCutout: number;
}

export function summariseTiming(results: readonly SourceExtractorResult[], wallSeconds: number): TimingSummary {
  const n = results.length;
  return { sources: n, wallSeconds, wallSecondsPerSource: n === 0 ? Number.NaN : wallSeconds / n, medianSecondsPerCutout: median(results.map((r) => r.seconds)) };
}

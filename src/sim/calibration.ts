/**
 * What the simulator takes from real data. `measureCutout` reads a real Q1 MER cutout (VIS_FLUX or
 * VIS_BGSUB, VIS_RMS, VIS_PSF) and measures it with the estimators in ./stats; `Q1_MEASUREMENTS`
 * records their output on the three cutouts of ../shared/data/euclid-q1, and `calibrate` turns
 * measurements into the simulator's defaults. The tests re-measure the files and check both that the
 * record is current and that simulated cutouts measure like the real ones (docs/simulator.md).
 */

import { readdirSync } from 'node:fs';
import path from 'node:path';

import { InputNotFoundError, InvalidInputError } from '../errors.js';
import { openFits } from '../fits/file.js';
import type { ImageData } from '../fits/types.js';
import { tapForCorrelation, type NoiseModel } from './noise.js';
import { peakFraction } from './psf.js';
import { measureSources, rmsStats, skyStats, validMask, type Plane, type SourceMeasure } from './stats.js';

export interface CutoutMeasurement {
  readonly file: string;
  /** Masked blank-sky MAD, image units. */
  readonly mad: number;
  /** Unmasked MAD over all valid pixels. */
  readonly madAll: number;
  /** Blank-sky median (background pedestal). */
  readonly skyMedian: number;
  readonly rmsLevel: number;
  readonly madToRms: number;
  readonly autocorrelation: { readonly x1: number; readonly y1: number; readonly x2: number; readonly y2: number; readonly d11: number };
  readonly holeFraction: number;
  readonly holeFactor: number;
  readonly gain: number;
  readonly psfPeakFraction: number;
}

export interface MeasuredCutout {
  readonly measurement: CutoutMeasurement;
  /** Sources detected at 5 sigma: sizes and concentrations, for the population checks. */
  readonly sources: readonly SourceMeasure[];
  readonly image: Plane;
  readonly psf: ImageData;
}

function plane(data: ImageData): Plane {
  if (data.axes.length !== 2) throw new InvalidInputError(`expected a 2-D image, got axes ${data.axes.join('x')}`);
  return { width: data.axes[0]!, height: data.axes[1]!, data: data.data as ArrayLike<number> };
}

/** The VIS flux extension of a MER cutout: VIS_FLUX, or VIS_BGSUB in background-subtracted cutouts. */
function visFluxName(names: readonly string[]): string {
  const name = names.find((n) => n.toUpperCase() === 'VIS_FLUX') ?? names.find((n) => n.toUpperCase() === 'VIS_BGSUB');
  if (name === undefined) throw new InvalidInputError(`no VIS_FLUX or VIS_BGSUB extension (HDUs: ${names.join(', ')})`);
  return name;
}

/** Measures the statistics of any image with its RMS map and PSF stamp: real or simulated. */
export function measurePlanes(file: string, image: Plane, rms: Plane, psf: ArrayLike<number>): Omit<MeasuredCutout, 'psf'> {
  const valid = validMask(image, rms);
  const sky = skyStats(image, valid);
  const noise = rmsStats(image, rms, valid, sky);
  return {
    measurement: {
      file,
      mad: sky.mad,
      madAll: sky.madAll,
      skyMedian: sky.median,
      rmsLevel: noise.level,
      madToRms: noise.madToRms,
      autocorrelation: sky.autocorrelation,
      holeFraction: noise.holeFraction,
      holeFactor: noise.holeFactor,
      gain: noise.gain,
      psfPeakFraction: peakFraction(psf),
    },
    sources: measureSources(image, valid, sky),
    image,
  };
}

export function measureCutout(file: string): MeasuredCutout {
  const fits = openFits(file);
  try {
    const flux = plane(fits.readImage(visFluxName(fits.hdus.map((h) => h.name))));
    const rms = plane(fits.readImage('VIS_RMS'));
    const psf = fits.readImage('VIS_PSF');
    return { ...measurePlanes(path.basename(file), flux, rms, psf.data as ArrayLike<number>), psf };
  } finally {
    fits.close();
  }
}

/** Every *.fits file in `dir`, sorted by name. */
export function cutoutFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new InputNotFoundError(`cannot list the real cutouts: ${(error as Error).message}`, { file: dir }, { cause: error });
  }
  const files = names.filter((f) => f.toLowerCase().endsWith('.fits')).sort();
  if (files.length === 0) throw new InputNotFoundError('no .fits files', { file: dir });
  return files.map((f) => path.join(dir, f));
}

/**
 * `measureCutout` on the three Q1 cutouts in ../shared/data/euclid-q1 (2025-11, this code). The files
 * are Euclid Q1 MER cutouts of strong-lens candidates (PROVENANCE.md there): their central galaxies
 * are bright and large, so blank sky is 41-56% of the pixels.
 */
export const Q1_MEASUREMENTS: readonly CutoutMeasurement[] = [
  {
    file: 'q1_mer_cutout_102018665_NEG570040238507752998.fits',
    mad: 0.002626941425912082,
    madAll: 0.002886499414133141,
    skyMedian: 3.950480277126189e-05,
    rmsLevel: 0.004000282613560557,
    madToRms: 0.6566889591767876,
    autocorrelation: { x1: 0.20746866854140444, y1: 0.2576668519620624, x2: -0.005904789222824784, y2: 0.0015416004577963863, d11: 0.05661238303269149 },
    holeFraction: 0.11026233792340939,
    holeFactor: 1.2581391641352078,
    gain: 3324.6814966093966,
    psfPeakFraction: 0.2070736545706739,
  },
  {
    file: 'q1_mer_cutout_102020064_NEG635872258496841682_300px.fits',
    mad: 0.002471464756640489,
    madAll: 0.0027178823256224856,
    skyMedian: -0.000130613028886728,
    rmsLevel: 0.004197917878627777,
    madToRms: 0.5887358514617647,
    autocorrelation: { x1: 0.19920157533617805, y1: 0.21969271500276627, x2: 0.008743116575035799, y2: -0.0006385033219787011, d11: 0.05777629304098437 },
    holeFraction: 0.11187777777777778,
    holeFactor: 1.1479850263687972,
    gain: 2760.144920335869,
    psfPeakFraction: 0.20306787819887734,
  },
  {
    file: 'q1_mer_cutout_EUCLJ174517.55+655612.5.fits',
    mad: 0.002114576767652761,
    madAll: 0.002853257087829115,
    skyMedian: 0.0009349298779852688,
    rmsLevel: 0.003337795613333583,
    madToRms: 0.6335249405942065,
    autocorrelation: { x1: 0.23640338223778723, y1: 0.214200041044009, x2: 0.023844286422998042, y2: 0.013728241372502255, d11: 0.05877251958448717 },
    holeFraction: 0.149,
    holeFactor: 1.1817637993874754,
    gain: 3011.420867651084,
    psfPeakFraction: 0.174099344990024,
  },
];

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Lower-coverage patches are a modelling choice, not a fit: the real cutouts show 1-2 regions per
 * 100-300 px whose RMS is 1.13-1.5 times the rest (docs/simulator.md).
 */
const PATCHES = { perCell: 0.15, factorRange: [1.1, 1.5] as const };

/** Noise model from measurements: the averages, and the full range of sky levels seen. */
export function calibrate(measurements: readonly CutoutMeasurement[]): NoiseModel {
  const levels = measurements.map((m) => m.rmsLevel);
  const medians = measurements.map((m) => m.skyMedian);
  return {
    rmsRange: [Math.min(...levels), Math.max(...levels)],
    madToRms: mean(measurements.map((m) => m.madToRms)),
    taps: {
      x: tapForCorrelation(mean(measurements.map((m) => m.autocorrelation.x1))),
      y: tapForCorrelation(mean(measurements.map((m) => m.autocorrelation.y1))),
    },
    gain: mean(measurements.map((m) => m.gain)),
    backgroundSigma: Math.sqrt(mean(medians.map((m) => m * m))),
    holes: { fraction: mean(measurements.map((m) => m.holeFraction)), factor: mean(measurements.map((m) => m.holeFactor)) },
    patches: PATCHES,
  };
}

export const Q1_NOISE: NoiseModel = calibrate(Q1_MEASUREMENTS);

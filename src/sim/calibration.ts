/**
 * What the simulator takes from real data. `measureCutout` reads a real Q1 MER cutout (VIS_FLUX or
 * VIS_BGSUB, VIS_RMS, VIS_PSF) and measures it with the estimators in ./stats; `Q1_MEASUREMENTS`
 * (ground/vis.ts) records their output on the three cutouts of ../shared/data/euclid-q1, and `calibrate` turns
 * measurements into the simulator's defaults. The tests re-measure the files and check both that the
 * record is current and that simulated cutouts measure like the real ones (docs/simulator.md).
 */

import { readdirSync } from 'node:fs';
import path from 'node:path';

import { InputNotFoundError, InvalidInputError } from '../errors.js';
import { openFits } from '../fits/file.js';
import type { ImageData } from '../fits/types.js';
import { peakFraction } from '../ground/psf.js';
import { mean } from '../ground/stats.js';
import { Q1_MEASUREMENTS, type CutoutMeasurement } from '../ground/vis.js';
import { tapForCorrelation, type NoiseModel } from './noise.js';
import { measureSources, rmsStats, skyStats, validMask, type Plane, type SourceMeasure } from './stats.js';

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

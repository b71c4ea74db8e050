/**
 * What every stage assumes of Euclid VIS MER images and their cutouts: the zero point, the pixel scale,
 * and the noise as measured on real Q1 cutouts (sim/calibration.ts measures them and its tests check
 * the record below is current). The simulator's defaults and the detection's noise model both derive
 * from this one record, so they cannot drift apart.
 */

import { mean } from './stats.js';

/** AB zero point of MER VIS pixel values, used when a header carries no MAGZERO. */
export const MAGZERO = 24.6;

export const PIXEL_SCALE_ARCSEC = 0.1;

/** The AB magnitude of 1 µJy. */
export const AB_MAG_OF_MICROJANSKY = 23.9;

export function microjanskyPerUnit(magzero: number): number {
  return 10 ** ((AB_MAG_OF_MICROJANSKY - magzero) / 2.5);
}

/** 0.5248 µJy per image unit at MAGZERO. */
export const MICROJANSKY_PER_UNIT = microjanskyPerUnit(MAGZERO);

export function magToFlux(mag: number): number {
  return Math.pow(10, -0.4 * (mag - MAGZERO));
}

export function fluxToMag(flux: number): number {
  return MAGZERO - 2.5 * Math.log10(flux);
}

/** The statistics `measureCutout` records of one cutout. */
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


/**
 * What sim/calibration.ts's `measureCutout` gives on the three Q1 cutouts in ../shared/data/euclid-q1 (2025-11, this code). The files
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

/**
 * Blank-sky noise over the level of a MER RMS map. Mosaic resampling correlates the noise, so the
 * per-pixel scatter is below what the RMS map says (0.59-0.66 on the three Q1 cutouts; docs/simulator.md).
 */
export const MER_RMS_TO_SIGMA = mean(Q1_MEASUREMENTS.map((m) => m.madToRms));

/** Electrons per image unit of the MER VIS mosaics, from the shot noise in the Q1 RMS maps. */
export const MER_VIS_GAIN = mean(Q1_MEASUREMENTS.map((m) => m.gain));

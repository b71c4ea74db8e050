/**
 * Effective PSFs (optical PSF convolved with the pixel, sampled at pixel centres), for rendering and
 * for scoring: a cutout's own stamp, the real Q1 VIS stamps and their mean (for cutouts without one),
 * or a parametric Moffat for studies of PSF width (FWHM 0.16"-0.20"); and the Lanczos-3 kernel that
 * places a point source between pixel centres, in the simulator and in the joint fit alike.
 */

import { Q1_VIS_PSF_STAMPS } from './q1-psf-stamps.js';
import { PIXEL_SCALE_ARCSEC } from './vis.js';

/** What the scores need of a PSF. */
export interface PsfStamp {
  /** Odd side length; the centre pixel is the PSF origin. */
  readonly size: number;
  /** Row-major, normalised to sum 1. */
  readonly data: ArrayLike<number>;
}

export interface Psf extends PsfStamp {
  /** Where it came from, recorded in the truth table and the recipe: 'q1:<file>' or 'moffat:<fwhm>:<beta>'. */
  readonly name: string;
  /** Normalised to sum 1 so that a source's flux is what the truth table says. */
  readonly data: Float64Array;
}

function normalised(values: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(values);
  const sum = out.reduce((a, b) => a + b, 0);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

export function decodeFloat32LE(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/** A PSF from a real stamp (any odd size). */
export function psfFromStamp(name: string, size: number, values: ArrayLike<number>): Psf {
  if (size % 2 !== 1 || values.length !== size * size) throw new RangeError(`PSF stamp ${name} is not odd and square`);
  return { name, size, data: normalised(values) };
}

let q1Cache: readonly Psf[] | undefined;

/** The real VIS PSF stamps of the Q1 cutouts, normalised. */
export function q1Psfs(): readonly Psf[] {
  q1Cache ??= Q1_VIS_PSF_STAMPS.map((s) => psfFromStamp(`q1:${s.file}`, s.size, decodeFloat32LE(s.base64)));
  return q1Cache;
}

/**
 * Pixel-integrated circular Moffat, I ∝ (1 + (r/α)²)^-β, with the given FWHM in arcsec, on a stamp of
 * the real stamps' size. Integrated with a 9x9 sub-grid per pixel: the Moffat core is smooth.
 */
export function moffatPsf(fwhmArcsec: number, beta = 3, size = 21): Psf {
  const fwhm = fwhmArcsec / PIXEL_SCALE_ARCSEC;
  const alpha = fwhm / (2 * Math.sqrt(Math.pow(2, 1 / beta) - 1));
  const sub = 9;
  const half = (size - 1) / 2;
  const values = new Float64Array(size * size);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      let sum = 0;
      for (let b = 0; b < sub; b++) {
        const y = j - half + (b + 0.5) / sub - 0.5;
        for (let a = 0; a < sub; a++) {
          const x = i - half + (a + 0.5) / sub - 0.5;
          sum += Math.pow(1 + (x * x + y * y) / (alpha * alpha), -beta);
        }
      }
      values[j * size + i] = sum;
    }
  }
  return { name: `moffat:${fwhmArcsec.toFixed(4)}:${beta}`, size, data: normalised(values) };
}

const cropCache = new WeakMap<Psf, Map<number, Float64Array>>();

/** The central `size` x `size` of the stamp, not renormalised: the wings are left out, not moved inwards. */
export function cropPsf(psf: Psf, size: number): Float64Array {
  let bySize = cropCache.get(psf);
  if (bySize === undefined) cropCache.set(psf, (bySize = new Map()));
  let out = bySize.get(size);
  if (out === undefined) {
    const offset = (psf.size - size) / 2;
    out = new Float64Array(size * size);
    for (let j = 0; j < size; j++) for (let i = 0; i < size; i++) out[j * size + i] = psf.data[(j + offset) * psf.size + i + offset]!;
    bySize.set(size, out);
  }
  return out;
}

/** Fraction of the stamp's flux in its brightest pixel: 0.17-0.21 for the real VIS stamps. */
export function peakFraction(values: ArrayLike<number>): number {
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    sum += v;
    if (v > max) max = v;
  }
  return max / sum;
}

let defaultCache: Psf | undefined;

/** The PSF used where a cutout brings none: the mean of the three real Q1 VIS stamps. */
export function defaultVisPsf(): Psf {
  defaultCache ??= (() => {
    const stamps = q1Psfs();
    const size = stamps[0]!.size;
    const sum = new Float64Array(size * size);
    for (const stamp of stamps) for (let i = 0; i < sum.length; i++) sum[i]! += stamp.data[i]!;
    return psfFromStamp('q1:mean', size, sum);
  })();
  return defaultCache;
}

export const LANCZOS_A = 3;

/** The Lanczos-3 interpolation kernel. */
export function lanczos(t: number): number {
  if (t === 0) return 1;
  if (Math.abs(t) >= LANCZOS_A) return 0;
  return (LANCZOS_A * Math.sin(Math.PI * t) * Math.sin((Math.PI * t) / LANCZOS_A)) / (Math.PI * Math.PI * t * t);
}

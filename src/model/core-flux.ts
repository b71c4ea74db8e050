/**
 * Core fluxes the scores (src/detect) and the model-quality checks (quality.ts) share, here below
 * both, on the core geometry they stand on. The PSF-weighted flux is the amplitude
 * of the PSF fitted to the core pixels by least squares, F = sum(w x) / sum(w^2), with w the PSF's
 * central mask x mask pixels: the optimal linear estimate of a point source's flux on white noise.
 */

import type { PsfStamp } from '../ground/psf.js';
import { coreIndices, type CoreMask } from './geometry.js';

/** The PSF's pixels under the core mask, in core order, as the weights for `psfWeightedFlux`. */
export function psfCoreWeights(psf: PsfStamp, mask: CoreMask): Float64Array {
  if (mask.size > psf.size) throw new RangeError(`core of ${mask.size} px does not fit a ${psf.size} px PSF`);
  return Float64Array.from(coreIndices(psf.size, mask), (i) => psf.data[i]!);
}

/** Least-squares PSF amplitude of `core` (length weights.length), starting at `offset`. */
export function psfWeightedFlux(core: ArrayLike<number>, weights: ArrayLike<number>, offset = 0): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    num += w * core[offset + i]!;
    den += w * w;
  }
  return num / den;
}

export function coreSum(core: ArrayLike<number>, length: number, offset = 0): number {
  let sum = 0;
  for (let i = 0; i < length; i++) sum += core[offset + i]!;
  return sum;
}

/** The core pixels of a square crop centred at index side / 2 (the model's geometry), in core order. */
export function cropCore(crop: Float32Array, side: number, mask: CoreMask): Float32Array {
  return Float32Array.from(coreIndices(side, mask), (i) => crop[i]!);
}

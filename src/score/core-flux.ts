/**
 * Core fluxes the scores and the model-quality checks share. The PSF-weighted flux is the amplitude
 * of the PSF fitted to the core pixels by least squares, F = sum(w x) / sum(w^2), with w the PSF's
 * central mask x mask pixels: the optimal linear estimate of a point source's flux on white noise.
 */

export interface PsfStamp {
  /** Odd side length; the centre pixel is the PSF origin. */
  readonly size: number;
  /** Row-major, normalised to sum 1. */
  readonly data: ArrayLike<number>;
}

/** The PSF's central `mask` x `mask` pixels, row-major, as the weights for `psfWeightedFlux`. */
export function psfCoreWeights(psf: PsfStamp, mask: number): Float64Array {
  if (mask > psf.size || mask % 2 === 0) throw new RangeError(`core of ${mask} px does not fit a ${psf.size} px PSF`);
  const offset = (psf.size - mask) / 2;
  const weights = new Float64Array(mask * mask);
  for (let y = 0; y < mask; y++) for (let x = 0; x < mask; x++) weights[y * mask + x] = psf.data[(y + offset) * psf.size + x + offset]!;
  return weights;
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

/** The mask x mask core of a square crop, centred at index crop / 2 (the model's geometry). */
export function cropCore(crop: Float32Array, side: number, mask: number): Float32Array {
  const start = Math.floor(side / 2) - Math.floor(mask / 2);
  const core = new Float32Array(mask * mask);
  for (let y = 0; y < mask; y++) core.set(crop.subarray((start + y) * side + start, (start + y) * side + start + mask), y * mask);
  return core;
}

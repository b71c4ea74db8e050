/**
 * From the pixels around a source to what the model and the scores need: the core-centred crop (the
 * trainer's rule, src/model/preprocess.ts), the per-pixel noise, the observed core, the PSF weights
 * and the source's total flux, plus the flags that say how far to trust them. Pure: the same window
 * gives the same result wherever it came from (a cutout file, a tile, a training shard).
 */

import type { FlagName } from '../ground/flags.js';
import { coreIndices, type CoreMask } from '../model/geometry.js';
import type { PsfStamp } from '../ground/psf.js';
import { madSigma, median } from '../ground/stats.js';
import { MER_RMS_TO_SIGMA } from '../ground/vis.js';
import { centreOnCore } from '../model/preprocess.js';
import { psfCoreWeights } from '../model/core-flux.js';

/** Search box for the brightest pixel, as in the paper's code. */
export const CORE_SEARCH = 9;

export interface SourceWindow {
  /** Row-major pixels around the source; the nominal centre is (floor(width / 2), floor(height / 2)). */
  readonly pixels: Float32Array;
  readonly width: number;
  readonly height: number;
  /** The RMS map over the same window, if there is one. */
  readonly rms?: Float32Array;
  /** RMS-map level to per-pixel sigma; default MER_RMS_TO_SIGMA. */
  readonly rmsToSigma?: number;
  /** A known per-pixel noise sigma (simulations): overrides the RMS map and the estimate. */
  readonly sigma?: number;
  readonly psf: PsfStamp;
}

export interface PreparedSource {
  /** crop x crop pixels, the core at index crop / 2; NaN replaced (flagged). */
  readonly crop: Float32Array;
  readonly sigma: number;
  /** Brightest pixel, 0-based window coordinates. */
  readonly coreX: number;
  readonly coreY: number;
  readonly observedCore: Float32Array;
  readonly psfWeights: Float64Array;
  /** The whole PSF stamp, for fitting a point source beyond the core (joint-fit.ts). */
  readonly psf: PsfStamp;
  /** Flux inside the Kron-like aperture around the core, image units; NaN when not measurable. */
  readonly totalFlux: number;
  readonly flags: readonly FlagName[];
  /** False when the core itself is unusable (NaN or zero pixels, no crop): no scores, only flags. */
  readonly scorable: boolean;
}

/**
 * Robust per-pixel sigma of an image with sources on it: 1.4826 x MAD about the median, with pixels
 * beyond 3 sigma clipped and the estimate repeated, so galaxy light does not inflate it.
 */
export function robustSigma(pixels: ArrayLike<number>): number {
  let values = Array.from(pixels).filter((v) => Number.isFinite(v) && v !== 0);
  let sigma = Number.NaN;
  for (let pass = 0; pass < 5 && values.length > 8; pass++) {
    const centre = median(values);
    sigma = madSigma(values);
    const kept = values.filter((v) => Math.abs(v - centre) <= 3 * sigma);
    if (kept.length === values.length) break;
    values = kept;
  }
  return sigma;
}

/** Inner radius of the first-moment sum and the Kron factor (SExtractor's 2.5, ~94% of a Sersic's flux). */
const KRON_MOMENT_RADIUS = 12;
const KRON_FACTOR = 2.5;
const KRON_MIN_RADIUS = 3.5;

/**
 * Flux in a circular Kron aperture centred on the core: radius 2.5 r1, r1 the first moment of the
 * positive light within 12 px, at least 3.5 px, at most the crop's half-size.
 */
export function kronFlux(crop: Float32Array, side: number): number {
  const centre = Math.floor(side / 2);
  const maxRadius = centre - 1;
  const radii = radiiFromCentre(side);
  let weighted = 0;
  let sum = 0;
  for (let i = 0; i < radii.length; i++) {
    const r = radii[i]!;
    const v = crop[i]!;
    if (r <= KRON_MOMENT_RADIUS && v > 0) {
      weighted += r * v;
      sum += v;
    }
  }
  const radius = Math.min(maxRadius, Math.max(KRON_MIN_RADIUS, sum > 0 ? (KRON_FACTOR * weighted) / sum : KRON_MIN_RADIUS));
  let flux = 0;
  for (let i = 0; i < radii.length; i++) if (radii[i]! <= radius) flux += crop[i]!;
  return flux;
}

const radiusTables = new Map<number, Float64Array>();

/** Each pixel's distance from the centre pixel of a side x side crop, row-major; computed once per side. */
function radiiFromCentre(side: number): Float64Array {
  let radii = radiusTables.get(side);
  if (radii === undefined) {
    const centre = Math.floor(side / 2);
    radii = Float64Array.from({ length: side * side }, (_, i) => Math.hypot((i % side) - centre, Math.floor(i / side) - centre));
    radiusTables.set(side, radii);
  }
  return radii;
}

function noiseSigma(window: SourceWindow, crop: Float32Array, left: number, top: number, side: number): { sigma: number; flags: FlagName[] } {
  if (window.sigma !== undefined) return { sigma: window.sigma, flags: [] };
  if (window.rms !== undefined) {
    const levels = new Float64Array(side * side);
    let count = 0;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const v = window.rms[(top + y) * window.width + left + x]!;
        if (Number.isFinite(v) && v > 0) levels[count++] = v;
      }
    }
    // The median RMS over the crop is the sky's: sources' shot noise raises only a minority of pixels.
    const level = median(levels.subarray(0, count));
    if (Number.isFinite(level)) return { sigma: level * (window.rmsToSigma ?? MER_RMS_TO_SIGMA), flags: [] };
  }
  return { sigma: robustSigma(crop), flags: ['no_rms_map'] };
}

export function prepareSource(window: SourceWindow, crop: number, mask: CoreMask): PreparedSource {
  const flags: FlagName[] = [];
  const found = centreOnCore(window.pixels, window.width, window.height, { crop, search: CORE_SEARCH });
  const psfWeights = psfCoreWeights(window.psf, mask);
  if (found === undefined) {
    return { crop: new Float32Array(crop * crop), sigma: Number.NaN, coreX: Number.NaN, coreY: Number.NaN, observedCore: new Float32Array(psfWeights.length), psfWeights, psf: window.psf, totalFlux: Number.NaN, flags: ['core_near_edge'], scorable: false };
  }
  const pixels = found.pixels;
  const core = coreIndices(crop, mask);
  const observedCore = Float32Array.from(core, (i) => pixels[i]!);
  if (observedCore.some((v) => Number.isNaN(v))) flags.push('nan_pixels_in_core');
  if (observedCore.some((v) => v === 0)) flags.push('zero_pixels_in_core');
  let blankPixels = 0;
  for (let i = 0; i < pixels.length; i++) {
    if (!Number.isFinite(pixels[i]!)) {
      // The encoder cannot take NaN; an empty pixel reads as blank sky.
      pixels[i] = 0;
      blankPixels++;
    }
  }
  // Blank pixels in the core are flagged above; any beyond them lie outside it.
  const blankInCore = observedCore.reduce((n, v) => (Number.isFinite(v) ? n : n + 1), 0);
  const blank = blankPixels > blankInCore;
  if (blank) flags.push('saturated_or_blank');
  const noise = noiseSigma(window, pixels, found.left, found.top, crop);
  flags.push(...noise.flags);
  const scorable = !flags.includes('nan_pixels_in_core') && !flags.includes('zero_pixels_in_core') && noise.sigma > 0;
  return {
    crop: pixels,
    sigma: noise.sigma,
    coreX: found.coreX,
    coreY: found.coreY,
    observedCore,
    psfWeights,
    psf: window.psf,
    totalFlux: kronFlux(pixels, crop),
    flags,
    scorable,
  };
}

/**
 * A morphology statistic owned by the project, for comparison and combination with the generative
 * score: SPREAD_MODEL (Desai et al. 2012; Source Extractor), the normalised difference between how
 * well the local PSF and a slightly extended model (the PSF convolved with a circular exponential of
 * scale FWHM/16) describe the source,
 *
 *     spread = (G.x) / (P.x) - (G.P) / (P.P)
 *
 * over the pixels within `radius` of the core, with P the PSF centred where the light peaks and G the
 * extended model. A point source gives ~0, a resolved galaxy > 0; an AGN lowers a host's spread.
 * Uniform weights: the stamps are sky-limited where the statistic matters.
 */

import type { PsfStamp } from '../ground/psf.js';

/** Scale length of the extended model in units of the PSF's FWHM, as Source Extractor fixes it. */
const SCALE_PER_FWHM = 1 / 16;

/**
 * FWHM in pixels of a PSF stamp: where the mean of the four on-axis pixels at each radius falls to
 * half the peak, interpolated linearly (an undersampled PSF has too few pixels above half its peak for
 * an area-based width).
 */
export function psfFwhm(psf: PsfStamp): number {
  const n = psf.size;
  const c = (n - 1) / 2;
  const at = (x: number, y: number) => psf.data[y * n + x]!;
  const peak = at(c, c);
  let inner = peak;
  for (let r = 1; r <= c; r++) {
    const outer = (at(c + r, c) + at(c - r, c) + at(c, c + r) + at(c, c - r)) / 4;
    if (outer <= peak / 2) return 2 * (r - 1 + (inner - peak / 2) / (inner - outer));
    inner = outer;
  }
  return n;
}

/**
 * The exponential's blur as a separable 3-tap kernel with the same second moment (3 h^2 per axis):
 * at h ~ 0.1 px the exponential lies almost wholly inside one pixel, so integrating it over pixels
 * would return the PSF unchanged; what SPREAD_MODEL needs of it is the broadening.
 */
function broadeningKernel(h: number): Float64Array {
  const side = (3 * h * h) / 2;
  const taps = [side, 1 - 2 * side, side];
  return Float64Array.from({ length: 9 }, (_, i) => taps[i % 3]! * taps[Math.floor(i / 3)]!);
}

/**
 * The radius (px) of cards calibrated before the card recorded one (`significance.morphology_radius`):
 * Source Extractor's footprint-wide fit, roughly.
 */
export const UNRECORDED_SPREAD_RADIUS = 5;

/** SPREAD_MODEL of the source at the centre of `crop` (side x side) over the pixels within `radius`, `psf` centred on its light. */
export function spreadModel(crop: ArrayLike<number>, side: number, psf: PsfStamp, radius = UNRECORDED_SPREAD_RADIUS): number {
  const kernel = broadeningKernel(psfFwhm(psf) * SCALE_PER_FWHM);
  const n = psf.size;
  const half = (n - 1) / 2;
  const centre = Math.floor(side / 2);
  const at = (x: number, y: number) => (x >= 0 && y >= 0 && x < n && y < n ? psf.data[y * n + x]! : 0);
  let gx = 0;
  let px = 0;
  let gp = 0;
  let pp = 0;
  const reach = Math.floor(radius);
  for (let dy = -reach; dy <= reach; dy++) {
    for (let dx = -reach; dx <= reach; dx++) {
      if (dx * dx + dy * dy > radius * radius) continue;
      const x = crop[(centre + dy) * side + centre + dx]!;
      const p = at(half + dx, half + dy);
      let g = 0;
      for (let b = 0; b < 3; b++) for (let a = 0; a < 3; a++) g += kernel[b * 3 + a]! * at(half + dx + 1 - a, half + dy + 1 - b);
      gx += g * x;
      px += p * x;
      gp += g * p;
      pp += p * p;
    }
  }
  return gx / px - gp / pp;
}

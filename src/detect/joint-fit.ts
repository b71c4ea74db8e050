/**
 * The point source fitted jointly with its host. A point source's PSF wings reach beyond the masked
 * core (14% of a VIS PSF's light falls outside 5x5), so a generator that sees them takes them for a
 * compact host and regenerates part of the point source. The fit removes them: with the PSF amplitude
 * a subtracted from the whole crop, the host is regenerated from the cleaned context, and a is solved
 * so that it equals the point-source flux measured against that regeneration,
 *
 *     h(a) = ps_flux(crop - a PSF) - a = 0,
 *
 * by one secant step from a = 0 and a = ps_flux(crop): exact when the regeneration responds linearly
 * to the subtracted wings, which it does to within the samples' spread over the range that matters.
 */

import { lanczos, type PsfStamp } from '../ground/psf.js';

/**
 * Where the light peaks within the brightest pixel: a parabola through the logarithms of the peak and
 * its two neighbours on each axis (exact for a Gaussian core), in pixels from the centre of `crop`,
 * each within +-0.5. A point source lies anywhere in its pixel, and an undersampled VIS PSF subtracted
 * half a pixel off leaves residuals as large as a faint host's core.
 */
export function subpixelPeak(crop: Float32Array, side: number): { dx: number; dy: number } {
  const centre = Math.floor(side / 2);
  const at = (x: number, y: number) => crop[(centre + y) * side + centre + x]!;
  const vertex = (minus: number, peak: number, plus: number): number => {
    if (!(minus > 0 && peak > 0 && plus > 0)) return 0;
    const [a, b, c] = [Math.log(minus), Math.log(peak), Math.log(plus)];
    const curvature = a - 2 * b + c;
    return curvature < 0 ? Math.min(0.5, Math.max(-0.5, (a - c) / (2 * curvature))) : 0;
  };
  return { dx: vertex(at(-1, 0), at(0, 0), at(1, 0)), dy: vertex(at(0, -1), at(0, 0), at(0, 1)) };
}

/** Lanczos-3 weights for taps -3..3 of a shift by `shift` pixels, normalised so that flux is kept. */
function lanczosTaps(shift: number): Float64Array {
  // Output pixel i takes input pixel i + t - 3 with weight L(t - 3 + shift).
  const weights = Float64Array.from({ length: 7 }, (_, t) => lanczos(t - 3 + shift));
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / sum);
}

/** `data` (n x n, row-major) filtered along x (`stride` 1) or y (`stride` n) with 7 taps centred on each pixel. */
function filterAxis(data: ArrayLike<number>, n: number, taps: Float64Array, stride: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const along = stride === 1 ? i : j;
      let sum = 0;
      for (let t = 0; t < 7; t++) {
        const k = along + t - 3;
        if (k >= 0 && k < n) sum += taps[t]! * data[j * n + i + (t - 3) * stride]!;
      }
      out[j * n + i] = sum;
    }
  }
  return out;
}

/** The PSF stamp moved by (dx, dy) pixels with the Lanczos-3 kernel (weights normalised per axis, so flux is kept). */
export function shiftPsf(psf: PsfStamp, dx: number, dy: number): PsfStamp {
  if (dx === 0 && dy === 0) return psf;
  const n = psf.size;
  return { size: n, data: filterAxis(filterAxis(psf.data, n, lanczosTaps(dx), 1), n, lanczosTaps(dy), n) };
}

/** `crop` (side x side, core at side / 2) minus `amplitude` times the PSF centred on the core. */
export function subtractPointSource(crop: Float32Array, side: number, psf: PsfStamp, amplitude: number): Float32Array {
  const out = Float32Array.from(crop);
  if (amplitude === 0) return out;
  const centre = Math.floor(side / 2);
  const half = (psf.size - 1) / 2;
  for (let j = 0; j < psf.size; j++) {
    const y = centre - half + j;
    if (y < 0 || y >= side) continue;
    for (let i = 0; i < psf.size; i++) {
      const x = centre - half + i;
      if (x < 0 || x >= side) continue;
      out[y * side + x]! -= amplitude * psf.data[j * psf.size + i]!;
    }
  }
  return out;
}

/** The point source the joint fit subtracted: `amplitude` times the PSF moved by (dx, dy) pixels to the sub-pixel peak. */
export interface FittedPointSource {
  readonly amplitude: number;
  readonly dx: number;
  readonly dy: number;
}

/**
 * What the generator regenerated the host from: `crop` less the fitted point source (a copy of `crop`
 * where the amplitude is 0). The inspection panel shows it as the model's input.
 */
export function contextWithoutPointSource(crop: Float32Array, side: number, psf: PsfStamp, fit: FittedPointSource): Float32Array {
  return subtractPointSource(crop, side, shiftPsf(psf, fit.dx, fit.dy), fit.amplitude);
}

/**
 * The secant step from h(0) = flux0 (ps_flux with nothing subtracted, which is also the first trial
 * amplitude) and h(flux0) = flux1 - flux0, clamped to [0, ceiling]: a point source adds light, and
 * cannot be brighter than the PSF amplitude of the observed core itself (`ceiling`).
 */
export function secantAmplitude(flux0: number, flux1: number, ceiling: number): number {
  if (!(flux0 > 0)) return 0;
  const denominator = 2 * flux0 - flux1;
  // A regeneration that drops by as much as the subtracted wings (or more) has no fixed point below the ceiling.
  const step = denominator > 0 ? (flux0 * flux0) / denominator : ceiling;
  return Math.min(Math.max(step, 0), Math.max(ceiling, 0));
}

/**
 * The door every source passes before it is scored: values no scoring can survive are caught here,
 * flagged and made harmless, so one bad pixel, PSF or noise map costs its own row's trust and never
 * the run or another source's scores. Clean inputs come out as the same object, untouched.
 */

import type { FlagName } from '../ground/flags.js';
import type { CutoutSource } from './from-files.js';

/**
 * No sky pixel reaches this magnitude in image units (AB -0.4 in one 0.1" pixel at MAGZERO 24.6, and no
 * noise is that negative): such values are write errors or fill, and one of them makes the
 * regenerations and the covariance meaningless.
 */
export const PIXEL_LIMIT = 1e10;

/** Why a PSF stamp cannot be used (it must be odd, square, finite, with a positive sum), or undefined. */
export function psfProblem(width: number, height: number, values: ArrayLike<number>): string | undefined {
  if (width !== height || width % 2 !== 1 || values.length !== width * height) return `PSF stamp is ${width}x${height}; an odd square stamp centred on its middle pixel is expected`;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) return `PSF stamp has a non-finite pixel (${values[i]}) at index ${i}`;
    sum += values[i]!;
  }
  return sum > 0 ? undefined : `PSF stamp sums to ${sum}; a PSF must have a positive total`;
}

/**
 * `cutout` ready for scoring with a core of `coreSize` pixels: unphysical pixels (infinite, or beyond
 * PIXEL_LIMIT) blanked (NaN) and flagged, a PSF smaller than the core dropped for the default
 * (flagged bad_psf), RMS values that are not finite and positive where the image has data flagged
 * (the noise level leaves them out).
 */
export function validateCutout(cutout: CutoutSource, coreSize: number): CutoutSource {
  const flags: FlagName[] = [];
  let pixels = cutout.pixels;
  for (let i = 0; i < pixels.length; i++) {
    if (Math.abs(pixels[i]!) >= PIXEL_LIMIT) {
      if (pixels === cutout.pixels) {
        pixels = pixels.slice();
        flags.push('unphysical_pixels');
      }
      pixels[i] = Number.NaN;
    }
  }
  const rms = cutout.rms;
  if (rms !== undefined) {
    for (let i = 0; i < rms.length; i++) {
      const v = pixels[i]!;
      // Blank or zero-filled image pixels are uncovered sky, whose RMS is legitimately missing.
      if (!(rms[i]! > 0 && rms[i]! < Infinity) && v === v && v !== 0) {
        flags.push('bad_rms_map');
        break;
      }
    }
  }
  const psf = cutout.psf !== undefined && cutout.psf.size < coreSize ? undefined : cutout.psf;
  if (psf !== cutout.psf) flags.push('bad_psf');
  return flags.length === 0 ? cutout : { ...cutout, pixels, psf, flags: [...cutout.flags, ...flags] };
}

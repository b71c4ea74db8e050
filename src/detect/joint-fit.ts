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

/**
 * How a PSF stamp, known at pixel centres only, is moved between them. An undersampled VIS ePSF does not
 * fix its own shape at a sub-pixel offset: Lanczos-3 (the simulator's kernel and the usual resampling of
 * mosaics) and band-limited (Fourier, sinc) interpolation differ by 3-8% of the core at 0.2-0.4 px, which
 * for a bright point source is many times the noise.
 */
export type PsfInterpolant = 'lanczos3' | 'sinc';
export const PSF_INTERPOLANTS: readonly PsfInterpolant[] = ['lanczos3', 'sinc'];

/**
 * `values` (n samples) moved by `shift` samples with the band-limited interpolant: the discrete Fourier
 * shift of the row zero-padded to twice its length, so the far wing does not wrap onto the other side
 * (what the shift carries beyond the stamp's edge is lost, as with Lanczos-3: 0.03% of a Q1 stamp).
 */
function fourierShiftAxis(values: Float64Array, shift: number): Float64Array {
  const n = values.length;
  const m = 2 * n;
  const cos = Float64Array.from({ length: m }, (_, j) => Math.cos((2 * Math.PI * j) / m));
  const sin = Float64Array.from({ length: m }, (_, j) => Math.sin((2 * Math.PI * j) / m));
  const out = new Float64Array(n);
  for (let k = 0; k <= m / 2; k++) {
    let re = 0;
    let im = 0;
    for (let x = 0; x < n; x++) {
      re += values[x]! * cos[(k * x) % m]!;
      im -= values[x]! * sin[(k * x) % m]!;
    }
    // A real row: frequencies k and m - k are conjugate, so every k strictly between 0 and m / 2
    // counts twice. The Nyquist term is split evenly between +-m / 2, which leaves its cosine.
    const weight = k === 0 || k === m / 2 ? 1 : 2;
    const phase = (-2 * Math.PI * k * shift) / m;
    const shiftedRe = re * Math.cos(phase) - im * Math.sin(phase);
    const shiftedIm = re * Math.sin(phase) + im * Math.cos(phase);
    for (let x = 0; x < n; x++) {
      const wave = k === m / 2 ? re * Math.cos(Math.PI * (x - shift)) : shiftedRe * cos[(k * x) % m]! - shiftedIm * sin[(k * x) % m]!;
      out[x] += (weight * wave) / m;
    }
  }
  return out;
}

function fourierShift(psf: PsfStamp, dx: number, dy: number): Float64Array {
  const n = psf.size;
  const rows = new Float64Array(n * n);
  const line = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) line[i] = psf.data[j * n + i]!;
    rows.set(fourierShiftAxis(line, dx), j * n);
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) line[j] = rows[j * n + i]!;
    const column = fourierShiftAxis(line, dy);
    for (let j = 0; j < n; j++) out[j * n + i] = column[j]!;
  }
  return out;
}

/** The PSF stamp moved by (dx, dy) pixels (Lanczos-3 weights normalised per axis, so flux is kept; the Fourier shift keeps it to 0.03%). */
export function shiftPsf(psf: PsfStamp, dx: number, dy: number, interpolant: PsfInterpolant = 'lanczos3'): PsfStamp {
  if (dx === 0 && dy === 0) return psf;
  const n = psf.size;
  if (interpolant === 'sinc') return { size: n, data: fourierShift(psf, dx, dy) };
  return { size: n, data: filterAxis(filterAxis(psf.data, n, lanczosTaps(dx), 1), n, lanczosTaps(dy), n) };
}

/**
 * The best a * psf + b over the `half`-pixel box about the centre of `crop`: its squared residual, and
 * the share of the box's light that a * psf holds.
 */
function coreFit(crop: Float32Array, side: number, psf: PsfStamp, half: number): { misfit: number; pointShare: number } {
  const centre = Math.floor(side / 2);
  const psfCentre = (psf.size - 1) / 2;
  let n = 0;
  let sp = 0;
  let so = 0;
  let spp = 0;
  let spo = 0;
  let soo = 0;
  for (let y = -half; y <= half; y++) {
    for (let x = -half; x <= half; x++) {
      const p = psf.data[(psfCentre + y) * psf.size + psfCentre + x]!;
      const o = crop[(centre + y) * side + centre + x]!;
      n++;
      sp += p;
      so += o;
      spp += p * p;
      spo += p * o;
      soo += o * o;
    }
  }
  const det = n * spp - sp * sp;
  if (!(det > 0) || !(so > 0)) return { misfit: soo, pointShare: 0 };
  const a = (n * spo - sp * so) / det;
  const b = (so - a * sp) / n;
  return { misfit: soo - a * spo - b * so, pointShare: (a * sp) / so };
}

/** Below this share of the core's light in the fitted PSF, the interpolant is neither knowable nor of consequence. */
const POINT_DOMINATED = 0.5;

/** A PSF placed at a source's core: shifted by (dx, dy) with `interpolant`. */
export interface PlacedPsf {
  readonly psf: PsfStamp;
  readonly dx: number;
  readonly dy: number;
  readonly interpolant: PsfInterpolant;
}

/**
 * The PSF at the core's sub-pixel peak. Where a PSF (plus a constant) holds most of the light of the
 * central `half`-pixel box (the mask's), the interpolant whose shape fits it best: how the point
 * source was actually sampled, which the pipeline cannot know (a mosaic's or a simulator's Lanczos, or
 * band-limited interpolation). Elsewhere Lanczos-3: under a host the core does not tell them apart, and
 * letting every galaxy choose lets a nucleus of a few per cent fit a little better than it should.
 */
export function placePsf(crop: Float32Array, side: number, psf: PsfStamp, half: number): PlacedPsf {
  const { dx, dy } = subpixelPeak(crop, side);
  const lanczos: PlacedPsf = { psf: shiftPsf(psf, dx, dy), dx, dy, interpolant: 'lanczos3' };
  const fit = coreFit(crop, side, lanczos.psf, half);
  if (!(fit.pointShare >= POINT_DOMINATED)) return lanczos;
  let best = lanczos;
  let bestMisfit = fit.misfit;
  for (const interpolant of PSF_INTERPOLANTS.filter((i) => i !== 'lanczos3')) {
    const shifted = shiftPsf(psf, dx, dy, interpolant);
    const { misfit } = coreFit(crop, side, shifted, half);
    if (misfit < bestMisfit) {
      best = { psf: shifted, dx, dy, interpolant };
      bestMisfit = misfit;
    }
  }
  return best;
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

/** The point source the joint fit subtracted: `amplitude` times the PSF moved by (dx, dy) pixels to the sub-pixel peak with `interpolant`. */
export interface FittedPointSource {
  readonly amplitude: number;
  readonly dx: number;
  readonly dy: number;
  readonly interpolant: PsfInterpolant;
}

/**
 * What the generator regenerated the host from: `crop` less the fitted point source (a copy of `crop`
 * where the amplitude is 0). The inspection panel shows it as the model's input.
 */
export function contextWithoutPointSource(crop: Float32Array, side: number, psf: PsfStamp, fit: FittedPointSource): Float32Array {
  return subtractPointSource(crop, side, shiftPsf(psf, fit.dx, fit.dy, fit.interpolant), fit.amplitude);
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

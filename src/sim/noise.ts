/**
 * The noise of a MER VIS mosaic, as measured on the real Q1 cutouts (docs/simulator.md):
 *
 * - the RMS map reports the sky level σ (0.0033-0.0042), raised where fewer exposures cover the
 *   pixel: rotated rectangular coverage patches (dither and gap edges) and short tracks where an
 *   exposure was rejected (cosmic rays), plus the sources' own shot noise, variance S/gain;
 * - the image noise is white noise of that RMS, scaled, then correlated by the mosaic's resampling,
 *   modelled as a separable 3-tap kernel [t, 1, t]/(1+2t) per axis: lag-1 correlation
 *   ρ = 2t/(1+2t²), lag-2 t²/(1+2t²) and diagonal ρx·ρy, as the real blank sky shows;
 * - the scale puts blank-sky MAD at the measured fraction (~0.63) of the RMS map.
 *
 * Everything is drawn from counter-based fields in frame coordinates, so any window of the same frame
 * gets the same pixels.
 */

import { Rng, fillNormals, subKey, type Key } from '../random.js';

// Module-level aliases: under Jest's vm context every lookup of the global Math costs ~0.4 us,
// which made the simulator 30x slower in tests than in production.
const { abs, ceil, cos, floor, hypot, log, max, min, pow, sin, sqrt } = Math;

export interface NoiseModel {
  /** RMS-map sky levels are drawn uniformly in this range (image units). */
  readonly rmsRange: readonly [number, number];
  /** Blank-sky per-pixel sigma over the RMS-map level. */
  readonly madToRms: number;
  /** Kernel tap t per axis. */
  readonly taps: { readonly x: number; readonly y: number };
  /** Shot noise: the RMS map's variance grows by flux/gain (image units). */
  readonly gain: number;
  /** Background pedestal: normal with this sigma (image units), one value per cutout or tile. */
  readonly backgroundSigma: number;
  /** Rejected-exposure tracks: covered fraction of pixels and the RMS factor inside them. */
  readonly holes: { readonly fraction: number; readonly factor: number };
  /** Lower-coverage patches: mean number per 128x128 px cell and the range of their RMS factors. */
  readonly patches: { readonly perCell: number; readonly factorRange: readonly [number, number] };
}

/** Tap t of [t, 1, t] giving lag-1 correlation rho: the root of 2 rho t^2 - 2t + rho = 0 below 1. */
export function tapForCorrelation(rho: number): number {
  if (rho <= 0) return 0;
  return (1 - sqrt(1 - 2 * rho * rho)) / (2 * rho);
}

/** Sum of squares of the normalised kernel [t, 1, t]/(1+2t): the variance it leaves of white noise. */
function kernelPower(t: number): number {
  return (1 + 2 * t * t) / ((1 + 2 * t) * (1 + 2 * t));
}

const TRACK_CELL = 32;
const TRACK_HALF_WIDTH = 0.9;
const TRACK_MEAN_LENGTH = 5;
const TRACK_MAX_LENGTH = 24;
const PATCH_CELL = 128;
const PATCH_SIDES: readonly [number, number] = [40, 320];

interface Track {
  readonly x: number;
  readonly y: number;
  readonly dx: number;
  readonly dy: number;
  readonly length: number;
}

/** Mean track footprint in pixels, from the segment and its half-width. */
const TRACK_AREA = 2 * TRACK_HALF_WIDTH * TRACK_MEAN_LENGTH + Math.PI * TRACK_HALF_WIDTH * TRACK_HALF_WIDTH;

function tracksIn(model: NoiseModel, key: Key, cx: number, cy: number): Track[] {
  const rng = new Rng(subKey(key, 1, cx, cy));
  const perPixel = -log(1 - model.holes.fraction) / TRACK_AREA;
  const count = rng.poisson(perPixel * TRACK_CELL * TRACK_CELL);
  const out: Track[] = [];
  for (let k = 0; k < count; k++) {
    const angle = rng.between(0, Math.PI);
    out.push({
      x: (cx + rng.uniform()) * TRACK_CELL,
      y: (cy + rng.uniform()) * TRACK_CELL,
      dx: cos(angle),
      dy: sin(angle),
      length: min(TRACK_MAX_LENGTH, -TRACK_MEAN_LENGTH * log(1 - rng.uniform())),
    });
  }
  return out;
}

interface Patch {
  readonly x: number;
  readonly y: number;
  readonly cos: number;
  readonly sin: number;
  readonly halfA: number;
  readonly halfB: number;
  readonly factor: number;
}

function patchesIn(model: NoiseModel, key: Key, cx: number, cy: number): Patch[] {
  const rng = new Rng(subKey(key, 2, cx, cy));
  const count = rng.poisson(model.patches.perCell);
  const out: Patch[] = [];
  for (let k = 0; k < count; k++) {
    const angle = rng.between(0, Math.PI);
    out.push({
      x: (cx + rng.uniform()) * PATCH_CELL,
      y: (cy + rng.uniform()) * PATCH_CELL,
      cos: cos(angle),
      sin: sin(angle),
      halfA: 0.5 * rng.between(...PATCH_SIDES),
      halfB: 0.5 * rng.between(...PATCH_SIDES),
      factor: rng.between(...model.patches.factorRange),
    });
  }
  return out;
}

/**
 * Coverage factor (multiplying the sky RMS) for frame pixels [x0, x0+width) x [y0, y0+height): lower
 * coverage patches times rejected-exposure tracks.
 */
export function coverage(model: NoiseModel, key: Key, x0: number, y0: number, width: number, height: number): Float64Array {
  const out = new Float64Array(width * height).fill(1);
  const patchReach = ceil((PATCH_SIDES[1] * Math.SQRT1_2) / PATCH_CELL);
  for (let cy = floor(y0 / PATCH_CELL) - patchReach; cy <= floor((y0 + height) / PATCH_CELL) + patchReach; cy++) {
    for (let cx = floor(x0 / PATCH_CELL) - patchReach; cx <= floor((x0 + width) / PATCH_CELL) + patchReach; cx++) {
      for (const p of patchesIn(model, key, cx, cy)) {
        const r = hypot(p.halfA, p.halfB);
        for (let j = max(0, ceil(p.y - r - y0)); j < min(height, p.y + r - y0 + 1); j++) {
          for (let i = max(0, ceil(p.x - r - x0)); i < min(width, p.x + r - x0 + 1); i++) {
            const dx = x0 + i - p.x;
            const dy = y0 + j - p.y;
            if (abs(dx * p.cos + dy * p.sin) <= p.halfA && abs(dy * p.cos - dx * p.sin) <= p.halfB) out[j * width + i]! *= p.factor;
          }
        }
      }
    }
  }
  const counts = new Uint8Array(width * height);
  const trackReach = ceil(TRACK_MAX_LENGTH / TRACK_CELL);
  for (let cy = floor(y0 / TRACK_CELL) - trackReach; cy <= floor((y0 + height) / TRACK_CELL) + trackReach; cy++) {
    for (let cx = floor(x0 / TRACK_CELL) - trackReach; cx <= floor((x0 + width) / TRACK_CELL) + trackReach; cx++) {
      for (const t of tracksIn(model, key, cx, cy)) {
        const xa = min(t.x, t.x + t.dx * t.length) - TRACK_HALF_WIDTH;
        const xb = max(t.x, t.x + t.dx * t.length) + TRACK_HALF_WIDTH;
        const ya = min(t.y, t.y + t.dy * t.length) - TRACK_HALF_WIDTH;
        const yb = max(t.y, t.y + t.dy * t.length) + TRACK_HALF_WIDTH;
        for (let j = max(0, ceil(ya - y0)); j <= min(height - 1, floor(yb - y0)); j++) {
          for (let i = max(0, ceil(xa - x0)); i <= min(width - 1, floor(xb - x0)); i++) {
            const px = x0 + i - t.x;
            const py = y0 + j - t.y;
            const along = min(t.length, max(0, px * t.dx + py * t.dy));
            const ex = px - along * t.dx;
            const ey = py - along * t.dy;
            if (ex * ex + ey * ey <= TRACK_HALF_WIDTH * TRACK_HALF_WIDTH) counts[j * width + i]!++;
          }
        }
      }
    }
  }
  for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) out[i]! *= pow(model.holes.factor, min(2, counts[i]!));
  return out;
}

export interface NoisyImage {
  readonly image: Float32Array;
  readonly rms: Float32Array;
}

/**
 * Adds noise to `signal`, which covers the output window grown by one pixel on each side (the kernel's
 * reach): `signal` is (width+2) x (height+2), the window's frame origin is (x0, y0). Returns the image
 * (signal + background + noise) and the RMS map over the window.
 */
export function addNoise(
  model: NoiseModel,
  keys: { readonly noise: Key; readonly coverage: Key },
  level: number,
  background: number,
  signal: Float64Array,
  x0: number,
  y0: number,
  width: number,
  height: number,
): NoisyImage {
  const gw = width + 2;
  const gh = height + 2;
  const cover = coverage(model, keys.coverage, x0 - 1, y0 - 1, gw, gh);
  const white = new Float64Array(gw * gh);
  fillNormals(white, keys.noise, x0 - 1, y0 - 1, gw, gh);
  const scale = model.madToRms / sqrt(kernelPower(model.taps.x) * kernelPower(model.taps.y));
  const invGain = 1 / model.gain;
  const rmsGrown = new Float64Array(gw * gh);
  for (let i = 0; i < white.length; i++) {
    const sky = level * cover[i]!;
    const r = sqrt(sky * sky + max(0, signal[i]!) * invGain);
    rmsGrown[i] = r;
    white[i]! *= scale * r;
  }
  const tx = model.taps.x;
  const ty = model.taps.y;
  const nx = 1 / (1 + 2 * tx);
  const ny = 1 / (1 + 2 * ty);
  // Along x on all grown rows, then along y into the window.
  const rowPass = new Float64Array(gw * gh);
  for (let j = 0; j < gh; j++) {
    const row = j * gw;
    for (let i = 1; i < gw - 1; i++) rowPass[row + i] = nx * (white[row + i]! + tx * (white[row + i - 1]! + white[row + i + 1]!));
  }
  const image = new Float32Array(width * height);
  const rms = new Float32Array(width * height);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const g = (j + 1) * gw + i + 1;
      const noise = ny * (rowPass[g]! + ty * (rowPass[g - gw]! + rowPass[g + gw]!));
      image[j * width + i] = signal[g]! + background + noise;
      rms[j * width + i] = rmsGrown[g]!;
    }
  }
  return { image, rms };
}

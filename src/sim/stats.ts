/**
 * Image statistics that describe what a VIS cutout looks like: blank-sky noise and its correlation,
 * the RMS map's level, holes and shot-noise term, and the sizes and concentrations of the sources.
 * The same functions measure the real Q1 cutouts (to calibrate the simulator) and simulated ones (to
 * check it), so any bias of an estimator cancels in the comparison.
 */

import { madSigma, median } from '../ground/stats.js';
import { MAGZERO } from '../ground/vis.js';

// Module-level aliases: under Jest's vm context every lookup of the global Math costs ~0.4 us,
// which made the simulator 30x slower in tests than in production.
const { floor, hypot, log10, max, min } = Math;

/** A single-band image, row-major, x fastest. */
export interface Plane {
  readonly width: number;
  readonly height: number;
  readonly data: ArrayLike<number>;
}

/** Pixels that hold data: not exactly 0 in the image (tile edges) and with a finite, sane RMS. */
export function validMask(image: Plane, rms?: Plane): Uint8Array {
  const mask = new Uint8Array(image.width * image.height);
  for (let i = 0; i < mask.length; i++) {
    const v = image.data[i]!;
    const r = rms === undefined ? 1 : rms.data[i]!;
    mask[i] = Number.isFinite(v) && v !== 0 && Number.isFinite(r) && r > 0 && r < 1e3 ? 1 : 0;
  }
  return mask;
}

function select(image: Plane, mask: Uint8Array): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i]) out.push(image.data[i]!);
  return Float64Array.from(out);
}

/** Grows `mask` (1 = masked) by `radius` pixels in city-block distance. */
function dilate(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  let current = mask;
  for (let step = 0; step < radius; step++) {
    const next = Uint8Array.from(current);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (!current[y * width + x]) continue;
        if (x > 0) next[y * width + x - 1] = 1;
        if (x + 1 < width) next[y * width + x + 1] = 1;
        if (y > 0) next[(y - 1) * width + x] = 1;
        if (y + 1 < height) next[(y + 1) * width + x] = 1;
      }
    }
    current = next;
  }
  return current;
}

export interface SkyStats {
  /** Median of the blank sky (background pedestal). */
  readonly median: number;
  /** Blank-sky per-pixel sigma from the MAD. */
  readonly mad: number;
  /** MAD over every valid pixel, sources included: the number quoted as "0.0027-0.0030" in method.md. */
  readonly madAll: number;
  /** Fraction of valid pixels left after masking sources. */
  readonly blankFraction: number;
  /** Noise autocorrelation at lags (1,0), (0,1), (2,0), (0,2), (1,1). */
  readonly autocorrelation: { readonly x1: number; readonly y1: number; readonly x2: number; readonly y2: number; readonly d11: number };
  /** 1 where the pixel is blank sky. */
  readonly blank: Uint8Array;
}

/**
 * Masks sources iteratively (2.5 sigma above the sky median, grown by 4 pixels, three passes) and
 * measures the blank sky left over.
 */
export function skyStats(image: Plane, valid: Uint8Array): SkyStats {
  const { width, height } = image;
  const all = select(image, valid);
  let sky = median(all);
  let sigma = madSigma(all);
  let blank = valid;
  for (let pass = 0; pass < 3; pass++) {
    const masked = new Uint8Array(valid.length);
    for (let i = 0; i < masked.length; i++) masked[i] = !valid[i] || image.data[i]! - sky > 2.5 * sigma ? 1 : 0;
    const grown = dilate(masked, width, height, 4);
    blank = grown.map((m) => 1 - m);
    const values = select(image, blank);
    sky = median(values);
    sigma = madSigma(values);
  }
  const residual = new Float64Array(valid.length);
  let count = 0;
  let sumSq = 0;
  for (let i = 0; i < residual.length; i++) {
    if (!blank[i]) continue;
    residual[i] = image.data[i]! - sky;
    sumSq += residual[i]! * residual[i]!;
    count++;
  }
  const variance = sumSq / count;
  const lag = (dx: number, dy: number): number => {
    let sum = 0;
    let n = 0;
    for (let y = 0; y + dy < height; y++) {
      for (let x = 0; x + dx < width; x++) {
        const a = y * width + x;
        const b = (y + dy) * width + x + dx;
        if (blank[a] && blank[b]) {
          sum += residual[a]! * residual[b]!;
          n++;
        }
      }
    }
    return sum / n / variance;
  };
  let blankCount = 0;
  let validCount = 0;
  for (let i = 0; i < valid.length; i++) {
    blankCount += blank[i]!;
    validCount += valid[i]!;
  }
  return {
    median: sky,
    mad: sigma,
    madAll: madSigma(all),
    blankFraction: blankCount / validCount,
    autocorrelation: { x1: lag(1, 0), y1: lag(0, 1), x2: lag(2, 0), y2: lag(0, 2), d11: lag(1, 1) },
    blank,
  };
}

export interface RmsStats {
  /** Median RMS over blank sky: the sky level the RMS map reports. */
  readonly level: number;
  /** Blank-sky MAD over that level: < 1 because resampling correlates the noise. */
  readonly madToRms: number;
  /** Fraction of valid pixels whose RMS exceeds the 9x9 local median by more than 5% (coverage holes). */
  readonly holeFraction: number;
  /** Median RMS ratio to the local median inside those holes. */
  readonly holeFactor: number;
  /** Shot-noise gain: the RMS map's variance grows by flux/gain on sources (NaN without bright pixels). */
  readonly gain: number;
}

export function rmsStats(image: Plane, rms: Plane, valid: Uint8Array, sky: SkyStats): RmsStats {
  const { width, height } = rms;
  const level = median(select(rms, sky.blank));
  const ratios: number[] = [];
  let holes = 0;
  let validCount = 0;
  const window = new Float64Array(81);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!valid[i]) continue;
      validCount++;
      let n = 0;
      for (let j = max(0, y - 4); j <= min(height - 1, y + 4); j++) {
        for (let k = max(0, x - 4); k <= min(width - 1, x + 4); k++) if (valid[j * width + k]) window[n++] = rms.data[j * width + k]!;
      }
      const ratio = rms.data[i]! / median(window.subarray(0, n));
      if (ratio > 1.05) {
        holes++;
        if (ratio < 2) ratios.push(ratio);
      }
    }
  }
  // Shot noise: excess RMS variance against the pixel's flux, on pixels bright enough (20 sigma) that
  // their noise hardly biases the slope.
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < valid.length; i++) {
    const s = image.data[i]! - sky.median;
    if (!valid[i] || s < 0.05) continue;
    sxx += s * s;
    sxy += s * (rms.data[i]! ** 2 - level ** 2);
  }
  return {
    level,
    madToRms: sky.mad / level,
    holeFraction: holes / validCount,
    holeFactor: ratios.length > 0 ? median(ratios) : Number.NaN,
    gain: sxy > 0 ? sxx / sxy : Number.NaN,
  };
}

export interface SourceMeasure {
  readonly x: number;
  readonly y: number;
  /** Isophotal flux, image units. */
  readonly flux: number;
  readonly mag: number;
  /** Radius enclosing half the isophotal flux, pixels (PSF included). */
  readonly r50: number;
  /** Peak pixel over isophotal flux: ~0.2 for a point source, smaller for resolved ones. */
  readonly concentration: number;
  readonly area: number;
}

/**
 * Detects sources as 8-connected groups of at least `minArea` pixels above `threshold` sigma in the
 * image smoothed by a 3x3 binomial kernel (the smoothed noise sigma is measured on blank sky, so the
 * noise correlation is accounted for), and measures each.
 */
export function measureSources(image: Plane, valid: Uint8Array, sky: SkyStats, threshold = 5, minArea = 8): SourceMeasure[] {
  const { width, height } = image;
  const w = [0.25, 0.5, 0.25];
  const smooth = new Float64Array(width * height);
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      let s = 0;
      for (let b = -1; b <= 1; b++) for (let a = -1; a <= 1; a++) s += w[a + 1]! * w[b + 1]! * (image.data[(y + b) * width + x + a]! - sky.median);
      smooth[y * width + x] = s;
    }
  }
  const smoothSigma = madSigma(select({ width, height, data: smooth }, sky.blank));
  const label = new Int32Array(width * height);
  const out: SourceMeasure[] = [];
  const stack: number[] = [];
  let next = 0;
  for (let start = 0; start < label.length; start++) {
    if (label[start] || !valid[start] || smooth[start]! <= threshold * smoothSigma) continue;
    next++;
    const members: number[] = [];
    stack.push(start);
    label[start] = next;
    while (stack.length > 0) {
      const i = stack.pop()!;
      members.push(i);
      const x = i % width;
      const y = (i - x) / width;
      for (let b = -1; b <= 1; b++) {
        for (let a = -1; a <= 1; a++) {
          const xx = x + a;
          const yy = y + b;
          if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
          const j = yy * width + xx;
          if (!label[j] && valid[j] && smooth[j]! > threshold * smoothSigma) {
            label[j] = next;
            stack.push(j);
          }
        }
      }
    }
    if (members.length < minArea) continue;
    out.push(measureSegment(image, members, sky.median));
  }
  return out;
}

function measureSegment(image: Plane, members: readonly number[], sky: number): SourceMeasure {
  const { width } = image;
  let flux = 0;
  let sx = 0;
  let sy = 0;
  let peak = -Infinity;
  for (const i of members) {
    const v = max(0, image.data[i]! - sky);
    const x = i % width;
    flux += v;
    sx += v * x;
    sy += v * ((i - x) / width);
    peak = max(peak, image.data[i]! - sky);
  }
  const cx = sx / flux;
  const cy = sy / flux;
  const byRadius = members
    .map((i) => ({ r: hypot((i % width) - cx, floor(i / width) - cy), v: max(0, image.data[i]! - sky) }))
    .sort((a, b) => a.r - b.r);
  let cumulative = 0;
  let r50 = byRadius[byRadius.length - 1]!.r;
  for (const { r, v } of byRadius) {
    cumulative += v;
    if (cumulative >= flux / 2) {
      r50 = r;
      break;
    }
  }
  return { x: cx, y: cy, flux, mag: MAGZERO - 2.5 * log10(flux), r50, concentration: peak / flux, area: members.length };
}

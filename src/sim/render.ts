/**
 * Noise-free rendering: sources are laid down on a "pre-PSF" canvas, which is then convolved once with
 * the pixel-sampled effective PSF (the ePSF, which already includes the pixel response).
 *
 * Why the canvas is band-limited rather than pixel-integrated: convolving pixel-integrated light with
 * an ePSF would apply the pixel response twice and blur cores. Instead each source contributes
 * ∫ I(x') L(x_i - x') dx' to pixel i, where L is the Lanczos-3 interpolation kernel. Convolving that
 * with the ePSF equals convolving the true light with the Lanczos-interpolated ePSF, so a point source
 * at a sub-pixel position and a resolved core go through exactly the same PSF, and a point source on
 * a pixel centre reproduces the real stamp exactly. Where a profile is smooth on the pixel scale the
 * integral is just the brightness at the pixel centre (L is 1 at 0 and 0 at other integers); within a
 * few pixels of a centre, where Sérsic cusps are steep, it is integrated in polar coordinates with
 * radial nodes in r^(1/n), which follows the cusp, and deposited through L.
 */

import { LANCZOS_A, lanczos } from '../ground/psf.js';
import type { SersicProfile } from './sersic.js';

// Module-level aliases: under Jest's vm context every lookup of the global Math costs ~0.4 us,
// which made the simulator 30x slower in tests than in production.
const { abs, ceil, cos, floor, max, min, pow, sin, sqrt } = Math;

/** Side of the blocks in which the convolution looks for light. */
const BLOCK = 4;

/** Canvas pixel (i, j) has its centre at frame coordinates (x0 + i, y0 + j). */
export class Canvas {
  readonly data: Float64Array;

  constructor(
    readonly x0: number,
    readonly y0: number,
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Float64Array(width * height);
  }

  /**
   * Moves every pixel with |value| <= `threshold` to a new canvas, so the bright remainder can go
   * through the full PSF and the faint light through its core only.
   */
  splitFaint(threshold: number): Canvas {
    const faint = new Canvas(this.x0, this.y0, this.width, this.height);
    for (let k = 0; k < this.data.length; k++) {
      const v = this.data[k]!;
      if (v !== 0 && abs(v) <= threshold) {
        faint.data[k] = v;
        this.data[k] = 0;
      }
    }
    return faint;
  }

  /**
   * Summed-area table, with a leading zero row and column, of BLOCK x BLOCK blocks that hold any
   * light: the convolution skips output pixels whose kernel footprint meets none.
   */
  litBlocks(): { readonly table: Int32Array; readonly blocksX: number; readonly blocksY: number } {
    const blocksX = ceil(this.width / BLOCK);
    const blocksY = ceil(this.height / BLOCK);
    const lit = new Uint8Array(blocksX * blocksY);
    for (let j = 0; j < this.height; j++) {
      const row = floor(j / BLOCK) * blocksX;
      for (let i = 0; i < this.width; i++) if (this.data[j * this.width + i] !== 0) lit[row + floor(i / BLOCK)] = 1;
    }
    const w = blocksX + 1;
    const table = new Int32Array(w * (blocksY + 1));
    for (let by = 0; by < blocksY; by++) {
      let sum = 0;
      for (let bx = 0; bx < blocksX; bx++) {
        sum += lit[by * blocksX + bx]!;
        table[(by + 1) * w + bx + 1] = table[by * w + bx + 1]! + sum;
      }
    }
    return { table, blocksX, blocksY };
  }
}

const TAPS = 2 * LANCZOS_A;

/**
 * Normalised weights of taps -2..3 for fractional offsets k/PHASES, k = 0..PHASES: weights at other
 * offsets interpolate linearly between two rows, which keeps their sum at exactly 1 (flux is kept).
 */
const PHASES = 1024;
const PHASE_TABLE = (() => {
  const table = new Float64Array((PHASES + 1) * TAPS);
  for (let k = 0; k <= PHASES; k++) {
    const f = k / PHASES;
    let sum = 0;
    for (let t = 0; t < TAPS; t++) sum += lanczos(f - (t - (LANCZOS_A - 1)));
    for (let t = 0; t < TAPS; t++) table[k * TAPS + t] = lanczos(f - (t - (LANCZOS_A - 1))) / sum;
  }
  return table;
})();

/** Fills `out` with the weights of taps floor(p) - 2 ... floor(p) + 3 and returns the first tap. */
function lanczosWeights(p: number, out: Float64Array): number {
  const base = floor(p);
  const u = (p - base) * PHASES;
  const k = min(PHASES - 1, floor(u));
  const f = u - k;
  const row = k * TAPS;
  for (let t = 0; t < TAPS; t++) out[t] = PHASE_TABLE[row + t]! * (1 - f) + PHASE_TABLE[row + TAPS + t]! * f;
  return base - (LANCZOS_A - 1);
}

const wx = new Float64Array(TAPS);
const wy = new Float64Array(TAPS);

/** Adds a point of `flux` at frame position (x, y) to the band-limited canvas (Lanczos weights). */
export function depositPoint(canvas: Canvas, x: number, y: number, flux: number): void {
  const i0 = lanczosWeights(x - canvas.x0, wx);
  const j0 = lanczosWeights(y - canvas.y0, wy);
  const { width, height, data } = canvas;
  if (i0 >= 0 && i0 + TAPS <= width && j0 >= 0 && j0 + TAPS <= height) {
    for (let b = 0; b < TAPS; b++) {
      const fy = flux * wy[b]!;
      const row = (j0 + b) * width + i0;
      data[row]! += fy * wx[0]!;
      data[row + 1]! += fy * wx[1]!;
      data[row + 2]! += fy * wx[2]!;
      data[row + 3]! += fy * wx[3]!;
      data[row + 4]! += fy * wx[4]!;
      data[row + 5]! += fy * wx[5]!;
    }
    return;
  }
  for (let b = 0; b < TAPS; b++) {
    const j = j0 + b;
    if (j < 0 || j >= height) continue;
    const fy = flux * wy[b]!;
    for (let a = 0; a < TAPS; a++) {
      const i = i0 + a;
      if (i >= 0 && i < width) data[j * width + i]! += fy * wx[a]!;
    }
  }
}

/** How finely cores are integrated; tests tighten it to check convergence. */
export interface CoreQuadrature {
  /** Inside this circular radius (pixels) the profile is integrated in polar coordinates only. */
  readonly inner: number;
  /** Between inner and outer the two treatments are blended with a smooth taper. */
  readonly outer: number;
  /** Radial panel width, pixels; each panel gets a 3-point Gauss-Legendre rule. */
  readonly radialStep: number;
  /** Arc length between angular nodes, pixels, for a round profile (elongated ones get more). */
  readonly arcStep: number;
  /** Sub-grid samples per minor-axis scale of a thin profile outside the core. */
  readonly samplesPerWidth: number;
  /** Nodes on the smallest rings of a round profile; q times fewer than those of an elongated one. */
  readonly ringNodes: number;
}

/** Within 1 per mille of the peak of a converged rendering, for every shape test/sim/render.test.ts tries. */
export const FULL_CORE: CoreQuadrature = { inner: 2, outer: 4, radialStep: 0.6, arcStep: 0.8, samplesPerWidth: 1.2, ringNodes: 8 };
/** Within 2.5 per mille of the peak. */
export const LIGHT_CORE: CoreQuadrature = { inner: 1.5, outer: 3, radialStep: 0.8, arcStep: 1.2, samplesPerWidth: 1.2, ringNodes: 6 };
/** Within 1% of the peak. */
export const MINIMAL_CORE: CoreQuadrature = { inner: 1, outer: 2, radialStep: 1, arcStep: 2, samplesPerWidth: 1.2, ringNodes: 4 };

/**
 * The cheapest quadrature whose error stays below a tenth of the pixel noise `sigma`, from a bound on
 * the component's peak (a quarter of its flux: the real PSF puts 17-21% in the brightest pixel). Most
 * components of a scene are faint field galaxies, so this decides the rendering speed.
 */
export function coreFor(flux: number, sigma: number): CoreQuadrature {
  const peak = 0.25 * flux;
  if (peak >= 40 * sigma) return FULL_CORE;
  return peak >= 10 * sigma ? LIGHT_CORE : MINIMAL_CORE;
}

/** Weight of the polar treatment: 1 inside `inner`, 0 beyond `outer`, smooth (C1) in between. */
function taper(rho: number, core: CoreQuadrature): number {
  if (rho <= core.inner) return 1;
  if (rho >= core.outer) return 0;
  const s = (rho - core.inner) / (core.outer - core.inner);
  return 0.5 * (1 + cos(Math.PI * s));
}

const GL_NODES = [-sqrt(0.6), 0, sqrt(0.6)];
const GL_WEIGHTS = [5 / 9, 8 / 9, 5 / 9];

/** Draws a Sérsic profile centred at frame position (cx, cy). */
export function drawSersic(canvas: Canvas, profile: SersicProfile, cx: number, cy: number, core: CoreQuadrature): void {
  drawSmoothPart(canvas, profile, cx, cy, core);
  drawCore(canvas, profile, cx, cy, core);
}

/**
 * Sub-pixel sampling (s x s per pixel) of the smooth part. A profile is smooth on the pixel scale
 * outside its core unless it is thin: across its minor axis the light falls off over
 * ~q max(Re, inner), which edge-on disks make a fraction of a pixel.
 */
function oversampling(profile: SersicProfile, core: CoreQuadrature): number {
  const width = profile.shape.q * max(profile.shape.re, core.inner);
  return min(MAX_OVERSAMPLING, max(1, ceil(core.samplesPerWidth / width)));
}

const MAX_OVERSAMPLING = 9;

/** Lanczos weights and first tap for each sub-pixel phase of an s-fold sub-grid. */
const phaseCache = new Map<number, { weights: Float64Array[]; base: number[] }>();

function phases(s: number): { weights: Float64Array[]; base: number[] } {
  let cached = phaseCache.get(s);
  if (cached === undefined) {
    const weights: Float64Array[] = [];
    const base: number[] = [];
    for (let a = 0; a < s; a++) {
      const w = new Float64Array(TAPS);
      base.push(lanczosWeights((a + 0.5) / s - 0.5, w));
      weights.push(w);
    }
    cached = { weights, base };
    phaseCache.set(s, cached);
  }
  return cached;
}

/**
 * The profile times (1 - taper) on a regular s-fold sub-grid (s from `oversampling`), each sample
 * deposited through the Lanczos weights of its phase; for s = 1 that is the pixel-centre value. Rows
 * only visit the chord of the truncation ellipse.
 */
function drawSmoothPart(canvas: Canvas, profile: SersicProfile, cx: number, cy: number, core: CoreQuadrature): void {
  const s = oversampling(profile, core);
  const { weights, base } = phases(s);
  const reach = s === 1 ? 0 : LANCZOS_A;
  const r = profile.radius;
  const j0 = max(-reach, ceil(cy - r - canvas.y0 - 0.5));
  const j1 = min(canvas.height - 1 + reach, floor(cy + r - canvas.y0 + 0.5));
  const { width, height, data } = canvas;
  const inner2 = core.inner * core.inner;
  const outer2 = core.outer * core.outer;
  const area = 1 / (s * s);
  const row = new Float64Array(width);
  for (let j = j0; j <= j1; j++) {
    for (let b = 0; b < s; b++) {
      const dy = canvas.y0 + j + (b + 0.5) / s - 0.5 - cy;
      const chord = profile.chord(dy);
      if (chord === undefined) continue;
      const ia = max(-reach, ceil(cx + chord[0] - canvas.x0 - 0.5));
      const ib = min(width - 1 + reach, floor(cx + chord[1] - canvas.x0 + 0.5));
      if (ia > ib) continue;
      let lo = width;
      let hi = -1;
      for (let i = ia; i <= ib; i++) {
        for (let a = 0; a < s; a++) {
          const dx = canvas.x0 + i + (a + 0.5) / s - 0.5 - cx;
          const rho2 = dx * dx + dy * dy;
          if (rho2 <= inner2) continue;
          let value = profile.brightness(dx, dy) * area;
          if (value === 0) continue;
          if (rho2 < outer2) value *= 1 - taper(sqrt(rho2), core);
          if (s === 1) {
            if (i >= 0 && i < width) row[i]! += value;
            lo = min(lo, i);
            hi = max(hi, i);
            continue;
          }
          const w = weights[a]!;
          const first = i + base[a]!;
          for (let k = 0; k < TAPS; k++) {
            const t = first + k;
            if (t >= 0 && t < width) row[t]! += value * w[k]!;
          }
          lo = min(lo, first);
          hi = max(hi, first + TAPS - 1);
        }
      }
      lo = max(0, lo);
      hi = min(width - 1, hi);
      if (lo > hi) continue;
      const wy = weights[b]!;
      const first = s === 1 ? j : j + base[b]!;
      for (let k = 0; k < (s === 1 ? 1 : TAPS); k++) {
        const jj = first + k;
        if (jj < 0 || jj >= height) continue;
        const f = s === 1 ? 1 : wy[k]!;
        const out = jj * width;
        for (let i = lo; i <= hi; i++) data[out + i]! += f * row[i]!;
      }
      row.fill(0, lo, hi + 1);
    }
  }
}

/**
 * Radial panel edges for the polar core, up to where the profile's flux has ended (t = b (rho/Re)^(1/n)
 * well past the mean 2n of its gamma-shaped integrand) or the core ends. Panels are at most
 * `radialStep` wide in rho and at most a twelfth of the integrand's bulk in t measured along the minor
 * axis, which a 3-point rule in u = rho^(1/n) integrates accurately even for n = 6 cusps.
 */
function panelEdges(profile: SersicProfile, extent: number, radialStep: number): number[] {
  const { n, re, q } = profile.shape;
  const tBulk = 2 * n + 8 * sqrt(2 * n) + 4;
  // Steps follow the minor axis, where the light falls fastest; the flux ends along the major axis.
  const minor = q * re;
  const end = min(extent, re * pow(tBulk / profile.b, n));
  const edges = [0];
  let rho = 0;
  while (rho < end) {
    const t = profile.b * pow(rho / minor, 1 / n) + tBulk / 12;
    rho = min(end, rho + radialStep, minor * pow(t / profile.b, n));
    edges.push(rho);
  }
  return edges;
}

/** The polar-integrated core: Gauss-Legendre nodes in u = rho^(1/n) per radial panel, uniform in angle. */
function drawCore(canvas: Canvas, profile: SersicProfile, cx: number, cy: number, core: CoreQuadrature): void {
  const edges = panelEdges(profile, min(core.outer, profile.radius), core.radialStep);
  const n = profile.shape.n;
  const invN = 1 / n;
  // Elongated profiles vary around a ring within an angle ~q: more nodes for them, even on small rings.
  const arcStep = core.arcStep * sqrt(profile.shape.q);
  const minNodes = ceil(core.ringNodes / profile.shape.q);
  let ring = 0;
  for (let p = 0; p + 1 < edges.length; p++) {
    const ua = pow(edges[p]!, invN);
    const ub = pow(edges[p + 1]!, invN);
    const half = 0.5 * (ub - ua);
    const mid = 0.5 * (ub + ua);
    for (let g = 0; g < GL_NODES.length; g++) {
      const u = mid + half * GL_NODES[g]!;
      const rho = pow(u, n);
      // rho drho = rho * n u^(n-1) du
      const radialWeight = GL_WEIGHTS[g]! * half * rho * n * pow(u, n - 1) * taper(rho, core);
      if (radialWeight === 0) continue;
      const m = max(minNodes, ceil((2 * Math.PI * rho) / arcStep));
      const dTheta = (2 * Math.PI) / m;
      const weight = radialWeight * dTheta;
      // A golden-ratio offset per ring keeps nodes of successive rings from lining up.
      const start = ((ring++ * 0.6180339887498949) % 1) * dTheta;
      // Rotating the first node by dTheta each step, rather than a cos and sin per node.
      const stepCos = cos(dTheta);
      const stepSin = sin(dTheta);
      let dx = rho * cos(start);
      let dy = rho * sin(start);
      for (let k = 0; k < m; k++) {
        const flux = profile.brightness(dx, dy) * weight;
        if (flux !== 0) depositPoint(canvas, cx + dx, cy + dy, flux);
        const nx = dx * stepCos - dy * stepSin;
        dy = dx * stepSin + dy * stepCos;
        dx = nx;
      }
    }
  }
}

/**
 * Adds the canvas convolved with an odd-sized kernel to `out` (frame pixels [x0, x0 + width) x
 * [y0, y0 + height), row-major) by spreading the kernel of each nonzero pixel: the cheap way when few
 * pixels hold light, as after `splitFaint`.
 */
export function scatter(canvas: Canvas, kernel: Float64Array, size: number, out: Float64Array, x0: number, y0: number, width: number, height: number): void {
  const half = (size - 1) / 2;
  const g = canvas.data;
  for (let j = 0; j < canvas.height; j++) {
    const oy = canvas.y0 + j - half - y0;
    const ky0 = max(0, -oy);
    const ky1 = min(size, height - oy);
    if (ky0 >= ky1) continue;
    for (let i = 0; i < canvas.width; i++) {
      const v = g[j * canvas.width + i]!;
      if (v === 0) continue;
      const ox = canvas.x0 + i - half - x0;
      const kx0 = max(0, -ox);
      const kx1 = min(size, width - ox);
      for (let ky = ky0; ky < ky1; ky++) {
        const row = (oy + ky) * width + ox;
        const k = ky * size;
        for (let kx = kx0; kx < kx1; kx++) out[row + kx]! += v * kernel[k + kx]!;
      }
    }
  }
}

/**
 * Convolves the canvas with an odd-sized kernel (the ePSF, centre at the middle) and writes the
 * result for frame pixels [x0, x0 + width) x [y0, y0 + height) into `out` (row-major). The canvas must
 * extend that region by the kernel's half-size on every side. Output pixels whose kernel footprint
 * meets no lit block stay 0: most of a stamp is empty sky before noise.
 */
export function convolve(canvas: Canvas, kernel: Float64Array, size: number, out: Float64Array, x0: number, y0: number, width: number, height: number): void {
  const half = (size - 1) / 2;
  const ox = x0 - half - canvas.x0;
  const oy = y0 - half - canvas.y0;
  if (ox < 0 || oy < 0 || ox + width + size - 1 > canvas.width || oy + height + size - 1 > canvas.height) {
    throw new RangeError('the canvas does not cover the output region plus the kernel margin');
  }
  // Flipped so the inner loop runs forward over both arrays.
  const flipped = new Float64Array(size * size);
  for (let k = 0; k < size * size; k++) flipped[k] = kernel[size * size - 1 - k]!;
  out.fill(0, 0, width * height);
  const g = canvas.data;
  const cw = canvas.width;
  const { table: lit, blocksX, blocksY } = canvas.litBlocks();
  const lw = blocksX + 1;
  /** Whether any lit block meets canvas columns [i0, i1] x rows [j0, j1]. */
  const anyLit = (i0: number, i1: number, j0: number, j1: number): boolean => {
    const bx0 = floor(i0 / BLOCK);
    const bx1 = min(blocksX - 1, floor(i1 / BLOCK)) + 1;
    const by0 = floor(j0 / BLOCK);
    const by1 = min(blocksY - 1, floor(j1 / BLOCK)) + 1;
    return lit[by1 * lw + bx1]! - lit[by0 * lw + bx1]! - lit[by1 * lw + bx0]! + lit[by0 * lw + bx0]! > 0;
  };
  // Two output rows share each canvas row they both read; four columns share each kernel weight.
  for (let y = 0; y < height; y += 2) {
    const pair = y + 1 < height;
    const j0 = oy + y;
    const j1 = oy + y + size - (pair ? 0 : 1);
    if (!anyLit(ox, ox + width + size - 2, j0, j1)) continue;
    const xb = width - 1;
    let x = 0;
    if (pair) {
      for (; x + 3 <= xb; x += 4) {
        if (!anyLit(ox + x, ox + x + size + 2, j0, j1)) continue;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
        // Canvas row oy+y+ky meets kernel row ky for output row y and kernel row ky-1 for row y+1.
        for (let ky = 0; ky <= size; ky++) {
          const gi = (oy + y + ky) * cw + ox + x;
          let a = g[gi]!;
          let b = g[gi + 1]!;
          let c = g[gi + 2]!;
          if (ky === 0 || ky === size) {
            const both = ky === 0;
            const ki = both ? 0 : (size - 1) * size;
            let u0 = 0, u1 = 0, u2 = 0, u3 = 0;
            for (let kx = 0; kx < size; kx++) {
              const w = flipped[ki + kx]!;
              const d = g[gi + kx + 3]!;
              u0 += w * a;
              u1 += w * b;
              u2 += w * c;
              u3 += w * d;
              a = b;
              b = c;
              c = d;
            }
            if (both) {
              s0 += u0;
              s1 += u1;
              s2 += u2;
              s3 += u3;
            } else {
              t0 += u0;
              t1 += u1;
              t2 += u2;
              t3 += u3;
            }
            continue;
          }
          const upper = ky * size;
          const lower = upper - size;
          for (let kx = 0; kx < size; kx++) {
            const w = flipped[upper + kx]!;
            const v = flipped[lower + kx]!;
            const d = g[gi + kx + 3]!;
            s0 += w * a;
            s1 += w * b;
            s2 += w * c;
            s3 += w * d;
            t0 += v * a;
            t1 += v * b;
            t2 += v * c;
            t3 += v * d;
            a = b;
            b = c;
            c = d;
          }
        }
        const o = y * width + x;
        out[o] = s0;
        out[o + 1] = s1;
        out[o + 2] = s2;
        out[o + 3] = s3;
        out[o + width] = t0;
        out[o + width + 1] = t1;
        out[o + width + 2] = t2;
        out[o + width + 3] = t3;
      }
    }
    for (let yy = y; yy < y + (pair ? 2 : 1); yy++) {
      for (let xx = x; xx <= xb; xx++) {
        let sum = 0;
        for (let ky = 0; ky < size; ky++) {
          const gi = (oy + yy + ky) * cw + ox + xx;
          const ki = ky * size;
          for (let kx = 0; kx < size; kx++) sum += flipped[ki + kx]! * g[gi + kx]!;
        }
        out[yy * width + xx] = sum;
      }
    }
  }
}

/**
 * The least-squares peer: a point source plus one elliptical Sérsic host with a shared sub-pixel
 * centre, both through the cutout's own PSF stamp (the true PSF for simulations), plus a constant
 * background, fitted to the central fitSide x fitSide pixels with the per-pixel noise as weights.
 * This is what a careful astronomer would run on a handful of sources (GALFIT-style), measured here on
 * the same cutouts as vis-agn so that the generative score has a fair parametric opponent.
 *
 * The host is drawn exactly as the simulator draws it (band-limited Lanczos canvas convolved with the
 * ePSF, src/sim/render.ts), so on a noiseless simulated PSF + Sérsic the model is exact and only a
 * multi-component host (bulge + disk, nuclear cluster, knots) is a model error.
 *
 * The three fluxes (point source, host, background) enter linearly: for each set of shape parameters
 * they are solved exactly (non-negative point and host flux), and Levenberg-Marquardt moves only the
 * six shape parameters (centre, ln Re, n, two ellipticity components), with forward-difference
 * derivatives of the projected residuals. The host-only fit (point flux held at 0) is run first and
 * the full fit starts from its optimum as well as from the moments, so the chi2 improvement that the
 * point source buys is never negative; its square root is the detection statistic.
 */

import type { Psf } from '../ground/psf.js';
import { Canvas, convolve, depositPoint, drawSersic, FULL_CORE, scatter } from '../sim/render.js';
import { SersicProfile, type Truncation } from '../sim/sersic.js';

// Module-level aliases: under Jest's vm context every lookup of the global Math is slow (see src/sim/sersic.ts).
const { abs, atan2, exp, floor, hypot, log, max, min, sqrt } = Math;

export const DEFAULT_FIT_SIDE = 25;

/** Unit-flux hosts: the simulator's limits, with the brightness floor scaled to a unit flux. */
const UNIT_TRUNCATION: Truncation = { maxRe: 8, maxPixels: 64, floor: 1e-8 };

const RE_MAX = 30;
/**
 * 0.07": the literature size relation puts ~3% of galaxies at I_E < 24.5 below it (docs/simulator.md);
 * smaller hosts are unresolved and would take a star's light as host (on a held-out development set,
 * seeds 101/102, 0.3 px left stars at f_PS bias -0.18, 0.7 px at -0.10).
 */
export const DEFAULT_MIN_RE = 0.7;
const N_MIN = 0.4;
const N_MAX = 6;
/** |e| = (1 - q) / (1 + q): q >= 0.14. */
const E_MAX = 0.75;
/** How far the centre may move from where the moments put it, pixels. */
const CENTRE_REACH = 1.5;
/** Forward-difference steps of x, y, ln Re, n (relative), e1, e2. */
const STEPS = [0.02, 0.02, 0.02, 0.02, 0.01, 0.01];

export interface SersicPsfInput {
  /** side x side pixels, the target at (floor(side / 2), floor(side / 2)), row-major. */
  readonly pixels: ArrayLike<number>;
  /** Per-pixel noise sigma; without it, one sigma from the MAD of the fitted region's border. */
  readonly rms: ArrayLike<number> | undefined;
  readonly side: number;
  readonly psf: Psf;
}

export interface SersicPsfOptions {
  /** Side of the fitted central region, odd; default 25 (2.5"). */
  readonly fitSide?: number;
  /** Levenberg-Marquardt iterations per start; default 40. */
  readonly maxIterations?: number;
  /** Smallest host half-light radius, pixels; default DEFAULT_MIN_RE. */
  readonly minRe?: number;
}

export interface SersicPsfFit {
  /** F_ps / (F_ps + F_host); null when the fit found no light at all. */
  readonly fps: number | null;
  readonly psFlux: number;
  readonly hostFlux: number;
  readonly background: number;
  /** Centre, pixels from the target pixel. */
  readonly x: number;
  readonly y: number;
  readonly re: number;
  readonly n: number;
  readonly q: number;
  readonly pa: number;
  /** Weighted chi2 of the point + host fit over `pixels` pixels. */
  readonly chi2: number;
  /** The same for the best host alone. */
  readonly chi2Host: number;
  readonly pixels: number;
  /** The error of fps from the covariance of all parameters; null with fps or where it is singular. */
  readonly fpsError: number | null;
  /** sqrt(chi2Host - chi2): how many sigma the point source improves the fit by, for uncorrelated noise. */
  readonly significance: number;
  /** Model images computed, a measure of the cost. */
  readonly evaluations: number;
}

/** x, y, ln Re, n, e1, e2. */
type Shape = Float64Array;

interface Linear {
  readonly ps: number;
  readonly host: number;
  readonly background: number;
  readonly chi2: number;
}

interface Evaluation extends Linear {
  /** sqrt(w) (data - model), the vector Levenberg-Marquardt differentiates. */
  readonly residual: Float64Array;
}

/** Where the shape may go: around the start's centre, hosts no smaller than minRe. */
interface Bounds {
  readonly x: number;
  readonly y: number;
  readonly minRe: number;
}

function clampShape(p: Shape, bounds: Bounds): Shape {
  const out = Float64Array.from(p);
  out[0] = min(bounds.x + CENTRE_REACH, max(bounds.x - CENTRE_REACH, out[0]!));
  out[1] = min(bounds.y + CENTRE_REACH, max(bounds.y - CENTRE_REACH, out[1]!));
  out[2] = min(log(RE_MAX), max(log(bounds.minRe), out[2]!));
  out[3] = min(N_MAX, max(N_MIN, out[3]!));
  const e = hypot(out[4]!, out[5]!);
  if (e > E_MAX) {
    out[4]! *= E_MAX / e;
    out[5]! *= E_MAX / e;
  }
  return out;
}

function axisRatio(p: Shape): { q: number; pa: number } {
  const e = hypot(p[4]!, p[5]!);
  return { q: (1 - e) / (1 + e), pa: 0.5 * atan2(p[5]!, p[4]!) };
}

/** Solves the symmetric system `a x = b` (k x k, row-major) by Gaussian elimination; null if singular. */
function solve(a: Float64Array, b: Float64Array, k: number): Float64Array | null {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let c = 0; c < k; c++) {
    let pivot = c;
    for (let r = c + 1; r < k; r++) if (abs(m[r * k + c]!) > abs(m[pivot * k + c]!)) pivot = r;
    if (!(abs(m[pivot * k + c]!) > 1e-300)) return null;
    if (pivot !== c) {
      for (let j = 0; j < k; j++) [m[c * k + j], m[pivot * k + j]] = [m[pivot * k + j]!, m[c * k + j]!];
      [x[c], x[pivot]] = [x[pivot]!, x[c]!];
    }
    for (let r = c + 1; r < k; r++) {
      const f = m[r * k + c]! / m[c * k + c]!;
      if (f === 0) continue;
      for (let j = c; j < k; j++) m[r * k + j]! -= f * m[c * k + j]!;
      x[r]! -= f * x[c]!;
    }
  }
  for (let r = k - 1; r >= 0; r--) {
    let s = x[r]!;
    for (let j = r + 1; j < k; j++) s -= m[r * k + j]! * x[j]!;
    x[r] = s / m[r * k + r]!;
  }
  return x;
}

/** The fitted region and its weights, and the two unit-flux model images for a shape. */
class Problem {
  readonly n: number;
  readonly data: Float64Array;
  readonly sqrtW: Float64Array;
  private readonly half: number;
  private readonly psfHalf: number;
  evaluations = 0;

  constructor(
    input: SersicPsfInput,
    readonly fitSide: number,
  ) {
    const { pixels, rms, side, psf } = input;
    if (fitSide % 2 !== 1 || fitSide > side) throw new RangeError(`fit side ${fitSide} must be odd and at most the cutout side ${side}`);
    this.half = (fitSide - 1) / 2;
    this.psfHalf = (psf.size - 1) / 2;
    this.n = fitSide * fitSide;
    this.data = new Float64Array(this.n);
    this.sqrtW = new Float64Array(this.n);
    const c = floor(side / 2);
    const sigma = rms === undefined ? borderSigma(pixels, side, c, this.half) : undefined;
    for (let j = 0; j < fitSide; j++) {
      for (let i = 0; i < fitSide; i++) {
        const at = (c - this.half + j) * side + c - this.half + i;
        const v = pixels[at]!;
        const s = sigma ?? rms![at]!;
        const k = j * fitSide + i;
        // Unusable pixels (NaN, no coverage) weigh nothing.
        if (Number.isFinite(v) && s > 0 && Number.isFinite(s)) {
          this.data[k] = v;
          this.sqrtW[k] = 1 / s;
        }
      }
    }
    this.psf = psf;
  }

  private readonly psf: Psf;

  private canvas(): Canvas {
    const margin = this.half + this.psfHalf;
    return new Canvas(-margin, -margin, this.fitSide + 2 * this.psfHalf, this.fitSide + 2 * this.psfHalf);
  }

  /** The unit-flux PSF at (x, y), as the simulator places a point source. */
  pointImage(x: number, y: number): Float64Array {
    const canvas = this.canvas();
    depositPoint(canvas, x, y, 1);
    const out = new Float64Array(this.n);
    scatter(canvas, this.psf.data, this.psf.size, out, -this.half, -this.half, this.fitSide, this.fitSide);
    return out;
  }

  /** The unit-flux host of shape `p` through the PSF. */
  hostImage(p: Shape): Float64Array {
    const { q, pa } = axisRatio(p);
    const profile = new SersicProfile({ flux: 1, re: exp(p[2]!), n: p[3]!, q, pa }, undefined, UNIT_TRUNCATION);
    const canvas = this.canvas();
    drawSersic(canvas, profile, p[0]!, p[1]!, FULL_CORE);
    const out = new Float64Array(this.n);
    convolve(canvas, this.psf.data, this.psf.size, out, -this.half, -this.half, this.fitSide, this.fitSide);
    return out;
  }

  /**
   * The best non-negative point and host fluxes and free background for these images: each active
   * set is solved, the feasible one with the lowest chi2 kept (three unknowns: four sets at most).
   */
  linear(point: Float64Array | null, host: Float64Array): Linear {
    const columns = point === null ? [host] : [point, host];
    const k = columns.length + 1;
    const { data, sqrtW, n } = this;
    const gram = new Float64Array(k * k);
    const rhs = new Float64Array(k);
    let dd = 0;
    for (let i = 0; i < n; i++) {
      const w = sqrtW[i]! * sqrtW[i]!;
      if (w === 0) continue;
      const d = data[i]!;
      dd += w * d * d;
      for (let a = 0; a < k; a++) {
        const va = a < k - 1 ? columns[a]![i]! : 1;
        rhs[a]! += w * va * d;
        for (let b = a; b < k; b++) gram[a * k + b]! += w * va * (b < k - 1 ? columns[b]![i]! : 1);
      }
    }
    for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) gram[a * k + b] = gram[b * k + a]!;
    let best: { coef: Float64Array; chi2: number } | undefined;
    // Bit f of `free` frees flux f; the background (last) is always free.
    for (let free = (1 << (k - 1)) - 1; free >= 0; free--) {
      const idx = [...Array.from({ length: k - 1 }, (_, f) => f).filter((f) => (free >> f) & 1), k - 1];
      const m = idx.length;
      const sub = new Float64Array(m * m);
      const subRhs = new Float64Array(m);
      for (let a = 0; a < m; a++) {
        subRhs[a] = rhs[idx[a]!]!;
        for (let b = 0; b < m; b++) sub[a * m + b] = gram[idx[a]! * k + idx[b]!]!;
      }
      const x = solve(sub, subRhs, m);
      if (x === null || x.slice(0, m - 1).some((v) => v < 0)) continue;
      const coef = new Float64Array(k);
      idx.forEach((f, a) => (coef[f] = x[a]!));
      let chi2 = dd;
      for (let a = 0; a < k; a++) {
        chi2 -= 2 * coef[a]! * rhs[a]!;
        for (let b = 0; b < k; b++) chi2 += coef[a]! * gram[a * k + b]! * coef[b]!;
      }
      if (best === undefined || chi2 < best.chi2) best = { coef, chi2 };
    }
    // The background-only set always solves unless every weight is zero.
    if (best === undefined) return { ps: 0, host: 0, background: 0, chi2: dd };
    const c = best.coef;
    return point === null ? { ps: 0, host: c[0]!, background: c[1]!, chi2: max(0, best.chi2) } : { ps: c[0]!, host: c[1]!, background: c[2]!, chi2: max(0, best.chi2) };
  }

  /**
   * The error of F_ps / (F_ps + F_host) from the covariance of all nine parameters (shape and fluxes)
   * at the optimum: the inverse of J^T W J, with the model's derivatives by forward differences at
   * fixed fluxes. Unlike the fluxes' covariance alone it carries the trade of light between the point
   * source and a compact host, which is what makes a faint compact galaxy's f_PS uncertain.
   */
  fpsError(p: Shape, fit: Linear, bounds: Bounds): number | null {
    const total = fit.ps + fit.host;
    if (!(total > 0)) return null;
    const model = (shape: Shape): Float64Array => {
      this.evaluations++;
      const point = this.pointImage(shape[0]!, shape[1]!);
      const host = this.hostImage(shape);
      return Float64Array.from(host, (h, i) => fit.host * h + fit.ps * point[i]!);
    };
    const base = model(p);
    const columns: Float64Array[] = [];
    for (let a = 0; a < p.length; a++) {
      const moved = stepped(p, a, bounds);
      const delta = moved[a]! - p[a]!;
      const m = model(moved);
      columns.push(Float64Array.from(m, (v, i) => (delta === 0 ? 0 : (v - base[i]!) / delta)));
    }
    columns.push(this.pointImage(p[0]!, p[1]!), this.hostImage(p), new Float64Array(this.n).fill(1));
    const k = columns.length;
    const gram = new Float64Array(k * k);
    for (let a = 0; a < k; a++) {
      for (let b = a; b < k; b++) {
        let sum = 0;
        for (let i = 0; i < this.n; i++) sum += this.sqrtW[i]! * this.sqrtW[i]! * columns[a]![i]! * columns[b]![i]!;
        gram[a * k + b] = sum;
        gram[b * k + a] = sum;
      }
    }
    const ps = k - 3;
    const host = k - 2;
    const unit = (at: number) => solve(gram, Float64Array.from({ length: k }, (_, i) => (i === at ? 1 : 0)), k);
    const cp = unit(ps);
    const ch = unit(host);
    if (cp === null || ch === null) return null;
    // d fps / d F_ps = F_host / total^2, d fps / d F_host = -F_ps / total^2.
    const gp = fit.host / (total * total);
    const gh = -fit.ps / (total * total);
    const variance = gp * gp * cp[ps]! + 2 * gp * gh * cp[host]! + gh * gh * ch[host]!;
    return variance >= 0 ? sqrt(variance) : null;
  }

  evaluate(p: Shape, withPoint: boolean): Evaluation {
    this.evaluations++;
    const point = withPoint ? this.pointImage(p[0]!, p[1]!) : null;
    const host = this.hostImage(p);
    const fit = this.linear(point, host);
    const residual = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) {
      const model = fit.background + fit.host * host[i]! + (point === null ? 0 : fit.ps * point[i]!);
      residual[i] = this.sqrtW[i]! * (this.data[i]! - model);
    }
    // The chi2 of the residuals, not of the normal equations: the two differ by rounding only, and
    // Levenberg-Marquardt must compare like with like.
    let chi2 = 0;
    for (let i = 0; i < this.n; i++) chi2 += residual[i]! * residual[i]!;
    return { ...fit, chi2, residual };
  }
}

/** One sigma from the MAD of the ring just outside the fitted region (or its own border). */
function borderSigma(pixels: ArrayLike<number>, side: number, c: number, half: number): number {
  const r = min(half + 1, c, side - 1 - c);
  const values: number[] = [];
  for (let j = -r; j <= r; j++) {
    for (let i = -r; i <= r; i++) {
      if (max(abs(i), abs(j)) !== r) continue;
      const v = pixels[(c + j) * side + c + i]!;
      if (Number.isFinite(v)) values.push(v);
    }
  }
  values.sort((a, b) => a - b);
  const med = values[values.length >> 1] ?? 0;
  const dev = values.map((v) => abs(v - med)).sort((a, b) => a - b);
  const sigma = 1.4826 * (dev[dev.length >> 1] ?? 0);
  return sigma > 0 ? sigma : 1;
}

/**
 * A start from the light's moments inside the fitted region: centre from the brightest 3x3, size and
 * ellipticity from the second moments of the pixels above the border level, less the PSF's own.
 */
function momentStart(problem: Problem, fitSide: number, psf: Psf): Shape {
  const { data, sqrtW } = problem;
  const half = (fitSide - 1) / 2;
  const border: number[] = [];
  for (let j = 0; j < fitSide; j++) for (let i = 0; i < fitSide; i++) if ((i === 0 || j === 0 || i === fitSide - 1 || j === fitSide - 1) && sqrtW[j * fitSide + i]! > 0) border.push(data[j * fitSide + i]!);
  border.sort((a, b) => a - b);
  const level = border[border.length >> 1] ?? 0;
  let sx = 0;
  let sy = 0;
  let s = 0;
  for (let j = half - 1; j <= half + 1; j++) {
    for (let i = half - 1; i <= half + 1; i++) {
      const v = max(0, data[j * fitSide + i]! - level);
      sx += v * (i - half);
      sy += v * (j - half);
      s += v;
    }
  }
  const x = s > 0 ? sx / s : 0;
  const y = s > 0 ? sy / s : 0;
  let mxx = 0;
  let myy = 0;
  let mxy = 0;
  let total = 0;
  for (let j = 0; j < fitSide; j++) {
    for (let i = 0; i < fitSide; i++) {
      const v = data[j * fitSide + i]! - level;
      if (!(v > 0) || sqrtW[j * fitSide + i] === 0) continue;
      const dx = i - half - x;
      const dy = j - half - y;
      mxx += v * dx * dx;
      myy += v * dy * dy;
      mxy += v * dx * dy;
      total += v;
    }
  }
  const psfSecond = psfSecondMoment(psf);
  const a = total > 0 ? max(0.1, (mxx + myy) / total - psfSecond) : 1;
  // For an exponential disk <r^2> = 6 h^2 and Re = 1.68 h: Re ~ 0.69 sqrt(<r^2>), per axis sum.
  const re = 0.69 * sqrt(a);
  let e1 = 0;
  let e2 = 0;
  if (total > 0 && mxx + myy > 0) {
    e1 = (mxx - myy) / (mxx + myy);
    e2 = (2 * mxy) / (mxx + myy);
    // The moments' ellipticity (a^2 - b^2) / (a^2 + b^2) as (a - b) / (a + b), PSF-diluted; halved to start modestly.
    const chi = hypot(e1, e2);
    const eps = chi > 0 ? (1 - sqrt(max(0, 1 - chi * chi))) / chi : 0;
    const scale = chi > 0 ? (0.5 * eps) / chi : 0;
    e1 *= scale;
    e2 *= scale;
  }
  return Float64Array.from([x, y, log(min(RE_MAX, re)), 1, e1, e2]);
}

const psfMomentCache = new WeakMap<Psf, number>();

/** <x^2 + y^2> of the PSF stamp about its centre pixel, pixels squared. */
function psfSecondMoment(psf: Psf): number {
  let value = psfMomentCache.get(psf);
  if (value === undefined) {
    const half = (psf.size - 1) / 2;
    let sum = 0;
    let total = 0;
    for (let j = 0; j < psf.size; j++) {
      for (let i = 0; i < psf.size; i++) {
        const v = psf.data[j * psf.size + i]!;
        sum += v * ((i - half) ** 2 + (j - half) ** 2);
        total += v;
      }
    }
    value = sum / total;
    psfMomentCache.set(psf, value);
  }
  return value;
}

/** The shape with parameter `a` moved by its difference step, downwards where an upper bound stops it. */
function stepped(shape: Shape, a: number, bounds: Bounds): Shape {
  const h = a === 3 ? STEPS[a]! * shape[3]! : STEPS[a]!;
  const up = clampShape(Float64Array.from(shape, (v, i) => (i === a ? v + h : v)), bounds);
  return up[a] !== shape[a] ? up : clampShape(Float64Array.from(shape, (v, i) => (i === a ? v - h : v)), bounds);
}

interface LmResult {
  readonly shape: Shape;
  readonly fit: Evaluation;
}

/** Levenberg-Marquardt on the shape with the fluxes projected out. */
function levenbergMarquardt(problem: Problem, start: Shape, bounds: Bounds, withPoint: boolean, maxIterations: number): LmResult {
  let shape = clampShape(start, bounds);
  let fit = problem.evaluate(shape, withPoint);
  const k = shape.length;
  let lambda = 1e-2;
  let stalls = 0;
  for (let iteration = 0; iteration < maxIterations && stalls < 2; iteration++) {
    const jac: Float64Array[] = [];
    const steps: number[] = [];
    for (let a = 0; a < k; a++) {
      const moved = stepped(shape, a, bounds);
      const delta = moved[a]! - shape[a]!;
      steps.push(delta);
      const r = problem.evaluate(moved, withPoint).residual;
      // d(residual)/d(shape): the model enters with a minus sign.
      jac.push(delta === 0 ? new Float64Array(problem.n) : Float64Array.from(r, (v, i) => (v - fit.residual[i]!) / delta));
    }
    const jtj = new Float64Array(k * k);
    const jtr = new Float64Array(k);
    for (let a = 0; a < k; a++) {
      const ja = jac[a]!;
      for (let i = 0; i < problem.n; i++) jtr[a]! += ja[i]! * fit.residual[i]!;
      for (let b = a; b < k; b++) {
        const jb = jac[b]!;
        let s = 0;
        for (let i = 0; i < problem.n; i++) s += ja[i]! * jb[i]!;
        jtj[a * k + b] = s;
        jtj[b * k + a] = s;
      }
    }
    let improved = false;
    for (let attempt = 0; attempt < 6 && !improved; attempt++) {
      const damped = Float64Array.from(jtj);
      for (let a = 0; a < k; a++) damped[a * k + a]! += lambda * max(jtj[a * k + a]!, 1e-12);
      const step = solve(damped, Float64Array.from(jtr, (v) => -v), k);
      if (step === null) {
        lambda *= 10;
        continue;
      }
      const trialShape = clampShape(Float64Array.from(shape, (v, i) => v + step[i]!), bounds);
      const trial = problem.evaluate(trialShape, withPoint);
      if (trial.chi2 < fit.chi2) {
        const gain = fit.chi2 - trial.chi2;
        stalls = gain < 1e-4 * fit.chi2 + 1e-3 ? stalls + 1 : 0;
        shape = trialShape;
        fit = trial;
        lambda = max(1e-6, lambda / 3);
        improved = true;
      } else {
        lambda *= 4;
      }
    }
    if (!improved) break;
  }
  return { shape, fit };
}

/** Fits point source + Sérsic host and host alone to the centre of one cutout. */
export function fitSersicPsf(input: SersicPsfInput, options: SersicPsfOptions = {}): SersicPsfFit {
  const fitSide = options.fitSide ?? min(DEFAULT_FIT_SIDE, input.side % 2 === 1 ? input.side : input.side - 1);
  const maxIterations = options.maxIterations ?? 40;
  const problem = new Problem(input, fitSide);
  const moments = momentStart(problem, fitSide, input.psf);
  const bounds: Bounds = { x: moments[0]!, y: moments[1]!, minRe: options.minRe ?? DEFAULT_MIN_RE };
  // A bulge-like second start: a concentrated host is where host and point source trade light.
  const bulge = Float64Array.from(moments);
  bulge[2] = moments[2]! - 0.7;
  bulge[3] = 4;
  const better = (a: LmResult, b: LmResult) => (b.fit.chi2 < a.fit.chi2 ? b : a);
  const host = better(levenbergMarquardt(problem, moments, bounds, false, maxIterations), levenbergMarquardt(problem, bulge, bounds, false, maxIterations));
  const both = better(levenbergMarquardt(problem, host.shape, bounds, true, maxIterations), levenbergMarquardt(problem, moments, bounds, true, maxIterations));
  let pixels = 0;
  for (let i = 0; i < problem.n; i++) if (problem.sqrtW[i]! > 0) pixels++;
  const { q, pa } = axisRatio(both.shape);
  const total = both.fit.ps + both.fit.host;
  return {
    fps: total > 0 ? both.fit.ps / total : null,
    fpsError: problem.fpsError(both.shape, both.fit, bounds),
    psFlux: both.fit.ps,
    hostFlux: both.fit.host,
    background: both.fit.background,
    x: both.shape[0]!,
    y: both.shape[1]!,
    re: exp(both.shape[2]!),
    n: both.shape[3]!,
    q,
    pa,
    chi2: both.fit.chi2,
    chi2Host: host.fit.chi2,
    pixels,
    significance: sqrt(max(0, host.fit.chi2 - both.fit.chi2)),
    evaluations: problem.evaluations,
  };
}


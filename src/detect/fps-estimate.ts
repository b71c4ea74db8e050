/**
 * The point-source fraction as the catalogue reports it. The generative ratio ps_flux / total is
 * biased low where the regeneration takes part of the point source for host: the PSF's wings reach
 * the ring the generator conditions on, and a faint star's core is regenerated from them (median 0.45
 * at I_E 24-25, bias -0.30 for stars, -0.27 at f_PS 0.8 on the benchmark's grid). SPREAD_MODEL sees
 * what the ratio misses: a profile as narrow as the PSF is point-dominated whatever the regeneration
 * made of it. So f_PS is regressed on both, per magnitude, on simulated sources of known f_PS
 * (`vis-agn calibrate-fps`): a cubic in the generative ratio g and SPREAD_MODEL s (in units of 0.01)
 * for the mean, the same for the squared residual (f_ps_err), fitted in bins of consecutive magnitude
 * and interpolated linearly in magnitude between the bins' medians, as the significance maps are.
 *
 * The regression is a posterior mean under the fitting set's f_PS distribution (the grid mix: 30%
 * normal galaxies, then 0.05 ... 0.8 and stars equally): faint sources whose light says little are
 * drawn towards that distribution's mean rather than left at a noisy ratio.
 */

import { madSigma } from '../ground/stats.js';
import { FPS_FEATURES, type FpsCalibration } from '../model/card.js';

/** Inputs are held to the range the fitting sources fill, so a wild ratio cannot swing a cubic. */
const GENERATIVE_RANGE = [-0.5, 1.5] as const;
const SPREAD_RANGE = [-0.02, 0.05] as const;
const SPREAD_UNIT = 0.01;
/** f_ps_err never claims better than this: the fit's own residuals at the bright end are several times larger. */
const ERROR_FLOOR = 0.01;
/** A little ridge, so a bin whose sources fill the features unevenly still gives a well-posed fit. */
const RIDGE = 1e-3;

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

export function fpsFeatures(generativeFps: number, spread: number): number[] {
  const g = clamp(generativeFps, ...GENERATIVE_RANGE);
  const s = clamp(spread, ...SPREAD_RANGE) / SPREAD_UNIT;
  return [1, g, s, g * g, s * s, g * s, g * g * g, s * s * s];
}

const dot = (weights: readonly number[], features: readonly number[]) => features.reduce((sum, x, k) => sum + x * weights[k]!, 0);

/** `value(bin)` interpolated linearly in magnitude between the bins' medians, held at the ends. */
function interpolate(calibration: FpsCalibration, magnitude: number, value: (bin: number) => number): number {
  const { magnitudes } = calibration;
  const last = magnitudes.length - 1;
  if (!(magnitude > magnitudes[0]!)) return value(0);
  if (magnitude >= magnitudes[last]!) return value(last);
  let hi = 1;
  while (magnitudes[hi]! < magnitude) hi++;
  const weight = (magnitude - magnitudes[hi - 1]!) / (magnitudes[hi]! - magnitudes[hi - 1]!);
  return (1 - weight) * value(hi - 1) + weight * value(hi);
}

export interface FpsEstimate {
  readonly fPs: number;
  readonly fPsErr: number;
}

/** f_PS and its error for a source of generative ratio `generativeFps`, SPREAD_MODEL `spread` and Kron I_E `magnitude`. */
export function estimateFps(calibration: FpsCalibration, generativeFps: number, spread: number, magnitude: number): FpsEstimate {
  const x = fpsFeatures(generativeFps, spread);
  const mean = interpolate(calibration, magnitude, (b) => dot(calibration.mean[b]!, x));
  const variance = interpolate(calibration, magnitude, (b) => dot(calibration.variance[b]!, x));
  return { fPs: clamp(mean, 0, 1), fPsErr: Math.sqrt(Math.max(ERROR_FLOOR * ERROR_FLOOR, variance)) };
}

/** Ridge least squares by the normal equations (a handful of features, thousands of rows). */
function leastSquares(rows: readonly (readonly number[])[], targets: readonly number[]): number[] {
  const p = rows[0]!.length;
  const a = Array.from({ length: p }, () => new Float64Array(p));
  const b = new Float64Array(p);
  rows.forEach((x, k) => {
    for (let i = 0; i < p; i++) {
      b[i]! += x[i]! * targets[k]!;
      for (let j = 0; j < p; j++) a[i]![j]! += x[i]! * x[j]!;
    }
  });
  for (let i = 0; i < p; i++) a[i]![i]! += RIDGE * rows.length;
  // Gaussian elimination with partial pivoting.
  for (let i = 0; i < p; i++) {
    let pivot = i;
    for (let r = i + 1; r < p; r++) if (Math.abs(a[r]![i]!) > Math.abs(a[pivot]![i]!)) pivot = r;
    [a[i], a[pivot]] = [a[pivot]!, a[i]!];
    [b[i], b[pivot]] = [b[pivot]!, b[i]!];
    for (let r = i + 1; r < p; r++) {
      const factor = a[r]![i]! / a[i]![i]!;
      for (let c = i; c < p; c++) a[r]![c]! -= factor * a[i]![c]!;
      b[r]! -= factor * b[i]!;
    }
  }
  const w = new Array<number>(p).fill(0);
  for (let i = p - 1; i >= 0; i--) {
    let sum = b[i]!;
    for (let c = i + 1; c < p; c++) sum -= a[i]![c]! * w[c]!;
    w[i] = sum / a[i]![i]!;
  }
  return w;
}

/**
 * ps_flux_err before its calibration: the spread of the regenerations' PSF amplitudes, widened by the
 * residual scale where the source's residual off the PSF says the generator judged it too narrowly.
 * Alone, that spread is about half the true scatter of ps_flux for bright AGN (pull width 2.0 at
 * I_E 19-21, 1.9 at 21-23 on 4,000 grid sources of seed 29 with v4); widened, 1.05 and 1.2-1.5.
 * A scale below 1 (a residual off the PSF smaller than the spread, by chance) is not taken as a
 * better measurement: multiplied by it, the faint galaxies' pulls widened from 0.95 to 1.21.
 */
export function psFluxBaseError(raw: { readonly psFluxErr: number; readonly residualScale: number }): number {
  return raw.psFluxErr * Math.max(1, raw.residualScale);
}

/**
 * ps_flux_err as the catalogue reports it: the base error times the card's factor at the source's
 * magnitude (interpolated as the regression is); the regenerations' spread alone where the card
 * has no factor.
 */
export function psFluxError(calibration: FpsCalibration | undefined, raw: { readonly psFluxErr: number; readonly residualScale: number }, magnitude: number): number {
  const scales = calibration?.ps_flux_err_scale;
  if (calibration === undefined || scales === undefined || !Number.isFinite(magnitude)) return raw.psFluxErr;
  return psFluxBaseError(raw) * interpolate(calibration, magnitude, (b) => scales[b]!);
}

/** A simulated source as the regression sees it: its true f_PS (1 for a star) and what was measured. */
export interface FpsSample {
  readonly trueFps: number;
  readonly generativeFps: number;
  readonly spread: number;
  readonly magnitude: number;
  /** The point source's flux as measured, its base error (psFluxBaseError) and the truth, image units. */
  readonly psFlux: number;
  readonly psFluxBaseError: number;
  readonly truePsFlux: number;
}

export interface FpsFit {
  readonly calibration: FpsCalibration & { readonly ps_flux_err_scale: readonly number[] };
  /** Sources per magnitude bin, in the order of `calibration.magnitudes`. */
  readonly binSources: readonly number[];
  /** Per bin, the RMS of the fitted f_PS against the truth on the fitting sources of 0 < f_PS < 1. */
  readonly binRmse: readonly number[];
}

/** Pulls narrower than this are not believed: a bin of sources measured better than the regenerations' spread says is a fluke of the bin. */
const PS_FLUX_ERR_SCALE_FLOOR = 0.5;

/**
 * The regression on `samples` (those with a finite ratio, SPREAD_MODEL and magnitude), in bins of
 * `perBin` consecutive sources in magnitude (the last takes the remainder; one bin if there are fewer
 * than twice `perBin`).
 */
export function fitFps(samples: readonly FpsSample[], perBin: number): FpsFit {
  const usable = samples.filter((s) => [s.trueFps, s.generativeFps, s.spread, s.magnitude].every(Number.isFinite)).sort((a, b) => a.magnitude - b.magnitude);
  if (perBin < 100) throw new RangeError(`an f_PS magnitude bin needs at least 100 sources, got ${perBin}`);
  if (usable.length < perBin) throw new RangeError(`fitting f_PS needs at least ${perBin} sources with a ratio, a SPREAD_MODEL and a magnitude, got ${usable.length}`);
  const bins = Math.max(1, Math.floor(usable.length / perBin));
  const groups = Array.from({ length: bins }, (_, b) => usable.slice(b * perBin, b === bins - 1 ? usable.length : (b + 1) * perBin));
  const fits = groups.map((group) => {
    const x = group.map((s) => fpsFeatures(s.generativeFps, s.spread));
    const truth = group.map((s) => clamp(s.trueFps, 0, 1));
    const mean = leastSquares(x, truth);
    const squaredResidual = x.map((row, k) => (clamp(dot(mean, row), 0, 1) - truth[k]!) ** 2);
    const pulls = group.filter((s) => s.psFluxBaseError > 0 && Number.isFinite(s.psFlux) && Number.isFinite(s.truePsFlux)).map((s) => (s.psFlux - s.truePsFlux) / s.psFluxBaseError);
    const errorScale = pulls.length >= 2 ? Math.max(PS_FLUX_ERR_SCALE_FLOOR, madSigma(pulls)) : 1;
    return { mean, variance: leastSquares(x, squaredResidual), errorScale };
  });
  const calibration = {
    features: FPS_FEATURES,
    magnitudes: groups.map((group) => group[Math.floor(group.length / 2)]!.magnitude),
    mean: fits.map((f) => f.mean),
    variance: fits.map((f) => f.variance),
    ps_flux_err_scale: fits.map((f) => f.errorScale),
  };
  const binRmse = groups.map((group) => {
    const agn = group.filter((s) => s.trueFps > 0 && s.trueFps < 1);
    const errors = agn.map((s) => estimateFps(calibration, s.generativeFps, s.spread, s.magnitude).fPs - s.trueFps);
    return Math.sqrt(errors.reduce((sum, e) => sum + e * e, 0) / Math.max(1, errors.length));
  });
  return { calibration, binSources: groups.map((g) => g.length), binRmse };
}

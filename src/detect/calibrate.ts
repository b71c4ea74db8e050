/**
 * The significance calibration: on held-out simulated normal galaxies the z of the core excess (the PSF
 * flux of the residual over the samples' spread, Gaussianised through the Student-t map) is close to,
 * but not exactly, N(0, 1): the generator's spread is only as good as its training. The affine map fitted here, z' = (z - median) / half the central
 * 68% width, makes the bulk N(0, 1) without letting the tails (where candidates are) pull the fit.
 */

import type { CoreGenerator } from '../model/generator.js';
import type { Shards } from '../sim/read-shards.js';
import { quantileOf } from '../ground/stats.js';
import { upperTailPValue } from './core-scores.js';
import type { SignificanceCalibration } from '../model/card.js';
import { applySignificanceCalibration, UNCALIBRATED, type SamplingOptions } from './detect.js';
import { scoreShards } from './shards.js';

export interface SignificanceFit extends SignificanceCalibration {
  readonly galaxies: number;
  /** Fraction of the galaxies above agn_z = 3 after calibration, on the fitting set itself. */
  readonly aboveThree: number;
}

/** One-sigma quantiles of N(0, 1). */
const LOWER_SIGMA = 0.15865525393145707;
const UPPER_SIGMA = 0.8413447460685429;

/** Knots every quarter sigma, where at least this many galaxies lie beyond the knot's quantile. */
const KNOT_STEP = 0.25;
const KNOT_TAIL_COUNT = 5;

function gaussianCdf(z: number): number {
  return 1 - upperTailPValue(z);
}

export function fitSignificance(rawZ: readonly number[]): SignificanceFit {
  if (rawZ.length < 100) throw new RangeError(`calibrating the significance needs at least 100 galaxies, got ${rawZ.length}`);
  const sorted = Float64Array.from(rawZ).sort();
  const offset = quantileOf(sorted, 0.5);
  const scale = (quantileOf(sorted, UPPER_SIGMA) - quantileOf(sorted, LOWER_SIGMA)) / 2;
  const from: number[] = [];
  const to: number[] = [];
  for (let z = -6; z <= 6; z += KNOT_STEP) {
    const p = gaussianCdf(z);
    if (Math.min(p, 1 - p) * sorted.length < KNOT_TAIL_COUNT) continue;
    const q = quantileOf(sorted, p);
    // Ties in the sample would make the map flat or decreasing; a knot must move on.
    if (from.length > 0 && !(q > from[from.length - 1]!)) continue;
    from.push(q);
    to.push(z);
  }
  const calibration = { offset, scale, knots: { from, to } };
  const aboveThree = rawZ.filter((z) => applySignificanceCalibration(z, calibration) > 3).length / rawZ.length;
  return { ...calibration, galaxies: rawZ.length, aboveThree };
}

/** Uncalibrated (Gaussianised) z of the first `limit` normal galaxies of `shards` (truth class 'galaxy'). */
export async function rawGalaxyZ(generator: CoreGenerator, shards: Shards, sampling: SamplingOptions, rmsToSigma: number, limit: number, onProgress?: (done: number, total: number) => void): Promise<number[]> {
  const galaxies = shards.truth.flatMap((t, i) => (t.cls === 'galaxy' ? [i] : [])).slice(0, limit);
  const scored = await scoreShards(generator, shards, { sampling, calibration: UNCALIBRATED, rmsToSigma, ...(onProgress === undefined ? {} : { onProgress }) }, galaxies);
  return scored.flatMap((s) => (s.scores === undefined || !Number.isFinite(s.scores.agnZ) ? [] : [s.scores.agnZ]));
}

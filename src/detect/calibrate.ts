/**
 * The significance calibration: on held-out simulated normal galaxies the raw z of the core excess (the
 * PSF's matched filter through the regenerations' covariance, or on older cards the PSF flux of the
 * residual over the samples' spread through the Student-t map) is not N(0, 1): the generator's spread is
 * only as good as its training, and the matched filter's tail is heavy. The map fitted here sends the
 * galaxies' quantiles to N(0, 1)'s (beyond the outermost knots with the slope of the tail's own last
 * sigma, so the few tail galaxies do not pull it), once for all galaxies and once
 * per magnitude bin: the tail of normal galaxies differs with magnitude (a compact galaxy looks like a
 * point source only where its core is bright enough to show it), and one map for all magnitudes would
 * let the worst bin set the false-positive rate of every other.
 */

import type { CoreGenerator } from '../model/generator.js';
import type { Shards } from '../sim/read-shards.js';
import { quantileOf } from '../ground/stats.js';
import { upperTailPValue } from './core-scores.js';
import type { GenerativeStatistic, ScoreCalibration, SignificanceCalibration, SignificanceMap } from '../model/card.js';
import { fluxToMag, magToFlux } from '../ground/vis.js';
import { applySignificanceCalibration, combinedRawZ, morphologyRawZ, UNCALIBRATED, type SamplingOptions } from './detect.js';
import { scoreShards } from './shards.js';
import { psFluxBaseError, type FpsSample } from './fps-estimate.js';

export interface SignificanceFit extends SignificanceMap {
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
/**
 * Beyond the outermost knots the map continues with the slope of the last sigma of knots on that side:
 * a heavy tail (the matched filter's on normal galaxies) keeps its own, wider spacing there, where the
 * central width made tail galaxies look more significant than any source the morphology test finds.
 */
const TAIL_SLOPE_KNOTS = 1 / KNOT_STEP;

function gaussianCdf(z: number): number {
  return 1 - upperTailPValue(z);
}

export function fitSignificance(rawZ: readonly number[]): SignificanceFit {
  if (rawZ.length < 100) throw new RangeError(`calibrating the significance needs at least 100 galaxies, got ${rawZ.length}`);
  const calibration = fitMap(rawZ);
  return { ...calibration, galaxies: rawZ.length, aboveThree: rawZ.filter((z) => applySignificanceCalibration(z, calibration) > 3).length / rawZ.length };
}

function fitMap(rawZ: readonly number[]): SignificanceMap {
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
  if (from.length < 2) return { offset, scale, knots: { from, to } };
  const span = Math.min(TAIL_SLOPE_KNOTS, from.length - 1);
  const last = from.length - 1;
  const slope = (i: number, j: number) => (from[j]! - from[i]!) / (to[j]! - to[i]!);
  return { offset, scale, knots: { from, to, tail_scales: { lower: slope(0, span), upper: slope(last - span, last) } } };
}

/** A normal galaxy's raw (Gaussianised) z and the I_E of its total flux (NaN where that flux is not positive). */
export interface GalaxyZ {
  readonly z: number;
  readonly magnitude: number;
}

/** A normal galaxy as the three calibrations see it: its raw generative z, its SPREAD_MODEL and magnitude. */
export interface GalaxyScores extends GalaxyZ {
  readonly spread: number;
}

export interface MagnitudeFit extends SignificanceFit {
  readonly by_magnitude?: NonNullable<SignificanceCalibration['by_magnitude']>;
  /** Galaxies per magnitude bin, in the order of `by_magnitude`. */
  readonly binGalaxies: readonly number[];
  /** Per magnitude bin, the fraction above agn_z = 3 on the fitting set. */
  readonly binAboveThree: readonly number[];
}

/**
 * The map for all galaxies and, where there are at least twice `perBin` galaxies with a magnitude,
 * one per bin of `perBin` consecutive galaxies in magnitude (the last bin takes the remainder),
 * placed at each bin's median magnitude. `perBin` 0 fits the map for all only.
 */
export function fitSignificanceByMagnitude(galaxies: readonly GalaxyZ[], perBin: number): MagnitudeFit {
  const all = fitSignificance(galaxies.map((g) => g.z));
  const measured = galaxies.filter((g) => Number.isFinite(g.magnitude)).sort((a, b) => a.magnitude - b.magnitude);
  const bins = perBin > 0 ? Math.floor(measured.length / perBin) : 0;
  if (bins < 2) return { ...all, binGalaxies: [], binAboveThree: [] };
  if (perBin < 100) throw new RangeError(`a magnitude bin needs at least 100 galaxies, got ${perBin}`);
  const groups = Array.from({ length: bins }, (_, b) => measured.slice(b * perBin, b === bins - 1 ? measured.length : (b + 1) * perBin));
  const maps = groups.map((group) => fitMap(group.map((g) => g.z)));
  const magnitudes = groups.map((group) => group[Math.floor(group.length / 2)]!.magnitude);
  const calibration: SignificanceCalibration = { ...all, by_magnitude: { magnitudes, maps } };
  const above = (group: readonly GalaxyZ[]) => group.filter((g) => applySignificanceCalibration(g.z, calibration, g.magnitude) > 3).length / group.length;
  return { ...all, by_magnitude: calibration.by_magnitude!, aboveThree: above(galaxies), binGalaxies: groups.map((g) => g.length), binAboveThree: groups.map(above) };
}

/** The generative (agn_z), morphology (morph_z) and combined (combined_z) calibrations, fitted on the same galaxies. */
export interface ScoreFit {
  readonly generative: MagnitudeFit;
  readonly morphology: MagnitudeFit;
  readonly combined: MagnitudeFit;
}

/**
 * I_E from which combined_z leaves the generative test out: fainter, it rarely sees what the morphology
 * test does not, and taking the larger of the two only raised the threshold (chosen on independent
 * grids with the studentised matched filter, docs/detection.md; 23 with the matched filter alone).
 */
export const DEFAULT_GENERATIVE_FAINT_LIMIT = 24;

/**
 * The three calibrations in turn: the combined score takes the larger of the two calibrated tests
 * (morph_z alone from `generativeFaintLimit` on), so its map is fitted on the galaxies' agn_z and
 * morph_z as the first two maps make them. Galaxies without a finite SPREAD_MODEL take part in the
 * generative map only.
 */
export function fitScoreCalibration(galaxies: readonly GalaxyScores[], perBin: number, generativeFaintLimit = Number.POSITIVE_INFINITY): ScoreFit {
  const generative = fitSignificanceByMagnitude(galaxies, perBin);
  const measured = galaxies.filter((g) => Number.isFinite(g.spread));
  const morphology = fitSignificanceByMagnitude(
    measured.map((g) => ({ z: morphologyRawZ(g.spread), magnitude: g.magnitude })),
    perBin,
  );
  const combined = fitSignificanceByMagnitude(
    measured.map((g) => ({
      z: combinedRawZ(applySignificanceCalibration(g.z, generative, g.magnitude), applySignificanceCalibration(morphologyRawZ(g.spread), morphology, g.magnitude), g.magnitude, generativeFaintLimit),
      magnitude: g.magnitude,
    })),
    perBin,
  );
  return { generative, morphology, combined };
}

/**
 * SPREAD_MODEL's radius (px) for calibrations fitted from now on: near the core the point source
 * dominates, where over 5 px the host's light dilutes it; smaller than 2 px the statistic saturates at
 * the few unresolved galaxies (chosen on an independent grid, docs/detection.md).
 */
export const DEFAULT_SPREAD_RADIUS = 2;

/**
 * The generative statistic calibrations fitted from now on take: the matched filter uses the
 * regenerations' covariance where the projection uses only their spread along the PSF, and its
 * studentised form scales it by what the residual off the PSF says of each source (both chosen on
 * independent grids, docs/detection.md).
 */
export const DEFAULT_GENERATIVE_STATISTIC: GenerativeStatistic = 'studentised_matched_filter';
/**
 * The share of a source's light a normal galaxy's nucleus may hold in the generative test's null: the
 * literature's ceiling for a nuclear star cluster (docs/detection.md, "The nucleus allowance").
 */
export const DEFAULT_NUCLEUS_ALLOWANCE = 0.05;

/** Scores that are not yet calibrated, with SPREAD_MODEL over `morphologyRadius` (the card's, or the unrecorded default, when undefined) and agn_z the raw `statistic`. */
function uncalibrated(morphologyRadius: number | undefined, statistic?: GenerativeStatistic, nucleusAllowance = 0): ScoreCalibration {
  return {
    ...UNCALIBRATED,
    ...(morphologyRadius === undefined ? {} : { morphology_radius: morphologyRadius }),
    ...(statistic === undefined ? {} : { generative_statistic: statistic }),
    ...(nucleusAllowance > 0 ? { nucleus_allowance: nucleusAllowance } : {}),
  };
}

/** Raw generative z (`statistic`), SPREAD_MODEL (over `morphologyRadius`) and magnitude of the first `limit` normal galaxies of `shards` (truth class 'galaxy'). */
export async function rawGalaxyScores(
  generator: CoreGenerator,
  shards: Shards,
  sampling: SamplingOptions,
  rmsToSigma: number,
  limit: number,
  morphologyRadius: number | undefined,
  statistic: GenerativeStatistic,
  onProgress?: (done: number, total: number) => void,
  nucleusAllowance = 0,
): Promise<GalaxyScores[]> {
  const galaxies = shards.truth.flatMap((t, i) => (t.cls === 'galaxy' ? [i] : [])).slice(0, limit);
  const scored = await scoreShards(generator, shards, { sampling, calibration: uncalibrated(morphologyRadius, statistic, nucleusAllowance), rmsToSigma, ...(onProgress === undefined ? {} : { onProgress }) }, galaxies);
  return scored.flatMap((s) =>
    s.scores === undefined || !Number.isFinite(s.scores.agnZ)
      ? []
      : [{ z: s.scores.agnZ, spread: s.scores.spreadModel, magnitude: s.prepared.totalFlux > 0 ? fluxToMag(s.prepared.totalFlux) : Number.NaN }],
  );
}

/**
 * Every scorable stamp of `shards` as the f_PS regression sees it (fps-estimate.ts): true f_PS (1 for
 * a star), the generative ratio, SPREAD_MODEL (over `morphologyRadius`) and the Kron magnitude. Scored
 * without any calibration, so the ratio is the generative one whatever the card holds.
 */
export async function fpsSamples(generator: CoreGenerator, shards: Shards, sampling: SamplingOptions, rmsToSigma: number, morphologyRadius: number | undefined, onProgress?: (done: number, total: number) => void): Promise<FpsSample[]> {
  const scored = await scoreShards(generator, shards, { sampling, calibration: uncalibrated(morphologyRadius), rmsToSigma, ...(onProgress === undefined ? {} : { onProgress }) });
  return scored.flatMap((s) => {
    if (s.scores?.fPsGenerative == null || !(s.prepared.totalFlux > 0)) return [];
    const trueFps = s.truth.cls === 'star' ? 1 : s.truth.fps;
    return [
      {
        trueFps,
        generativeFps: s.scores.fPsGenerative,
        spread: s.scores.spreadModel,
        magnitude: fluxToMag(s.prepared.totalFlux),
        psFlux: s.scores.psFlux,
        psFluxBaseError: psFluxBaseError(s.scores),
        truePsFlux: trueFps * magToFlux(s.truth.mag),
      },
    ];
  });
}

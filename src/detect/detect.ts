/**
 * Detection for a batch of prepared sources: regenerate each core S times (the encoder once per
 * source, batched), score the observed core against the samples, calibrate the significance and
 * classify. The sampler's starting noise comes from (run seed, object id), so a source's scores do
 * not depend on batch, worker or run shard.
 */

import type { GenerativeStatistic, ScoreCalibration, SignificanceCalibration, SignificanceMap } from '../model/card.js';
import { fluxToMag } from '../ground/vis.js';
import type { CoreGenerator } from '../model/generator.js';
import { samplerNoise } from '../model/noise.js';
import type { FlowSolverOptions } from '../model/sampler.js';
import { psfCoreWeights, psfWeightedFlux } from '../model/core-flux.js';
import { scoreCore, upperTailPValue, type CoreScores } from './core-scores.js';
import { spreadModel } from './morphology.js';
import { placePsf, secantAmplitude, subtractPointSource, type FittedPointSource } from './joint-fit.js';
import { kronFlux, type PreparedSource } from './prepare.js';
import type { PsfStamp } from '../ground/psf.js';
import { gaussianisedZ } from './significance.js';
import { estimateFps, psFluxError } from './fps-estimate.js';

function applyMap(z: number, map: SignificanceMap): number {
  const { knots, scale } = map;
  if (knots === undefined || knots.from.length < 2) return (z - map.offset) / scale;
  const { from, to } = knots;
  const last = from.length - 1;
  if (z <= from[0]!) return to[0]! + (z - from[0]!) / (knots.tail_scales?.lower ?? scale);
  if (z >= from[last]!) return to[last]! + (z - from[last]!) / (knots.tail_scales?.upper ?? scale);
  let hi = 1;
  while (from[hi]! < z) hi++;
  const lo = hi - 1;
  return to[lo]! + ((z - from[lo]!) * (to[hi]! - to[lo]!)) / (from[hi]! - from[lo]!);
}

/**
 * The calibrated agn_z of a Gaussianised z. `magnitude` (I_E of the source's total flux) picks the
 * card's per-magnitude maps where it has them: a weighted mean of two monotone maps, so still
 * monotone in z at any magnitude.
 */
export function applySignificanceCalibration(z: number, calibration: SignificanceCalibration, magnitude = Number.NaN): number {
  const perMagnitude = calibration.by_magnitude;
  if (perMagnitude === undefined || perMagnitude.maps.length === 0 || !Number.isFinite(magnitude)) return applyMap(z, calibration);
  const { magnitudes, maps } = perMagnitude;
  const last = magnitudes.length - 1;
  if (magnitude <= magnitudes[0]!) return applyMap(z, maps[0]!);
  if (magnitude >= magnitudes[last]!) return applyMap(z, maps[last]!);
  let hi = 1;
  while (magnitudes[hi]! < magnitude) hi++;
  const weight = (magnitude - magnitudes[hi - 1]!) / (magnitudes[hi]! - magnitudes[hi - 1]!);
  return (1 - weight) * applyMap(z, maps[hi - 1]!) + weight * applyMap(z, maps[hi]!);
}

export const UNCALIBRATED: SignificanceCalibration = { offset: 0, scale: 1 };

/**
 * The generative test's raw z (what agn_z calibrates), as the card's `generative_statistic` names it:
 * the PSF's matched filter through the regenerations' covariance, studentised by the residual
 * orthogonal to the PSF or not, or, for cards calibrated before either (no `generative_statistic`) or
 * with 'projection', the excess along the PSF over the samples' spread through the Student-t map
 * (docs/detection.md). The matched filters less what a nucleus of `nucleusAllowance` of `totalFlux`
 * would give them: a point source no brighter than a nuclear star cluster is not an AGN.
 */
export function generativeRawZ(
  raw: Pick<CoreScores, 'z' | 'matchedZ' | 'matchedZPerFlux' | 'studentisedZ' | 'residualScale'>,
  sampleCount: number,
  statistic: GenerativeStatistic | undefined,
  nucleusAllowance = 0,
  totalFlux = 0,
): number {
  const allowed = nucleusAllowance > 0 && totalFlux > 0 ? nucleusAllowance * totalFlux * raw.matchedZPerFlux : 0;
  switch (statistic) {
    case 'studentised_matched_filter':
      return allowed === 0 ? raw.studentisedZ : (raw.matchedZ - allowed) / raw.residualScale;
    case 'matched_filter':
      return raw.matchedZ - allowed;
    default:
      return gaussianisedZ(raw.z, sampleCount);
  }
}

/**
 * The morphology statistic's raw significance: a point source lowers SPREAD_MODEL towards 0, so the
 * less spread, the more significant (its calibration refers it to normal galaxies of the magnitude).
 */
export function morphologyRawZ(spread: number): number {
  return -spread;
}

/**
 * The combined score's raw value: a source is as significant as the more significant of its two
 * calibrated tests. The generative test sees a point source its host's ring does not predict; the
 * morphology test sees a profile as narrow as the PSF where the regenerations' spread swamps the core
 * (faint sources, stars the generator takes for compact galaxies). Its own calibration pays for
 * taking the larger of two. From `generativeFaintLimit` (I_E) on, where the regenerations' spread
 * leaves the generative test little power, it is left out: there it would only raise the threshold
 * the morphology test must pass (docs/detection.md); a source without a magnitude keeps both.
 */
export function combinedRawZ(agnZ: number, morphZ: number, magnitude = Number.NaN, generativeFaintLimit = Number.POSITIVE_INFINITY): number {
  return magnitude >= generativeFaintLimit ? morphZ : Math.max(agnZ, morphZ);
}

export interface Thresholds {
  /** The selection score (selectionZ) above which a source is a candidate. */
  readonly z: number;
  /** f_PS from which a candidate is called a QSO rather than an AGN. */
  readonly qsoFps: number;
  /** f_PS from which a candidate is point-like (a star, or a QSO whose host VIS cannot see). */
  readonly pointLikeFps: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { z: 3, qsoFps: 0.5, pointLikeFps: 0.9 };

/** The classes `classify` gives, in the order of the catalogue's `candidate_class` dictionary. */
export const CANDIDATE_CLASSES = ['agn', 'qso', 'point_like', 'none'] as const;
export type CandidateClass = (typeof CANDIDATE_CLASSES)[number];

export interface Classification {
  readonly candidateClass: CandidateClass;
  readonly isCandidate: boolean;
}

/**
 * The score candidates are selected on: combined_z where the card calibrates it (the generative and
 * the morphology test, docs/detection.md), else the generative agn_z alone.
 */
export function selectionZ(scores: Pick<SourceScores, 'agnZ' | 'combinedZ'>): number {
  return Number.isFinite(scores.combinedZ) ? scores.combinedZ : scores.agnZ;
}

/**
 * Point-like sources carry a significant excess too, but a star and a host-less QSO look the same in
 * VIS alone: they are classed apart and left out of the AGN/QSO candidates. `z` is the selection score.
 * f_PS decides between the classes; where the card has the f_PS regression, it already weighs the
 * profile (a faint star's generative ratio alone is 0.45 at I_E 24-25, fps-estimate.ts).
 */
export function classify(z: number | null, fPs: number | null, thresholds: Thresholds): Classification {
  if (z === null || !(z > thresholds.z)) return { candidateClass: 'none', isCandidate: false };
  if (fPs !== null && fPs >= thresholds.pointLikeFps) return { candidateClass: 'point_like', isCandidate: false };
  if (fPs !== null && fPs >= thresholds.qsoFps) return { candidateClass: 'qso', isCandidate: true };
  return { candidateClass: 'agn', isCandidate: true };
}

/** Sources whose fitted point source is below this share of the core's own PSF amplitude are tried as all point source too. */
const CEILING_TRIED_BELOW = 0.9;
/**
 * The host left under an all-point-source core may hold this share of the core plus this many of its
 * own spreads: a PSF placed to a tenth of a pixel still leaves a few per cent (measured on simulated
 * stars with the Q1 PSFs; 0.05 and 2 kept the galaxies' 99th percentile where it was, docs/model.md).
 */
const CEILING_HOST_SHARE = 0.05;
const CEILING_HOST_SIGMAS = 2;

export interface SamplingOptions {
  readonly samples: number;
  readonly solver: FlowSolverOptions;
  readonly seed: number;
  readonly temperature?: number;
  /**
   * Fit the point source jointly with the host (joint-fit.ts): two more regenerations for each source
   * with a positive excess. Off, the host is regenerated once from the context as observed. Default:
   * the model card's choice, which its calibration was fitted with.
   */
  readonly jointFit?: boolean;
}

export interface SourceScores extends CoreScores {
  readonly agnZ: number;
  readonly agnPValue: number;
  /**
   * f_PS: the card's regression on the generative ratio and SPREAD_MODEL (fps-estimate.ts) where the
   * card has one, else the generative ratio; null when the total flux is not positive or below the regenerations' spread of ps_flux.
   */
  readonly fPs: number | null;
  readonly fPsErr: number | null;
  /** ps_flux / total flux, the generative measurement f_PS is estimated from; null as fPs. */
  readonly fPsGenerative: number | null;
  /** SPREAD_MODEL around the core (morphology.ts), with the PSF at the sub-pixel peak. */
  readonly spreadModel: number;
  /** Calibrated significance of -spreadModel; NaN where the card has no morphology calibration. */
  readonly morphZ: number;
  /** Calibrated significance of the larger of agnZ and morphZ; NaN where the card has no combined calibration. */
  readonly combinedZ: number;
  /** samples x core pixels, image units: kept for inspection. */
  readonly samples: Float32Array;
  /**
   * The point source the joint fit subtracted from the crop before the regeneration the scores come
   * from (contextWithoutPointSource gives that crop); undefined where the host was regenerated from the
   * crop as observed (the joint fit off, or no positive excess to fit). Kept for inspection.
   */
  readonly pointSource?: FittedPointSource;
}

/**
 * The generative test's raw z (generativeRawZ: the card's statistic), then the calibration fitted on
 * normal galaxies; morph_z and combined_z through their own maps; f_PS from the projection's ps_flux.
 */
export function calibrate(raw: CoreScores, prepared: PreparedSource, calibration: ScoreCalibration, samples: Float32Array, spread = Number.NaN, total = prepared.totalFlux): SourceScores {
  const sampleCount = samples.length / prepared.observedCore.length;
  // The calibration maps are keyed by the Kron magnitude they were fitted with, whatever f_PS divides by.
  const magnitude = prepared.totalFlux > 0 ? fluxToMag(prepared.totalFlux) : Number.NaN;
  const agnZ = applySignificanceCalibration(generativeRawZ(raw, sampleCount, calibration.generative_statistic, calibration.nucleus_allowance, prepared.totalFlux), calibration, magnitude);
  const morphZ = calibration.morphology === undefined || !Number.isFinite(spread) ? Number.NaN : applySignificanceCalibration(morphologyRawZ(spread), calibration.morphology, magnitude);
  const combinedZ = calibration.combined === undefined || !Number.isFinite(morphZ) ? Number.NaN : applySignificanceCalibration(combinedRawZ(agnZ, morphZ, magnitude, calibration.generative_faint_limit), calibration.combined, magnitude);
  // A total flux below the point-source flux's own uncertainty leaves the ratio undefined (a faint
  // galaxy's Kron flux near zero gave f_ps of -20), not absurd: no f_ps rather than a withheld row.
  const measurable = Number.isFinite(total) && total > 0 && raw.psFluxErr <= total;
  const fPsGenerative = measurable ? raw.psFlux / total : null;
  const regressed = fPsGenerative !== null && calibration.f_ps !== undefined && Number.isFinite(spread) && Number.isFinite(magnitude) ? estimateFps(calibration.f_ps, fPsGenerative, spread, magnitude) : undefined;
  const psFluxErr = psFluxError(calibration.f_ps, raw, magnitude);
  return {
    ...raw,
    psFluxErr,
    agnZ,
    agnPValue: upperTailPValue(agnZ),
    fPs: regressed?.fPs ?? fPsGenerative,
    fPsErr: regressed?.fPsErr ?? (measurable ? psFluxErr / total : null),
    fPsGenerative,
    spreadModel: spread,
    morphZ,
    combinedZ,
    samples,
  };
}

/**
 * The total flux f_PS divides by: the point source's own (ps_flux is a PSF fit, so all of its light)
 * plus the host's Kron flux with that point source removed. The Kron flux of the source as observed
 * loses the PSF's wings beyond the aperture, and a bright point source shrinks the aperture on its
 * host too: at I_E < 21.5 it gave simulated stars f_PS 1.05, and sources of f_PS 0.5 a median 0.58.
 */
export function pointSourcePlusHostFlux(prepared: PreparedSource, side: number, psf: PsfStamp, psFlux: number): number {
  if (!(psFlux > 0)) return prepared.totalFlux;
  // A host measured below nothing (noise, or a PSF removed at more than its flux) leaves the point
  // source alone; unclamped, f_PS reached 24 on 3 of 100,000 simulated sources.
  return psFlux + Math.max(0, kronFlux(subtractPointSource(prepared.crop, side, psf, psFlux), side));
}

/**
 * Scores of `sources` (undefined where a source is not scorable), in order. The generator runs on the
 * scorable ones only, as one batch.
 */
/** Told the milliseconds each stage of a batch took (the benchmarks break the time down with it). */
export type StageTimer = (stage: 'encoder' | 'denoiser' | 'scoring', ms: number) => void;

export async function detectBatch(
  generator: CoreGenerator,
  sources: readonly { readonly prepared: PreparedSource; readonly objectId: bigint }[],
  options: SamplingOptions,
  calibration: ScoreCalibration,
  onStage?: StageTimer,
): Promise<(SourceScores | undefined)[]> {
  const chosen = sources.map((s, i) => ({ ...s, index: i })).filter((s) => s.prepared.scorable);
  const results: (SourceScores | undefined)[] = new Array(sources.length).fill(undefined);
  if (chosen.length === 0) return results;
  const crop = generator.crop;
  const pixels = generator.corePixels;
  const S = options.samples;
  const jointFit = options.jointFit ?? generator.jointFit;
  let clock = performance.now();
  const lap = (stage: Parameters<StageTimer>[0]) => {
    const now = performance.now();
    onStage?.(stage, now - clock);
    clock = now;
  };
  /** S cores per source of `group` (indices into `chosen`) from the crops `cropOf` gives (by index and position in `group`). */
  const regenerate = async (group: readonly number[], cropOf: (k: number, g: number) => Float32Array): Promise<Float32Array> => {
    if (group.length === 0) return new Float32Array(0);
    const crops = new Float32Array(group.length * crop * crop);
    const sigma = new Float32Array(group.length);
    const noise = new Float32Array(group.length * S * pixels);
    group.forEach((k, g) => {
      const s = chosen[k]!;
      crops.set(cropOf(k, g), g * crop * crop);
      sigma[g] = s.prepared.sigma;
      samplerNoise(options.seed, s.objectId, S, pixels, noise.subarray(g * S * pixels, (g + 1) * S * pixels));
    });
    const encoded = await generator.encode(crops, sigma);
    lap('encoder');
    const cores = await generator.sample(encoded, S, noise, options.solver, options.temperature);
    lap('denoiser');
    return cores;
  };
  // The PSF where the light peaks within the core pixel: for SPREAD_MODEL, and for the joint fit's core flux too.
  const psfs = chosen.map(({ prepared }) => {
    const placed = placePsf(prepared.crop, crop, prepared.psf, Math.floor(generator.mask.size / 2));
    return { ...placed, weights: jointFit ? psfCoreWeights(placed.psf, generator.mask) : prepared.psfWeights };
  });
  const pointSourceOf = (k: number, amplitude: number): FittedPointSource => ({ amplitude, dx: psfs[k]!.dx, dy: psfs[k]!.dy, interpolant: psfs[k]!.interpolant });
  const score = (k: number, cores: Float32Array, g: number) => {
    const prepared = chosen[k]!.prepared;
    const pixelSigma = new Float64Array(pixels).fill(prepared.sigma);
    return scoreCore(prepared.observedCore, cores, S, psfs[k]!.weights, pixelSigma, g * S * pixels);
  };
  // Each source's last regeneration: the cores, the source's place in them and the point source subtracted before it.
  const all = chosen.map((_, k) => k);
  const first = await regenerate(all, (k) => chosen[k]!.prepared.crop);
  const final: { raw: CoreScores; cores: Float32Array; g: number; pointSource?: FittedPointSource }[] = all.map((k) => ({ raw: score(k, first, k), cores: first, g: k }));
  lap('scoring');
  if (jointFit) {
    const fitted = all.filter((k) => final[k]!.raw.psFlux > 0);
    const trial = (k: number, amplitude: number) => subtractPointSource(chosen[k]!.prepared.crop, crop, psfs[k]!.psf, amplitude);
    // The PSF amplitude of the observed core: no point source can be brighter, and all of it is one at most.
    const ceilings = all.map((k) => psfWeightedFlux(chosen[k]!.prepared.observedCore, psfs[k]!.weights));
    const second = await regenerate(fitted, (k) => trial(k, final[k]!.raw.psFlux));
    const amplitudes = fitted.map((k, g) => secantAmplitude(final[k]!.raw.psFlux, score(k, second, g).psFlux, ceilings[k]!));
    lap('scoring');
    const third = await regenerate(fitted, (k, g) => trial(k, amplitudes[g]!));
    fitted.forEach((k, g) => (final[k] = { raw: score(k, third, g), cores: third, g, pointSource: pointSourceOf(k, amplitudes[g]!) }));
    lap('scoring');
    // h(a) has a second root at the ceiling where the whole core is the point source: a generator that
    // knows compact galaxies regenerates a star's core from its wings (h(0) = 0, no excess to fit), yet
    // with the PSF of the core's full amplitude removed nothing is left to regenerate. That root is
    // taken where the host regenerated there holds no flux beyond its own spread and it is the more
    // significant one; an extended galaxy keeps light in its ring and is left as it was.
    const open = all.filter((k) => ceilings[k]! > 0 && (final[k]!.pointSource?.amplitude ?? 0) < CEILING_TRIED_BELOW * ceilings[k]!);
    const fourth = await regenerate(open, (k) => trial(k, ceilings[k]!));
    open.forEach((k, g) => {
      const raw = score(k, fourth, g);
      const hostLeft = ceilings[k]! - raw.psFlux;
      if (hostLeft <= CEILING_HOST_SHARE * ceilings[k]! + CEILING_HOST_SIGMAS * raw.psFluxErr && raw.z > final[k]!.raw.z) final[k] = { raw, cores: fourth, g, pointSource: pointSourceOf(k, ceilings[k]!) };
    });
    lap('scoring');
  }
  chosen.forEach((s, k) => {
    const spread = spreadModel(s.prepared.crop, crop, psfs[k]!.psf, calibration.morphology_radius);
    const { raw, cores, g, pointSource } = final[k]!;
    const total = pointSourcePlusHostFlux(s.prepared, crop, psfs[k]!.psf, raw.psFlux);
    const scores = calibrate(raw, s.prepared, calibration, cores.slice(g * S * pixels, (g + 1) * S * pixels), spread, total);
    results[s.index] = pointSource === undefined ? scores : { ...scores, pointSource };
  });
  lap('scoring');
  return results;
}

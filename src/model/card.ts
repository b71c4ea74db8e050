/**
 * The model card: the contract between a trained model and the pipeline. The trainer writes it
 * (pipelines/train/train.py); here it is read, and the card and its graphs are checked against each
 * other, so a retrained model that does not fit the pipeline is refused before any source is scored.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelError } from '../errors.js';
import type { CoreMask, MaskShape } from './geometry.js';
import type { TensorSpec } from './runtime.js';
import type { FlowMethod } from './sampler.js';

export const CARD_SCHEMA = 'vis-agn/model-card/1';

/**
 * The monotone map that makes the raw z of normal galaxies N(0, 1) (fitted by `vis-agn calibrate`):
 * piecewise linear through `knots` (the galaxies' quantiles `from` at the Gaussian's `to`), continued
 * beyond them with the slope of the tail's own last sigma (`tail_scales`; a card without them continues
 * with 1 / scale), and wherever there are no knots, by the affine map (z - offset) / scale.
 * The card carries it (`significance`); detect/detect.ts applies it.
 */
export interface SignificanceMap {
  readonly offset: number;
  readonly scale: number;
  readonly knots?: {
    readonly from: readonly number[];
    readonly to: readonly number[];
    /** Raw z per sigma below the first and beyond the last knot. */
    readonly tail_scales?: { readonly lower: number; readonly upper: number };
  };
}

/**
 * One map per magnitude bin, referred to the I_E of the source's Kron flux (MER VIS units, MAGZERO
 * 24.6) at each bin's median galaxy, interpolated linearly in magnitude between them and held at the
 * ends. The raw z of normal galaxies has a different tail at each magnitude (compact galaxies are
 * star-like only where their cores are bright enough to show it), so one map for all magnitudes lets
 * the worst bin set the false-positive rate of all the others.
 */
export interface MagnitudeCalibration {
  readonly magnitudes: readonly number[];
  readonly maps: readonly SignificanceMap[];
}

/** The map for every source, and per magnitude where the card has it (`by_magnitude`; the map above applies where a source has no magnitude). */
export const GENERATIVE_STATISTICS = ['studentised_matched_filter', 'matched_filter', 'projection'] as const;
export type GenerativeStatistic = (typeof GENERATIVE_STATISTICS)[number];

export interface SignificanceCalibration extends SignificanceMap {
  readonly by_magnitude?: MagnitudeCalibration;
}

/**
 * What the card's `significance` holds: the generative core excess's calibration (agn_z) and, fitted
 * on the same galaxies, those of the morphology statistic (morph_z, from -spread_model) and of the
 * combined score (combined_z, from the larger of agn_z and morph_z, morph_z alone from
 * `generative_faint_limit` on); detect/detect.ts applies them.
 */
export interface ScoreCalibration extends SignificanceCalibration {
  /**
   * The generative test's raw z: 'studentised_matched_filter', the matched filter over the scale of the
   * residual orthogonal to the PSF (core-scores.ts `studentisedZ`); 'matched_filter', the PSF's matched
   * filter through the regenerations' covariance (`matchedZ`); absent: ps_flux / ps_flux_err through
   * the Student-t map, as cards calibrated before either were.
   */
  readonly generative_statistic?: GenerativeStatistic;
  /**
   * The matched filters' null allows a nucleus of up to this fraction of the source's light: a point
   * source is significant where it holds more than a nuclear star cluster could (core-scores.ts,
   * docs/detection.md "The nucleus allowance"); absent: 0, any point source counts.
   */
  readonly nucleus_allowance?: number;
  readonly morphology?: SignificanceCalibration;
  readonly combined?: SignificanceCalibration;
  /** I_E from which combined_z is morph_z's test alone (the generative test left out); absent: never. */
  readonly generative_faint_limit?: number;
  /** Radius (px) of the pixels SPREAD_MODEL is computed over, as the morphology maps were fitted; absent: 5. */
  readonly morphology_radius?: number;
  /** The f_PS regression (detect/fps-estimate.ts); absent: f_ps is the generative ratio ps_flux / total. */
  readonly f_ps?: FpsCalibration;
}

/**
 * The features the f_PS regression is a cubic in (detect/fps-estimate.ts computes them): a card fitted
 * on other features is refused at load, not misapplied.
 */
export const FPS_FEATURES = 'cubic(generative_fps, spread_model/0.01)/1';
export const FPS_FEATURE_COUNT = 8;

/**
 * f_PS regressed on the generative ratio and SPREAD_MODEL (vis-agn calibrate-fps): per magnitude bin
 * (at the bin's median I_E), the coefficients of the mean and of the squared residual over the
 * features `features` names (detect/fps-estimate.ts).
 */
export interface FpsCalibration {
  readonly features: string;
  readonly magnitudes: readonly number[];
  readonly mean: readonly (readonly number[])[];
  readonly variance: readonly (readonly number[])[];
  /**
   * Per bin, what ps_flux_err multiplies its base error by (detect/fps-estimate.ts `psFluxError`): the
   * robust width of the fitting sources' pulls (ps_flux - true) / base. Absent on cards fitted before
   * it: ps_flux_err is then the regenerations' spread alone.
   */
  readonly ps_flux_err_scale?: readonly number[];
  /** Whether the ratio it was fitted on came from the joint point-source fit, and the SPREAD_MODEL radius it was fitted with. */
  readonly joint_fit?: boolean;
  readonly morphology_radius?: number;
}

export interface GraphCard {
  readonly file: string;
  readonly sha256: string;
  readonly inputs: Readonly<Record<string, readonly (string | number)[]>>;
  readonly outputs: Readonly<Record<string, readonly (string | number)[]>>;
  readonly parameters: number;
}

export interface ModelCard {
  readonly schema: typeof CARD_SCHEMA;
  readonly name: string;
  readonly kind: 'conditional-core-flow';
  readonly geometry: { readonly crop: number; readonly mask: number; readonly mask_shape: MaskShape; readonly centre_index: number };
  readonly graphs: { readonly encoder: GraphCard; readonly denoiser: GraphCard };
  readonly sampler: {
    readonly method: 'flow-euler' | 'flow-heun';
    readonly samples: number;
    readonly steps: number;
    /**
     * Spread of the starting noise, fitted after training on held-out normal galaxies so that the
     * samples' central intervals cover the observed cores as often as they claim (1 when absent).
     */
    readonly temperature?: number;
    /** Score with the joint point-source fit (detect/joint-fit.ts); the calibration was fitted with it. */
    readonly joint_fit?: boolean;
  };
  readonly training: Readonly<Record<string, unknown>>;
  readonly validation: Readonly<Record<string, unknown>>;
  /** How the sampler temperature was fitted, when it was (vis-agn model-quality --fit-temperature). */
  readonly calibration?: Readonly<Record<string, unknown>>;
  /**
   * The monotone maps (quantile knots, linear beyond them) that make the significances of held-out normal
   * galaxies N(0, 1), and where they were fitted (vis-agn calibrate).
   */
  readonly significance?: ScoreCalibration & { readonly [key: string]: unknown };
}

export interface LoadedCard {
  readonly card: ModelCard;
  readonly cardPath: string;
  /** sha256 of the card file itself: what catalogues record as the model's identity. */
  readonly cardSha256: string;
  readonly encoderPath: string;
  readonly denoiserPath: string;
}

/** The core the card's model regenerates. */
export function cardMask(card: ModelCard): CoreMask {
  return { size: card.geometry.mask, shape: card.geometry.mask_shape };
}

/** The flow solver the card's sampler names. */
export function cardSolverMethod(card: ModelCard): FlowMethod {
  return card.sampler.method === 'flow-heun' ? 'heun' : 'euler';
}

/** The committed default model, resolved from the installed package (src/ or dist/ alike). */
export function defaultCardPath(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', 'default', 'card.json');
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function check(condition: unknown, reason: string, file: string): asserts condition {
  if (!condition) throw new ModelError(`model card: ${reason}`, { file });
}

function checkFpsCalibration(fit: FpsCalibration | undefined, morphologyRadius: number | undefined, cardPath: string): void {
  if (fit === undefined) return;
  check(fit.morphology_radius === morphologyRadius, `significance.f_ps was fitted on SPREAD_MODEL over ${fit.morphology_radius ?? 'the unrecorded'} px, the card computes it over ${morphologyRadius ?? 'the unrecorded'} px (refit with vis-agn calibrate-fps)`, cardPath);
  check(fit.features === FPS_FEATURES, `significance.f_ps was fitted on features ${JSON.stringify(fit.features)}; this version computes ${FPS_FEATURES} (refit with vis-agn calibrate-fps)`, cardPath);
  const bins = fit.magnitudes?.length ?? 0;
  const coefficients = (table: FpsCalibration['mean'] | undefined) => Array.isArray(table) && table.length === bins && table.every((row) => Array.isArray(row) && row.length === FPS_FEATURE_COUNT && row.every((x) => typeof x === 'number' && Number.isFinite(x)));
  check(bins > 0 && fit.magnitudes.every((m, i) => typeof m === 'number' && Number.isFinite(m) && (i === 0 || m > fit.magnitudes[i - 1]!)), 'significance.f_ps needs increasing finite magnitudes', cardPath);
  check(coefficients(fit.mean) && coefficients(fit.variance), `significance.f_ps needs ${FPS_FEATURE_COUNT} finite mean and variance coefficients for each of its ${bins} magnitudes`, cardPath);
  const scales = fit.ps_flux_err_scale;
  check(scales === undefined || (Array.isArray(scales) && scales.length === bins && scales.every((x) => typeof x === 'number' && x > 0 && Number.isFinite(x))), `significance.f_ps.ps_flux_err_scale needs a finite positive factor for each of its ${bins} magnitudes`, cardPath);
}

export function readCard(cardPath: string): LoadedCard {
  if (!existsSync(cardPath)) throw new ModelError('model card not found', { file: cardPath });
  let card: ModelCard;
  try {
    card = JSON.parse(readFileSync(cardPath, 'utf8')) as ModelCard;
  } catch (error) {
    throw new ModelError(`model card is not valid JSON: ${String(error)}`, { file: cardPath }, { cause: error });
  }
  check(card.schema === CARD_SCHEMA, `schema is ${JSON.stringify(card.schema)}, expected ${CARD_SCHEMA}`, cardPath);
  check(card.kind === 'conditional-core-flow', `unknown model kind ${JSON.stringify(card.kind)}`, cardPath);
  const { crop, mask } = card.geometry ?? {};
  check(Number.isInteger(crop) && Number.isInteger(mask) && mask % 2 === 1 && mask < crop, 'geometry needs an integer crop and an odd mask smaller than it', cardPath);
  check(card.geometry.mask_shape === 'square' || card.geometry.mask_shape === 'circle', `unknown mask shape ${JSON.stringify(card.geometry.mask_shape)}`, cardPath);
  // Compared with magnitudes, a string would pass silently (JavaScript coerces it).
  const faintLimit = card.significance?.generative_faint_limit;
  check(faintLimit === undefined || (typeof faintLimit === 'number' && Number.isFinite(faintLimit)), `significance.generative_faint_limit must be an I_E magnitude, got ${JSON.stringify(faintLimit)}`, cardPath);
  const allowance = card.significance?.nucleus_allowance;
  check(allowance === undefined || (typeof allowance === 'number' && allowance >= 0 && allowance < 0.5), `significance.nucleus_allowance must be a fraction in [0, 0.5), got ${JSON.stringify(allowance)}`, cardPath);
  const statistic = card.significance?.generative_statistic;
  check(statistic === undefined || GENERATIVE_STATISTICS.includes(statistic), `significance.generative_statistic must be one of ${GENERATIVE_STATISTICS.join(', ')}, got ${JSON.stringify(statistic)}`, cardPath);
  const radius = card.significance?.morphology_radius;
  check(radius === undefined || (typeof radius === 'number' && radius >= 1 && radius <= 10), `significance.morphology_radius must be a radius of 1-10 pixels, got ${JSON.stringify(radius)}`, cardPath);
  checkFpsCalibration(card.significance?.f_ps, radius, cardPath);
  const dir = path.dirname(cardPath);
  const paths = { encoder: '', denoiser: '' };
  for (const role of ['encoder', 'denoiser'] as const) {
    const graph = card.graphs?.[role];
    check(graph !== undefined, `no ${role} graph`, cardPath);
    const file = path.resolve(dir, graph.file);
    check(existsSync(file), `${role} graph ${graph.file} not found beside the card`, cardPath);
    const actual = sha256(file);
    check(actual === graph.sha256, `${role} graph ${graph.file} has sha256 ${actual}, the card says ${graph.sha256}`, cardPath);
    paths[role] = file;
  }
  return { card, cardPath, cardSha256: sha256(cardPath), encoderPath: paths.encoder, denoiserPath: paths.denoiser };
}

/** A graph's actual inputs/outputs must be exactly the card's, axis by axis. */
export function checkGraphAgainstCard(role: 'encoder' | 'denoiser', graph: GraphCard, inputs: readonly TensorSpec[], outputs: readonly TensorSpec[], file: string): void {
  const compare = (kind: string, declared: GraphCard['inputs'], actual: readonly TensorSpec[]) => {
    const names = actual.map((s) => s.name).sort();
    const declaredNames = Object.keys(declared).sort();
    check(names.join() === declaredNames.join(), `${role} ${kind} are [${names.join(', ')}], the card says [${declaredNames.join(', ')}]`, file);
    for (const spec of actual) {
      const want = declared[spec.name]!;
      const same = want.length === spec.shape.length && want.every((axis, i) => typeof axis === 'string' ? typeof spec.shape[i] === 'string' : axis === spec.shape[i]);
      check(same, `${role} ${kind.slice(0, -1)} ${spec.name} has shape [${spec.shape.join(', ')}], the card says [${want.join(', ')}]`, file);
    }
  };
  compare('inputs', graph.inputs, inputs);
  compare('outputs', graph.outputs, outputs);
}

/**
 * `vis-agn run` on one process: cutout files → windows → prepared sources → batched regeneration and
 * scores → catalogue rows, streamed to an Arrow catalogue written atomically. A file that cannot be
 * read becomes a flagged row naming it, never a gap. Batching changes nothing in the results: each
 * source's random draws come from (seed, object id).
 */

import path from 'node:path';

import { ensureOutputDir, writeAtomically } from '../atomic-file.js';
import { CatalogWriter } from '../catalog/arrow.js';
import { encodeFlags, hasFlag, type FlagName } from '../catalog/flags.js';
import type { CandidateClass, CatalogRow, RunMetadata } from '../catalog/schema.js';
import { DEFAULT_HDU_NAMES, listInputFiles, objectIdFor, readCutout, type CutoutSource, type HduNames } from '../cutout/from-files.js';
import { readTileObjects, selectObjects, tileSources, type TileInput } from '../cutout/from-tile.js';
import { InvalidInputError, VisAgnError } from '../errors.js';
import { orderedPool } from '../worker-pool.js';
import { detectTask, failedTaskResult, runDetectTask, type DetectTask } from './detect-task.js';
import { cardSolverMethod, type ModelCard } from '../model/card.js';
import { CoreGenerator } from '../model/generator.js';
import type { DeviceRequest } from '../model/runtime.js';
import { runtimeVersion } from '../model/runtime.js';
import type { FlowMethod } from '../model/sampler.js';
import { classify, DEFAULT_THRESHOLDS, detectBatch, UNCALIBRATED, type SignificanceCalibration, type SourceScores, type Thresholds } from '../score/detect.js';
import { CORE_SEARCH, MER_RMS_TO_SIGMA, prepareSource, type PreparedSource } from '../score/prepare.js';
import { defaultVisPsf } from '../sim/psf.js';
import { generatorVersion } from '../sim/recipe.js';

export interface DetectionConfig {
  readonly samples: number;
  readonly steps: number;
  readonly method: FlowMethod;
  readonly seed: number;
  readonly thresholds: Thresholds;
  readonly hduNames: HduNames;
  /** RMS-map level to per-pixel sigma (MER mosaics: MER_RMS_TO_SIGMA). */
  readonly rmsToSigma: number;
  readonly temperature?: number;
}

/** A model card's sampler with the default thresholds, HDU names and MER noise conversion. */
export function defaultDetectionConfig(card: ModelCard, seed = 1): DetectionConfig {
  return {
    samples: card.sampler.samples,
    steps: card.sampler.steps,
    method: cardSolverMethod(card),
    seed,
    thresholds: DEFAULT_THRESHOLDS,
    hduNames: DEFAULT_HDU_NAMES,
    rmsToSigma: MER_RMS_TO_SIGMA,
  };
}

/** How sources are scored, whatever they come from: the model, its threads and workers, the settings. */
export interface ScoringOptions {
  readonly cardPath: string;
  readonly device: DeviceRequest;
  /** onnxruntime threads per worker. */
  readonly threads: number;
  /** Worker threads cutting and scoring in parallel; default 1 (this thread). */
  readonly workers?: number;
  /** Sources per model batch (one worker task). */
  readonly batch: number;
  readonly config: DetectionConfig;
  /** A file that could not be read (its row is flagged corrupt_input). */
  readonly onInputError?: (file: string, error: VisAgnError) => void;
  /** A group of sources whose task failed twice on a worker (their rows are flagged inference_failed). */
  readonly onTaskFailure?: (sources: number, message: string) => void;
}

export interface RunOptions extends ScoringOptions {
  /** Cutout files or folders; or, with `tile`, nothing. */
  readonly inputs: readonly string[];
  /** A MER tile and its catalogue instead of cutout files. */
  readonly tile?: TileInput;
  /** Output folder: catalog.arrow and summary.json. */
  readonly out: string;
  /** `total` is unknown in tile mode until the catalogue is read. */
  readonly onProgress?: (done: number, total: number | undefined) => void;
}

/** Counts over a catalogue's rows, as the run summary reports them. */
export class RunTally {
  sources = 0;
  readonly byClass: Record<CandidateClass, number> = { agn: 0, qso: 0, point_like: 0, none: 0 };
  candidates = 0;
  flagged = 0;
  /** Inputs that could not be read (corrupt_input). */
  unreadable = 0;
  /** Rows of tasks that failed twice on a worker (inference_failed). */
  failed = 0;

  add(row: CatalogRow): void {
    this.sources++;
    this.byClass[row.candidate_class]++;
    if (row.is_candidate) this.candidates++;
    if (row.flags !== 0) this.flagged++;
    if (hasFlag(row.flags, 'corrupt_input')) this.unreadable++;
    if (hasFlag(row.flags, 'inference_failed')) this.failed++;
  }

  counts(): Omit<RunSummary, 'catalog' | 'seconds' | 'provider'> {
    return { sources: this.sources, byClass: { ...this.byClass }, candidates: this.candidates, flagged: this.flagged, unreadable: this.unreadable, failed: this.failed };
  }
}

export interface RunSummary {
  readonly catalog: string;
  readonly sources: number;
  readonly byClass: Readonly<Record<CandidateClass, number>>;
  readonly candidates: number;
  readonly flagged: number;
  readonly unreadable: number;
  readonly failed: number;
  readonly seconds: number;
  readonly provider: string;
}

const MICROJANSKY_AB_ZERO = 23.9;

function microjanskyPerUnit(magzero: number): number {
  return 10 ** ((MICROJANSKY_AB_ZERO - magzero) / 2.5);
}

function finiteOrNull(value: number | null | undefined): number | null {
  return value === null || value === undefined || !Number.isFinite(value) ? null : value;
}

export function sourceRow(cutout: CutoutSource, prepared: PreparedSource, scores: SourceScores | undefined, thresholds: Thresholds): CatalogRow {
  const flags: FlagName[] = [...cutout.flags, ...prepared.flags];
  const toMicrojansky = microjanskyPerUnit(cutout.magzero);
  const fPs = finiteOrNull(scores?.fPs);
  const agnZ = finiteOrNull(scores?.agnZ);
  const { candidateClass, isCandidate } = classify(agnZ, fPs, thresholds);
  const flux = prepared.totalFlux;
  return {
    object_id: cutout.objectId,
    source_file: cutout.sourceFile,
    hdu: cutout.hdu,
    ra: cutout.ra,
    dec: cutout.dec,
    x_center: cutout.xCenter,
    y_center: cutout.yCenter,
    mag_vis: flux > 0 ? cutout.magzero - 2.5 * Math.log10(flux) : null,
    flags: encodeFlags(flags),
    is_candidate: isCandidate,
    candidate_class: candidateClass,
    recon_error: finiteOrNull(scores?.reconError),
    chi2_core: finiteOrNull(scores?.chi2),
    chi2_dof: finiteOrNull(scores?.dof),
    agn_z: agnZ,
    agn_pvalue: finiteOrNull(scores?.agnPValue),
    ps_flux: finiteOrNull(scores?.psFlux),
    ps_flux_err: finiteOrNull(scores?.psFluxErr),
    ps_flux_ujy: finiteOrNull(scores === undefined ? null : scores.psFlux * toMicrojansky),
    ps_flux_ujy_err: finiteOrNull(scores === undefined ? null : scores.psFluxErr * toMicrojansky),
    f_ps: fPs,
    f_ps_err: finiteOrNull(scores?.fPsErr),
    noise_sigma: finiteOrNull(prepared.sigma),
    n_samples: scores === undefined ? null : scores.samples.length / prepared.observedCore.length,
    core_x: Number.isFinite(prepared.coreX) ? cutout.windowX0 + prepared.coreX : null,
    core_y: Number.isFinite(prepared.coreY) ? cutout.windowY0 + prepared.coreY : null,
  };
}

/** The row of a file that could not be read: its name, an id from the name, and the flag. */
export function unreadableRow(file: string): CatalogRow {
  const { objectId } = objectIdFor(file, []);
  return { object_id: objectId, source_file: file, hdu: '', flags: encodeFlags(['corrupt_input']), is_candidate: false, candidate_class: 'none', ra: null, dec: null, ...emptyScores };
}

/** The measured columns of a row with nothing measured. */
export const emptyScores = { x_center: null, y_center: null, mag_vis: null, recon_error: null, chi2_core: null, chi2_dof: null, agn_z: null, agn_pvalue: null, ps_flux: null, ps_flux_err: null, ps_flux_ujy: null, ps_flux_ujy_err: null, f_ps: null, f_ps_err: null, noise_sigma: null, n_samples: null, core_x: null, core_y: null } as const;

export interface PreparedCutout {
  readonly cutout: CutoutSource;
  readonly prepared: PreparedSource;
}

/** A cutout's window prepared for the model, with its own PSF or the default one. */
export function prepareCutout(cutout: CutoutSource, crop: number, generator: CoreGenerator, rmsToSigma: number): PreparedCutout {
  const prepared = prepareSource(
    { pixels: cutout.pixels, width: cutout.side, height: cutout.side, ...(cutout.rms === undefined ? {} : { rms: cutout.rms }), rmsToSigma, psf: cutout.psf ?? defaultVisPsf() },
    crop,
    generator.mask,
  );
  return { cutout, prepared };
}

export interface ScoredCutout {
  readonly row: CatalogRow;
  /** Undefined when the source could not be scored (see its flags). */
  readonly scores: SourceScores | undefined;
}

export async function scorePrepared(generator: CoreGenerator, group: readonly PreparedCutout[], config: DetectionConfig, calibration: SignificanceCalibration): Promise<ScoredCutout[]> {
  const scores = await detectBatch(
    generator,
    group.map((g) => ({ prepared: g.prepared, objectId: g.cutout.objectId })),
    { samples: config.samples, solver: { steps: config.steps, method: config.method }, seed: config.seed, ...(config.temperature === undefined ? {} : { temperature: config.temperature }) },
    calibration,
  );
  return group.map((g, k) => ({ row: sourceRow(g.cutout, g.prepared, scores[k], config.thresholds), scores: scores[k] }));
}

export function significanceCalibration(generator: CoreGenerator): SignificanceCalibration {
  return generator.loaded.card.significance ?? UNCALIBRATED;
}

/**
 * The run's metadata. `tiles`: the tiles of a tile run (with their catalogue), recorded so a row can
 * be cut again from its tile (`vis-agn inspect`, `vis-agn report`).
 */
export function runMetadata(generator: CoreGenerator, config: DetectionConfig, inputs: readonly string[], cardPath: string, tiles?: readonly TileInput[]): RunMetadata {
  const calibration = significanceCalibration(generator);
  return {
    modelName: generator.loaded.card.name,
    modelCardSha256: generator.loaded.cardSha256,
    executionProvider: generator.provider,
    config: { ...config, model: cardPath, significance: calibration, crop: generator.crop, mask: generator.mask, ...(tiles === undefined ? {} : { tiles }) },
    seed: config.seed,
    visAgnVersion: generatorVersion(),
    nodeVersion: process.version,
    onnxruntimeVersion: runtimeVersion(),
    inputs: [...inputs],
    createdAt: new Date().toISOString(),
  };
}

/** What a run reads, in order: sources, or the rows of inputs that could not be read. */
async function* runSources(options: RunOptions, files: readonly string[] | undefined, side: number): AsyncGenerator<CutoutSource | CatalogRow> {
  if (options.tile !== undefined) {
    yield* tileSources(options.tile, side, options.config.hduNames);
    return;
  }
  yield* fileSources(files ?? [], options.config.hduNames, side, options.onInputError);
}

/** Cutout files as sources, or as the flagged rows of those that cannot be read. */
export async function* fileSources(files: readonly string[], hduNames: HduNames, side: number, onInputError?: (file: string, error: VisAgnError) => void): AsyncGenerator<CutoutSource | CatalogRow> {
  for (const file of files) {
    try {
      yield readCutout(file, { hduNames, side });
    } catch (error) {
      if (!(error instanceof VisAgnError)) throw error;
      onInputError?.(file, error);
      yield unreadableRow(file);
    }
  }
}

/** Catalogue rows of a group of sources, in order (rows of unreadable inputs keep their place). */
export async function scoreGroup(generator: CoreGenerator, group: readonly (CutoutSource | CatalogRow)[], config: DetectionConfig, calibration: SignificanceCalibration): Promise<CatalogRow[]> {
  const entries = group.map((e) => ('pixels' in e ? prepareCutout(e, generator.crop, generator, config.rmsToSigma) : e));
  const readable = entries.filter((e): e is PreparedCutout => 'prepared' in e);
  const scored = await scorePrepared(generator, readable, config, calibration);
  let next = 0;
  return entries.map((e) => ('prepared' in e ? scored[next++]!.row : e));
}

/** `items` in consecutive groups of `size`, the last one shorter. */
export function inGroupsOf<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

/** `source` in groups of `size`, the last one shorter. */
export async function* groups<T>(source: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let group: T[] = [];
  for await (const item of source) {
    group.push(item);
    if (group.length === size) {
      yield group;
      group = [];
    }
  }
  if (group.length > 0) yield group;
}

/** The pool's tasks: groups of `batch` files, or of catalogue objects (read here, once). */
async function detectTasks(options: RunOptions, files: readonly string[] | undefined): Promise<Iterable<DetectTask>> {
  if (files !== undefined) {
    return (function* () {
      for (let start = 0; start < files.length; start += options.batch) yield detectTask(options, { files: files.slice(start, start + options.batch) });
    })();
  }
  const tile = options.tile!;
  const objects = await readTileObjects(tile);
  return (function* () {
    for (let start = 0; start < objects.ids.length; start += options.batch) {
      const rows = Array.from({ length: Math.min(options.batch, objects.ids.length - start) }, (_, i) => start + i);
      yield detectTask(options, { tile, objects: selectObjects(objects, rows) });
    }
  })();
}

/** The rows of the run, a group at a time, in input order: on worker threads when asked and possible. */
async function* scoredRows(options: RunOptions, files: readonly string[] | undefined, generator: CoreGenerator, side: number): AsyncGenerator<CatalogRow[]> {
  const workers = options.workers ?? 1;
  if (workers > 1) {
    const tasks = await detectTasks(options, files);
    const onFailure = { substitute: failedTaskResult };
    for await (const result of orderedPool(new URL('./detect-worker.js', import.meta.url), tasks, { workers, onFailure }, runDetectTask)) {
      for (const { file, message } of result.unreadable) options.onInputError?.(file, new InvalidInputError(message));
      if (result.failure !== undefined) options.onTaskFailure?.(result.rows.length, result.failure);
      yield result.rows;
    }
    return;
  }
  const calibration = significanceCalibration(generator);
  for await (const group of groups(runSources(options, files, side), options.batch)) yield await scoreGroup(generator, group, options.config, calibration);
}

export async function runDetection(options: RunOptions): Promise<RunSummary> {
  const started = performance.now();
  // Listed once: a survey folder can hold 10^5 files. Tile mode has no list until its catalogue is read.
  const files = options.tile === undefined ? listInputFiles(options.inputs) : undefined;
  const total = files?.length;
  await ensureOutputDir(options.out);
  const catalog = path.join(options.out, 'catalog.arrow');
  const generator = await CoreGenerator.load(options.cardPath, { device: options.device, threads: options.threads });
  const tally = new RunTally();
  const { config } = options;
  const side = generator.crop + CORE_SEARCH - 1;
  const inputs = options.tile === undefined ? options.inputs : [options.tile.tile, options.tile.catalog, ...(options.tile.rms === undefined ? [] : [options.tile.rms]), ...(options.tile.psf === undefined ? [] : [options.tile.psf])];
  let writer: CatalogWriter | undefined;
  try {
    writer = await CatalogWriter.create(catalog, runMetadata(generator, config, inputs, options.cardPath, options.tile === undefined ? undefined : [options.tile]));
    for await (const rows of scoredRows(options, files, generator, side)) {
      for (const row of rows) {
        writer.append(row);
        tally.add(row);
      }
      options.onProgress?.(writer.rows, total);
    }
    await writer.close();
    const summary: RunSummary = { catalog, ...tally.counts(), seconds: (performance.now() - started) / 1000, provider: generator.provider };
    await writeAtomically(path.join(options.out, 'summary.json'), (file) => file.write(Buffer.from(`${JSON.stringify(summary, null, 2)}\n`)));
    return summary;
  } catch (error) {
    await writer?.abort();
    throw error;
  } finally {
    await generator.release();
  }
}

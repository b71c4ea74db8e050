/**
 * `vis-agn run` on one process: cutout files → windows → validated, prepared sources → batched
 * regeneration and scores → catalogue rows, streamed to an Arrow catalogue written atomically. Every
 * source gives exactly one row: a file that cannot be read, a source whose scoring throws and a score
 * outside its physical bounds all become flagged rows with their reason in errors.jsonl, never a gap
 * and never a lost batch. Batching changes nothing in the results: each source's random draws come
 * from (seed, object id), and a source that failed in a batch is scored again alone.
 */

import path from 'node:path';

import { ensureOutputDir, removeStaleTemporaries, writeAtomically } from '../atomic-file.js';
import { CatalogWriter } from '../catalog/arrow.js';
import { decodeFlags, encodeFlags, FLAGS, hasFlag, isFailure, type FlagName } from '../ground/flags.js';
import type { CatalogRow } from '../catalog/schema.js';
import { listInputFiles, objectIdFor, readCutout, type CutoutSource, type HduNames } from '../cutout/from-files.js';
import { readTileObjects, selectObjects, type TileInput } from '../cutout/from-tile.js';
import { validateCutout } from '../cutout/validate.js';
import { ModelError, OutputError, VisAgnError } from '../errors.js';
import { orderedPool } from '../worker-pool.js';
import { detectTask, failedTaskResult, runDetectTask, type DetectResult, type DetectTask } from './detect-task.js';
import { providerList, runMetadata } from './metadata.js';
import { readCard, type SignificanceCalibration } from '../model/card.js';
import type { CoreGenerator } from '../model/generator.js';
import type { DeviceRequest, ExecutionProvider } from '../model/runtime.js';
import { classify, detectBatch, selectionZ, type CandidateClass, type SourceScores, type Thresholds } from '../detect/detect.js';
import { prepareSource, type PreparedSource } from '../detect/prepare.js';
import { samplingOf, type DetectionSettings } from '../detect/settings.js';
import { defaultVisPsf } from '../ground/psf.js';
import { microjanskyPerUnit } from '../ground/vis.js';

/** Which model runs, and where: nothing here changes a result. */
export interface ModelExecution {
  readonly cardPath: string;
  readonly device: DeviceRequest;
  /** onnxruntime threads per worker. */
  readonly threads: number;
}

/** How sources are scored, whatever they come from: the settings, and the model, workers and batches that compute them. */
export interface ScoringOptions extends ModelExecution {
  /** Worker threads cutting and scoring in parallel; default 1 (this thread). */
  readonly workers?: number;
  /** Sources per model batch (one worker task). */
  readonly batch: number;
  readonly settings: DetectionSettings;
  /** A source that failed (its row carries the failure flag), as it is written to errors.jsonl. */
  readonly onSourceError?: (error: SourceError) => void;
  /** Aborted (SIGTERM, SIGINT): no new work starts and the run rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** One line of errors.jsonl: a source that was not scored, where it came from and why. */
export interface SourceError {
  readonly file: string;
  /** The HDU, when the failure is tied to one ('' otherwise). */
  readonly hdu: string;
  /** Decimal text: JSON has no 64-bit integers. */
  readonly object_id: string;
  /** The row's failure flag (one of FAILURE_FLAGS). */
  readonly flag: FlagName;
  readonly reason: string;
}

export function sourceError(row: Pick<CatalogRow, 'source_file' | 'hdu' | 'object_id'>, flag: FlagName, reason: string): SourceError {
  return { file: row.source_file, hdu: row.hdu, object_id: String(row.object_id), flag, reason };
}

/** The rows of a group of sources, in order, and the failures among them. */
export interface ScoredGroup {
  readonly rows: CatalogRow[];
  readonly errors: SourceError[];
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
  /** Rows of sources that were not scored because something failed (any of FAILURE_FLAGS). */
  failed = 0;
  /** Rows carrying each flag, by name; every defined flag is listed, 0 when unused. */
  readonly byFlag: Record<string, number> = Object.fromEntries(FLAGS.map((flag) => [flag.name, 0]));

  add(row: CatalogRow): void {
    this.sources++;
    this.byClass[row.candidate_class]++;
    if (row.is_candidate) this.candidates++;
    if (row.flags !== 0) this.flagged++;
    if (hasFlag(row.flags, 'corrupt_input')) this.unreadable++;
    if (isFailure(row.flags)) this.failed++;
    for (const name of decodeFlags(row.flags)) this.byFlag[name] = (this.byFlag[name] ?? 0) + 1;
  }

  counts(): Omit<RunSummary, 'catalog' | 'errors' | 'seconds' | 'provider'> {
    return { sources: this.sources, byClass: { ...this.byClass }, candidates: this.candidates, flagged: this.flagged, byFlag: { ...this.byFlag }, unreadable: this.unreadable, failed: this.failed };
  }
}

export interface RunSummary {
  readonly catalog: string;
  readonly sources: number;
  readonly byClass: Readonly<Record<CandidateClass, number>>;
  readonly candidates: number;
  readonly flagged: number;
  readonly byFlag: Readonly<Record<string, number>>;
  readonly unreadable: number;
  readonly failed: number;
  /** errors.jsonl: one line per failed source (empty when every source was scored). */
  readonly errors: string;
  readonly seconds: number;
  readonly provider: string;
}

function finiteOrNull(value: number | null | undefined): number | null {
  return value === null || value === undefined || !Number.isFinite(value) ? null : value;
}

/**
 * What a score can physically be. A point source cannot hold ten times a source's flux, or less than
 * minus ten times (noise on a faint galaxy reaches about -1.4 on the survey mix); an error, a chi2 or a
 * reconstruction error is not negative; a p-value is a probability. Values beyond are the signature of
 * broken inputs (a PSF of almost no weight in the core gave f_ps of 6e35), never of a real source.
 */
export const SCORE_BOUNDS = {
  recon_error: [0, Infinity],
  chi2_core: [0, Infinity],
  agn_pvalue: [0, 1],
  ps_flux_err: [0, Infinity],
  f_ps: [-10, 10],
  f_ps_err: [0, 10],
  f_ps_generative: [-10, 10],
  spread_model: [-1, 1],
} as const satisfies Readonly<Record<string, readonly [number, number]>>;

/** Why `scores` cannot be published (a non-finite value, or one outside SCORE_BOUNDS), or undefined. */
export function scoreProblem(scores: SourceScores): string | undefined {
  const values: [string, number | null][] = [
    ['recon_error', scores.reconError],
    ['chi2_core', scores.chi2],
    ['agn_z', scores.agnZ],
    ['agn_pvalue', scores.agnPValue],
    ['ps_flux', scores.psFlux],
    ['ps_flux_err', scores.psFluxErr],
    // Null by design when the total flux is not positive.
    ['f_ps', scores.fPs],
    ['f_ps_err', scores.fPsErr],
    ['f_ps_generative', scores.fPsGenerative],
    ['spread_model', scores.spreadModel],
  ];
  for (const [name, value] of values) {
    if (value === null) continue;
    if (!Number.isFinite(value)) return `${name} is ${value}`;
    const bounds: readonly [number, number] | undefined = SCORE_BOUNDS[name as keyof typeof SCORE_BOUNDS];
    if (bounds !== undefined && (value < bounds[0] || value > bounds[1])) return `${name} = ${value} is outside its physical bounds [${bounds[0]}, ${bounds[1]}]`;
  }
  return undefined;
}

/** The columns a row takes from its cutout, scored or not. */
function cutoutColumns(cutout: CutoutSource): Pick<CatalogRow, 'object_id' | 'source_file' | 'hdu' | 'ra' | 'dec' | 'x_center' | 'y_center'> {
  return { object_id: cutout.objectId, source_file: cutout.sourceFile, hdu: cutout.hdu, ra: cutout.ra, dec: cutout.dec, x_center: cutout.xCenter, y_center: cutout.yCenter };
}

/** The row of a scored (or unscorable) source; scores outside their physical bounds are withheld and flagged. */
export function sourceRow(cutout: CutoutSource, prepared: PreparedSource, scores: SourceScores | undefined, thresholds: Thresholds): CatalogRow {
  const flags: FlagName[] = [...cutout.flags, ...prepared.flags];
  if (scores !== undefined && scoreProblem(scores) !== undefined) {
    flags.push('unphysical_score');
    scores = undefined;
  }
  const toMicrojansky = microjanskyPerUnit(cutout.magzero);
  const fPs = finiteOrNull(scores?.fPs);
  const agnZ = finiteOrNull(scores?.agnZ);
  const { candidateClass, isCandidate } = classify(scores === undefined ? null : finiteOrNull(selectionZ(scores)), fPs, thresholds);
  const flux = prepared.totalFlux;
  return {
    ...cutoutColumns(cutout),
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
    f_ps_generative: finiteOrNull(scores?.fPsGenerative),
    spread_model: finiteOrNull(scores?.spreadModel),
    morph_z: finiteOrNull(scores?.morphZ),
    combined_z: finiteOrNull(scores?.combinedZ),
    noise_sigma: finiteOrNull(prepared.sigma),
    n_samples: scores === undefined ? null : scores.samples.length / prepared.observedCore.length,
    core_x: Number.isFinite(prepared.coreX) ? cutout.windowX0 + prepared.coreX : null,
    core_y: Number.isFinite(prepared.coreY) ? cutout.windowY0 + prepared.coreY : null,
  };
}

/** The row of a file that could not be read: its name, an id from the name, and the flag. */
export function unreadableRow(file: string, hdu = ''): CatalogRow {
  const { objectId } = objectIdFor(file, []);
  return { object_id: objectId, source_file: file, hdu, flags: encodeFlags(['corrupt_input']), is_candidate: false, candidate_class: 'none', ra: null, dec: null, ...emptyScores };
}

/** A cutout file that could not be read, as its row and the error behind it. */
export interface UnreadableInput {
  readonly row: CatalogRow;
  readonly error: SourceError;
}

/** The row of a source that could not be scored: what the cutout says, its flags and `flag`, no scores. */
function failedRow(cutout: CutoutSource, flags: readonly FlagName[], flag: FlagName): CatalogRow {
  return {
    ...emptyScores,
    ...cutoutColumns(cutout),
    flags: encodeFlags([...flags, flag]),
    is_candidate: false,
    candidate_class: 'none',
  };
}

function describe(error: unknown): string {
  if (error instanceof VisAgnError) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The measured columns of a row with nothing measured. */
export const emptyScores = { x_center: null, y_center: null, mag_vis: null, recon_error: null, chi2_core: null, chi2_dof: null, agn_z: null, agn_pvalue: null, ps_flux: null, ps_flux_err: null, ps_flux_ujy: null, ps_flux_ujy_err: null, f_ps: null, f_ps_err: null, f_ps_generative: null, spread_model: null, morph_z: null, combined_z: null, noise_sigma: null, n_samples: null, core_x: null, core_y: null } as const;

export interface PreparedCutout {
  readonly cutout: CutoutSource;
  readonly prepared: PreparedSource;
}

/** A cutout's window validated (src/cutout/validate.ts) and prepared for the model, with its own PSF or the default one. */
export function prepareCutout(source: CutoutSource, crop: number, generator: CoreGenerator, rmsToSigma: number): PreparedCutout {
  const cutout = validateCutout(source, generator.mask.size);
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
  /** Set when the row carries a failure flag: why. */
  readonly error?: SourceError;
}

/** Errors that say the model or the machine is broken, not the source: no source can be scored past them. */
function isSystemic(error: unknown): boolean {
  return error instanceof ModelError || error instanceof OutputError;
}

/**
 * Scores of a group as one model batch. When the batch throws, each source is scored again alone
 * (its scores do not depend on its batch), so only the source that fails alone is lost, as a row
 * flagged scoring_failed.
 */
export async function scorePrepared(generator: CoreGenerator, group: readonly PreparedCutout[], settings: DetectionSettings, calibration: SignificanceCalibration): Promise<ScoredCutout[]> {
  let scores: (SourceScores | undefined)[];
  try {
    scores = await detectBatch(
      generator,
      group.map((g) => ({ prepared: g.prepared, objectId: g.cutout.objectId })),
      samplingOf(settings),
      calibration,
    );
  } catch (error) {
    if (isSystemic(error)) throw error;
    if (group.length > 1) {
      const alone: ScoredCutout[] = [];
      for (const g of group) alone.push(...(await scorePrepared(generator, [g], settings, calibration)));
      return alone;
    }
    const { cutout, prepared } = group[0]!;
    const row = failedRow(cutout, [...cutout.flags, ...prepared.flags], 'scoring_failed');
    return [{ row, scores: undefined, error: sourceError(row, 'scoring_failed', describe(error)) }];
  }
  return group.map((g, k) => {
    const row = sourceRow(g.cutout, g.prepared, scores[k], settings.thresholds);
    const problem = scores[k] === undefined ? undefined : scoreProblem(scores[k]!);
    return problem === undefined ? { row, scores: scores[k] } : { row, scores: undefined, error: sourceError(row, 'unphysical_score', problem) };
  });
}

/** Cutout files as sources, or as the flagged rows (with their reasons) of those that cannot be read. */
export function* fileSources(files: readonly string[], hduNames: HduNames, side: number): Generator<CutoutSource | UnreadableInput> {
  for (const file of files) {
    let source: CutoutSource;
    try {
      source = readCutout(file, { hduNames, side });
    } catch (error) {
      // Whatever a file does to the reader, it costs that file's row only.
      const hdu = error instanceof VisAgnError && error.location.hdu !== undefined ? String(error.location.hdu) : '';
      const row = unreadableRow(file, hdu);
      yield { row, error: sourceError(row, 'corrupt_input', error instanceof VisAgnError ? error.reason : `internal error while reading: ${describe(error)}`) };
      continue;
    }
    yield source;
  }
}

/** Catalogue rows of a group of sources, in order (rows of unreadable inputs keep their place), and the failures. */
export async function scoreGroup(generator: CoreGenerator, group: readonly (CutoutSource | UnreadableInput)[], settings: DetectionSettings, calibration: SignificanceCalibration): Promise<ScoredGroup> {
  const rows: CatalogRow[] = new Array<CatalogRow>(group.length);
  const errors: (SourceError | undefined)[] = new Array<SourceError | undefined>(group.length);
  const readable: { index: number; prepared: PreparedCutout }[] = [];
  group.forEach((entry, index) => {
    if ('row' in entry) {
      rows[index] = entry.row;
      errors[index] = entry.error;
      return;
    }
    try {
      readable.push({ index, prepared: prepareCutout(entry, generator.crop, generator, settings.rmsToSigma) });
    } catch (error) {
      rows[index] = failedRow(entry, entry.flags, 'scoring_failed');
      errors[index] = sourceError(rows[index], 'scoring_failed', describe(error));
    }
  });
  const scored = await scorePrepared(generator, readable.map((r) => r.prepared), settings, calibration);
  scored.forEach((result, k) => {
    rows[readable[k]!.index] = result.row;
    errors[readable[k]!.index] = result.error;
  });
  return { rows, errors: errors.filter((e): e is SourceError => e !== undefined) };
}

/** `items` in consecutive groups of `size`, the last one shorter. */
export function inGroupsOf<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
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

/** A task's rows, with the execution providers the workers had reported by then ('cpu', 'cuda', 'cpu,cuda'). */
export interface PooledResult {
  readonly result: DetectResult;
  readonly providers: string;
}

/**
 * The results of `tasks` in order, on the worker pool (one worker: this thread, through the same
 * loop). A task whose worker thread died twice stands as rows flagged inference_failed, and reports no
 * provider: results wait for the first that reports one, since a catalogue records its provider in
 * metadata written before its rows.
 */
export async function* detectionPool(tasks: Iterable<DetectTask>, options: Pick<ScoringOptions, 'workers' | 'signal'>): AsyncGenerator<PooledResult> {
  const pool = { workers: options.workers ?? 1, onFailure: { substitute: failedTaskResult }, ...(options.signal === undefined ? {} : { signal: options.signal }) };
  const seen: ExecutionProvider[] = [];
  const held: DetectResult[] = [];
  for await (const result of orderedPool(new URL('./detect-worker.js', import.meta.url), tasks, pool, runDetectTask)) {
    if (result.provider !== undefined) seen.push(result.provider);
    held.push(result);
    if (seen.length === 0) continue;
    for (const waiting of held.splice(0)) yield { result: waiting, providers: providerList(seen) };
  }
  for (const waiting of held) yield { result: waiting, providers: providerList(seen) };
}

/** errors.jsonl's text: one JSON object per line. */
export function errorLines(errors: readonly SourceError[]): string {
  return errors.map((e) => `${JSON.stringify(e)}\n`).join('');
}

export async function runDetection(options: RunOptions): Promise<RunSummary> {
  const started = performance.now();
  // Listed once: a survey folder can hold 10^5 files. Tile mode has no list until its catalogue is read.
  const files = options.tile === undefined ? listInputFiles(options.inputs) : undefined;
  const total = files?.length;
  await ensureOutputDir(options.out);
  const outputs = ['catalog.arrow', 'summary.json', 'errors.jsonl'];
  await removeStaleTemporaries(options.out, (target) => outputs.includes(target));
  const catalog = path.join(options.out, 'catalog.arrow');
  const inputs = options.tile === undefined ? options.inputs : [options.tile.tile, options.tile.catalog, ...(options.tile.rms === undefined ? [] : [options.tile.rms]), ...(options.tile.psf === undefined ? [] : [options.tile.psf])];
  const metadata = runMetadata(readCard(options.cardPath), options.settings, inputs, options.tile === undefined ? undefined : [options.tile]);
  const tally = new RunTally();
  const errors: SourceError[] = [];
  let providers = providerList([]);
  let writer: CatalogWriter | undefined;
  try {
    for await (const pooled of detectionPool(await detectTasks(options, files), options)) {
      const { result } = pooled;
      providers = pooled.providers;
      writer ??= await CatalogWriter.create(catalog, { ...metadata, executionProvider: providers });
      for (const row of result.rows) {
        writer.append(row);
        tally.add(row);
      }
      for (const error of result.errors) {
        errors.push(error);
        options.onSourceError?.(error);
      }
      options.onProgress?.(writer.rows, total);
    }
    writer ??= await CatalogWriter.create(catalog, { ...metadata, executionProvider: providers });
    const errorsFile = path.join(options.out, 'errors.jsonl');
    await writeAtomically(errorsFile, (file) => file.write(Buffer.from(errorLines(errors))));
    await writer.close();
    const summary: RunSummary = { catalog, ...tally.counts(), errors: errorsFile, seconds: (performance.now() - started) / 1000, provider: providers };
    await writeAtomically(path.join(options.out, 'summary.json'), (file) => file.write(Buffer.from(`${JSON.stringify(summary, null, 2)}\n`)));
    return summary;
  } catch (error) {
    await writer?.abort();
    throw error;
  }
}

/**
 * One unit of a run for the worker pool: a group of cutout files, or of catalogue objects on a tile,
 * in; their catalogue rows out. Each worker thread keeps its own model sessions; results do not
 * depend on which worker scored what (seeds per object, fixed model chunks).
 */

import { encodeFlags } from '../catalog/flags.js';
import type { CatalogRow } from '../catalog/schema.js';
import { objectIdFor } from '../cutout/from-files.js';
import { TileReader, type TileInput, type TileObjects } from '../cutout/from-tile.js';
import { VisAgnError } from '../errors.js';
import { CoreGenerator } from '../model/generator.js';
import type { DeviceRequest } from '../model/runtime.js';
import { CORE_SEARCH } from '../score/prepare.js';
import { emptyScores, fileSources, scoreGroup, significanceCalibration, type DetectionConfig, type ScoringOptions } from './run.js';

/** Cutout files, or objects to cut from one tile. */
export type TaskInputs = { readonly files: readonly string[] } | { readonly tile: TileInput; readonly objects: TileObjects };

export interface DetectTask {
  readonly inputs: TaskInputs;
  readonly cardPath: string;
  readonly config: DetectionConfig;
  readonly device: DeviceRequest;
  readonly threads: number;
}

export interface DetectResult {
  readonly rows: CatalogRow[];
  /** Inputs that could not be read, with the error's message (their rows are flagged). */
  readonly unreadable: { readonly file: string; readonly message: string }[];
  /** Set when the task failed twice and its rows are placeholders flagged inference_failed. */
  readonly failure?: string;
}

/** The task that scores `inputs` as `options` say. */
export function detectTask(options: ScoringOptions, inputs: TaskInputs): DetectTask {
  return { inputs, cardPath: options.cardPath, config: options.config, device: options.device, threads: options.threads };
}

let loaded: { key: string; generator: Promise<CoreGenerator> } | undefined;

function generatorFor(task: DetectTask): Promise<CoreGenerator> {
  const key = JSON.stringify([task.cardPath, task.device, task.threads]);
  if (loaded?.key !== key) loaded = { key, generator: CoreGenerator.load(task.cardPath, { device: task.device, threads: task.threads }) };
  return loaded.generator;
}

export async function runDetectTask(task: DetectTask): Promise<DetectResult> {
  const generator = await generatorFor(task);
  const side = generator.crop + CORE_SEARCH - 1;
  const unreadable: { file: string; message: string }[] = [];
  const sources = [];
  if ('files' in task.inputs) {
    for await (const source of fileSources(task.inputs.files, task.config.hduNames, side, (file, error: VisAgnError) => unreadable.push({ file, message: error.message }))) {
      sources.push(source);
    }
  } else {
    // Opened per task: a few header reads, against seconds of scoring, and no descriptor outlives it.
    const reader = TileReader.open(task.inputs.tile, task.config.hduNames);
    try {
      sources.push(...reader.cut(task.inputs.objects, side));
    } finally {
      reader.close();
    }
  }
  return { rows: await scoreGroup(generator, sources, task.config, significanceCalibration(generator)), unreadable };
}

/** The rows of a task that failed twice: what is known of each input, flagged inference_failed. */
export function failedTaskResult(task: DetectTask, error: unknown): DetectResult {
  const flags = encodeFlags(['inference_failed']);
  const base = { hdu: '', flags, is_candidate: false, candidate_class: 'none' as const, ...emptyScores };
  const message = error instanceof Error ? error.message : String(error);
  if ('files' in task.inputs) {
    return { rows: task.inputs.files.map((file) => ({ ...base, object_id: objectIdFor(file, []).objectId, source_file: file, ra: null, dec: null })), unreadable: [], failure: message };
  }
  const { tile, objects } = task.inputs;
  return { rows: objects.ids.map((id, i) => ({ ...base, object_id: id, source_file: tile.tile, ra: objects.ra[i]!, dec: objects.dec[i]! })), unreadable: [], failure: message };
}

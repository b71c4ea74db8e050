/**
 * One unit of a run for the worker pool: a group of cutout files, or of catalogue objects on a tile,
 * in; their catalogue rows, and the execution provider that scored them, out. Each worker thread keeps
 * its own model sessions; results do not depend on which worker scored what (seeds per object, fixed
 * model chunks).
 */

import { encodeFlags } from '../ground/flags.js';
import type { CatalogRow } from '../catalog/schema.js';
import { objectIdFor, type CutoutSource } from '../cutout/from-files.js';
import { TileReader, type TileInput, type TileObjects } from '../cutout/from-tile.js';
import { CoreGenerator } from '../model/generator.js';
import type { ExecutionProvider } from '../model/runtime.js';
import { CORE_SEARCH } from '../detect/prepare.js';
import { significanceCalibration, type DetectionSettings } from '../detect/settings.js';
import { emptyScores, fileSources, scoreGroup, sourceError, type ModelExecution, type ScoredGroup, type ScoringOptions, type UnreadableInput } from './run.js';

/** Cutout files, or objects to cut from one tile. */
export type TaskInputs = { readonly files: readonly string[] } | { readonly tile: TileInput; readonly objects: TileObjects };

export interface DetectTask extends ModelExecution {
  readonly inputs: TaskInputs;
  readonly settings: DetectionSettings;
}

/**
 * The task's rows in order, the failures among them (unreadable inputs, sources that could not be
 * scored) and the provider its sessions ran on; none when its worker died and the rows stand in.
 */
export interface DetectResult extends ScoredGroup {
  readonly provider?: ExecutionProvider;
}

/** The task that scores `inputs` as `options` say. */
export function detectTask(options: ScoringOptions, inputs: TaskInputs): DetectTask {
  return { inputs, cardPath: options.cardPath, device: options.device, threads: options.threads, settings: options.settings };
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
  const sources: (CutoutSource | UnreadableInput)[] = [];
  if ('files' in task.inputs) {
    sources.push(...fileSources(task.inputs.files, task.settings.hduNames, side));
  } else {
    // Opened per task: a few header reads, against seconds of scoring, and no descriptor outlives it.
    const reader = TileReader.open(task.inputs.tile, task.settings.hduNames);
    try {
      sources.push(...reader.cut(task.inputs.objects, side));
    } finally {
      reader.close();
    }
  }
  return { ...(await scoreGroup(generator, sources, task.settings, significanceCalibration(generator.loaded))), provider: generator.provider };
}

/** The rows of a task whose worker thread died twice: what is known of each input, flagged inference_failed. */
export function failedTaskResult(task: DetectTask, error: unknown): DetectResult {
  const flags = encodeFlags(['inference_failed']);
  const base = { hdu: '', flags, is_candidate: false, candidate_class: 'none' as const, ...emptyScores };
  const reason = `its worker thread died twice: ${error instanceof Error ? error.message : String(error)}`;
  const rows: CatalogRow[] =
    'files' in task.inputs
      ? task.inputs.files.map((file) => ({ ...base, object_id: objectIdFor(file, []).objectId, source_file: file, ra: null, dec: null }))
      : task.inputs.objects.ids.map((id, i) => {
          const { tile, objects } = task.inputs as { tile: TileInput; objects: TileObjects };
          return { ...base, object_id: id, source_file: tile.tile, ra: objects.ra[i]!, dec: objects.dec[i]! };
        });
  return { rows, errors: rows.map((row) => sourceError(row, 'inference_failed', reason)) };
}

/**
 * One unit of a run for the worker pool: a group of cutout files in, their catalogue rows out. Each
 * worker thread keeps its own model sessions; results do not depend on which worker scored what
 * (seeds per object, fixed model chunks).
 */

import type { CatalogRow } from '../catalog/schema.js';
import { VisAgnError } from '../errors.js';
import { CoreGenerator } from '../model/generator.js';
import type { DeviceRequest } from '../model/runtime.js';
import { CORE_SEARCH } from '../score/prepare.js';
import { fileSources, scoreGroup, significanceCalibration, type DetectionConfig } from './run.js';

export interface DetectTask {
  readonly files: readonly string[];
  readonly cardPath: string;
  readonly config: DetectionConfig;
  readonly device: DeviceRequest;
  readonly threads: number;
}

export interface DetectResult {
  readonly rows: CatalogRow[];
  /** Inputs that could not be read, with the error's message (their rows are flagged). */
  readonly unreadable: { readonly file: string; readonly message: string }[];
}

let loaded: { key: string; generator: Promise<CoreGenerator> } | undefined;

function generatorFor(task: DetectTask): Promise<CoreGenerator> {
  const key = JSON.stringify([task.cardPath, task.device, task.threads]);
  if (loaded?.key !== key) loaded = { key, generator: CoreGenerator.load(task.cardPath, { device: task.device, threads: task.threads }) };
  return loaded.generator;
}

export async function runDetectTask(task: DetectTask): Promise<DetectResult> {
  const generator = await generatorFor(task);
  const unreadable: { file: string; message: string }[] = [];
  const sources = [];
  for await (const source of fileSources(task.files, task.config.hduNames, generator.crop + CORE_SEARCH - 1, (file, error: VisAgnError) => unreadable.push({ file, message: error.message }))) {
    sources.push(source);
  }
  return { rows: await scoreGroup(generator, sources, task.config, significanceCalibration(generator)), unreadable };
}

/**
 * The units of work of a simulation run, as plain data in and out so they can cross into worker
 * threads: a range of object ids rendered as stamps (returned) or as cutout files (written here), or
 * a strip of tile rows. Each result depends only on the task, never on which thread ran it.
 */

import path from 'node:path';

import { writeFits } from '../fits/writer.js';
import { cutoutFileName, cutoutHdus, simulateObject, type Provenance } from './products.js';
import type { SimRecipe } from './scene.js';
import { renderTileStrip, type TileRun, type TileStrip } from './tile.js';
import type { TruthRow } from './truth.js';

interface ObjectRange {
  readonly recipe: SimRecipe;
  readonly seed: number;
  /** Object `firstId + k` goes to output index `firstIndex + k`. */
  readonly firstId: number;
  readonly firstIndex: number;
  readonly count: number;
}

export interface StampTask extends ObjectRange {
  readonly kind: 'stamps';
  readonly width: number;
  readonly height: number;
}

export interface StampResult {
  /** (count, height, width) float32 each. */
  readonly images: Float32Array;
  readonly rms: Float32Array;
  /** The target's point source alone, noise-free (zero for galaxies). */
  readonly point: Float32Array;
  /** Per-stamp sky noise sigma. */
  readonly sigma: Float32Array;
  readonly truth: TruthRow[];
  readonly neighbours: TruthRow[];
}

export interface CutoutTask extends ObjectRange {
  readonly kind: 'cutouts';
  readonly size: number;
  readonly dir: string;
  readonly provenance: Provenance;
}

export interface CutoutResult {
  readonly truth: TruthRow[];
  readonly neighbours: TruthRow[];
}

export interface StripTask {
  readonly kind: 'strip';
  readonly run: TileRun;
  readonly y0: number;
  readonly rows: number;
}

export type SimTask = StampTask | CutoutTask | StripTask;
export type SimResult<T extends SimTask> = T extends StampTask ? StampResult : T extends CutoutTask ? CutoutResult : TileStrip;

export function runStampTask(task: StampTask): StampResult {
  const pixels = task.width * task.height;
  const images = new Float32Array(task.count * pixels);
  const rms = new Float32Array(task.count * pixels);
  const point = new Float32Array(task.count * pixels);
  const sigma = new Float32Array(task.count);
  const truth: TruthRow[] = [];
  const neighbours: TruthRow[] = [];
  for (let k = 0; k < task.count; k++) {
    const product = simulateObject(task.recipe, task.seed, task.firstId + k, task.firstIndex + k, task.width, task.height, { point: true });
    images.set(product.image, k * pixels);
    rms.set(product.rms, k * pixels);
    point.set(product.point!, k * pixels);
    sigma[k] = product.truth.noise_sigma as number;
    truth.push(product.truth);
    neighbours.push(...product.neighbours);
  }
  return { images, rms, point, sigma, truth, neighbours };
}

/** Cutout files being written while the next ones render: each write waits on the disk (fsync) for a while. */
const WRITES_IN_FLIGHT = 8;

async function runCutoutTask(task: CutoutTask): Promise<CutoutResult> {
  const truth: TruthRow[] = [];
  const neighbours: TruthRow[] = [];
  const writing: Promise<void>[] = [];
  for (let k = 0; k < task.count; k++) {
    const product = simulateObject(task.recipe, task.seed, task.firstId + k, task.firstIndex + k, task.size);
    const write = writeFits(path.join(task.dir, cutoutFileName(product.id)), cutoutHdus(product, task.provenance));
    // Handled here so a failure waiting in the queue is not reported as unhandled; awaited below.
    write.catch(() => undefined);
    writing.push(write);
    truth.push(product.truth);
    neighbours.push(...product.neighbours);
    // Let the pending writes' I/O callbacks run between renders.
    if (writing.length >= WRITES_IN_FLIGHT) await writing.shift();
    else await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(writing);
  return { truth, neighbours };
}

export async function runTask<T extends SimTask>(task: T): Promise<SimResult<T>> {
  switch (task.kind) {
    case 'stamps':
      return runStampTask(task) as SimResult<T>;
    case 'cutouts':
      return (await runCutoutTask(task)) as SimResult<T>;
    case 'strip':
      return renderTileStrip(task.run, task.y0, task.rows) as SimResult<T>;
  }
  throw new Error(`unknown task ${(task as SimTask).kind}`);
}

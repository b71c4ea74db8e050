/**
 * Training shards for the trainer (pipelines/train, format in docs/sim-shards.md): stamps as raw
 * little-endian float32 arrays (n, h, w) in shards of `shardSize`, their RMS maps, per-stamp noise
 * sigma, Arrow truth tables and a manifest written last, so a folder with a manifest is complete.
 * Not the run shards of src/batch/shards.ts (slices of a survey run; README, "Two kinds of shard").
 */

import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { AtomicFile, writeAtomically } from '../atomic-file.js';
import { OutputError } from '../errors.js';
import { runOrdered, defaultWorkers } from './pool.js';
import { MAGZERO, MICROJANSKY_PER_UNIT, PIXEL_SCALE_ARCSEC } from '../ground/vis.js';
import { generatorVersion } from '../ground/version.js';
import { DEFAULT_RECIPE, recipeDigest } from './recipe.js';
import type { SimRecipe } from './scene.js';
import type { StampTask } from './tasks.js';
import { NEIGHBOUR_COLUMNS, TARGET_COLUMNS, writeTruth, type TruthRow } from './truth.js';

export const SHARDS_SCHEMA = 'vis-agn/shards/1';

export interface ShardOptions {
  readonly count: number;
  readonly seed: number;
  readonly out: string;
  /** Stamp side (square) in pixels; default 64, the centre crop of the 100x100 cutout. */
  readonly stamp?: number;
  readonly shardSize?: number;
  readonly recipe?: SimRecipe;
  readonly workers?: number;
  /** Object id of the first stamp; default 1. */
  readonly firstId?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ShardFile {
  readonly path: string;
  readonly kind: 'image' | 'rms' | 'point' | 'sigma';
  readonly dtype: 'float32';
  readonly shape: readonly number[];
  /** Index of the file's first stamp. */
  readonly first: number;
}

export interface ShardManifest {
  readonly schema: typeof SHARDS_SCHEMA;
  readonly generator: { readonly name: 'vis-agn'; readonly version: string };
  readonly seed: number;
  readonly firstId: number;
  readonly count: number;
  readonly stamp: { readonly width: number; readonly height: number };
  readonly byteOrder: 'little';
  readonly units: { readonly magzero: number; readonly microjanskyPerUnit: number; readonly pixelScaleArcsec: number };
  readonly recipe: SimRecipe;
  readonly recipeDigest: string;
  readonly files: readonly ShardFile[];
  readonly truth: { readonly path: string; readonly rows: number };
  readonly neighbours: { readonly path: string; readonly rows: number };
}

const SHARD_KINDS = ['image', 'rms', 'point', 'sigma'] as const satisfies readonly ShardFile['kind'][];

/** Stamps per task: enough to amortise the hand-over to a worker, few enough to keep memory small. */
const TASK_STAMPS = 128;

function* stampTasks(recipe: SimRecipe, seed: number, firstId: number, count: number, side: number, shardSize: number): Generator<StampTask> {
  for (let shardStart = 0; shardStart < count; shardStart += shardSize) {
    const shardEnd = Math.min(count, shardStart + shardSize);
    for (let start = shardStart; start < shardEnd; start += TASK_STAMPS) {
      yield { kind: 'stamps', recipe, seed, firstId: firstId + start, firstIndex: start, count: Math.min(TASK_STAMPS, shardEnd - start), width: side, height: side };
    }
  }
}

function bytesOf(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export async function writeTrainingShards(options: ShardOptions): Promise<ShardManifest> {
  const { count, seed, out } = options;
  const side = options.stamp ?? 64;
  const shardSize = options.shardSize ?? 10000;
  const recipe = options.recipe ?? DEFAULT_RECIPE;
  const firstId = options.firstId ?? 1;
  if (new Uint8Array(Float32Array.of(1).buffer)[3] !== 0x3f) throw new OutputError('shards are little-endian and this machine is not');
  await mkdir(out, { recursive: true });

  const files: ShardFile[] = [];
  const truth: TruthRow[] = [];
  const neighbours: TruthRow[] = [];
  const shardFile = (shard: number, kind: ShardFile['kind']): string => `shard-${String(shard).padStart(5, '0')}.${kind}.f32`;
  let open: ({ shard: number; first: number; size: number } & Record<ShardFile['kind'], AtomicFile>) | undefined;
  const finishShard = async (): Promise<void> => {
    if (open === undefined) return;
    for (const kind of SHARD_KINDS) {
      await open[kind].commit();
      files.push({ path: shardFile(open.shard, kind), kind, dtype: 'float32', shape: kind === 'sigma' ? [open.size] : [open.size, side, side], first: open.first });
    }
    open = undefined;
  };
  try {
    for await (const result of runOrdered(stampTasks(recipe, seed, firstId, count, side, shardSize), options.workers ?? defaultWorkers())) {
      const index = truth.length;
      if (open === undefined) {
        const shard = files.length / SHARD_KINDS.length;
        const create = (kind: ShardFile['kind']): Promise<AtomicFile> => AtomicFile.create(path.join(out, shardFile(shard, kind)));
        open = { shard, first: index, size: Math.min(shardSize, count - index), image: await create('image'), rms: await create('rms'), point: await create('point'), sigma: await create('sigma') };
      }
      await open.image.write(bytesOf(result.images));
      await open.rms.write(bytesOf(result.rms));
      await open.point.write(bytesOf(result.point));
      await open.sigma.write(bytesOf(result.sigma));
      truth.push(...result.truth);
      neighbours.push(...result.neighbours);
      options.onProgress?.(truth.length, count);
      if (truth.length === open.first + open.size) await finishShard();
    }
  } catch (error) {
    const unfinished = open;
    if (unfinished !== undefined) for (const kind of SHARD_KINDS) await unfinished[kind].abort();
    throw error;
  }

  const digest = recipeDigest(recipe);
  const metadata = { schema: SHARDS_SCHEMA, seed: String(seed), recipe_digest: digest };
  await writeTruth(path.join(out, 'truth.arrow'), TARGET_COLUMNS, truth, metadata);
  await writeTruth(path.join(out, 'neighbours.arrow'), NEIGHBOUR_COLUMNS, neighbours, metadata);
  const manifest: ShardManifest = {
    schema: SHARDS_SCHEMA,
    generator: { name: 'vis-agn', version: generatorVersion() },
    seed,
    firstId,
    count,
    stamp: { width: side, height: side },
    byteOrder: 'little',
    units: { magzero: MAGZERO, microjanskyPerUnit: MICROJANSKY_PER_UNIT, pixelScaleArcsec: PIXEL_SCALE_ARCSEC },
    recipe,
    recipeDigest: digest,
    files,
    truth: { path: 'truth.arrow', rows: truth.length },
    neighbours: { path: 'neighbours.arrow', rows: neighbours.length },
  };
  await writeAtomically(path.join(out, 'manifest.json'), (file) => file.write(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)));
  return manifest;
}

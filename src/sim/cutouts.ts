/**
 * Simulated cutouts in the real Q1 MER layout, one FITS file per object in `<out>/cutouts/`, with the
 * truth tables and a manifest beside them. Workers write their cutouts themselves; the tables are
 * assembled in object order.
 */

import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { writeAtomically } from '../atomic-file.js';
import { defaultWorkers, runOrdered } from './pool.js';
import { cutoutFileName } from './products.js';
import { generatorVersion } from '../ground/version.js';
import { DEFAULT_RECIPE, recipeDigest } from './recipe.js';
import type { SimRecipe } from './scene.js';
import type { CutoutTask } from './tasks.js';
import { NEIGHBOUR_COLUMNS, TARGET_COLUMNS, writeTruth, type TruthRow } from './truth.js';

export const CUTOUTS_SCHEMA = 'vis-agn/sim-cutouts/1';

export interface CutoutOptions {
  readonly count: number;
  readonly seed: number;
  readonly out: string;
  /** Side in pixels; default 100 like the Q1 cutouts. */
  readonly size?: number;
  readonly recipe?: SimRecipe;
  readonly workers?: number;
  readonly firstId?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

const TASK_CUTOUTS = 32;

export async function simulateCutouts(options: CutoutOptions): Promise<{ files: string[]; truth: string; neighbours: string }> {
  const { count, seed, out } = options;
  const size = options.size ?? 100;
  const recipe = options.recipe ?? DEFAULT_RECIPE;
  const firstId = options.firstId ?? 1;
  const dir = path.join(out, 'cutouts');
  await mkdir(dir, { recursive: true });
  const digest = recipeDigest(recipe);
  const provenance = { seed, recipeDigest: digest, version: generatorVersion() };
  function* tasks(): Generator<CutoutTask> {
    for (let start = 0; start < count; start += TASK_CUTOUTS) {
      yield { kind: 'cutouts', recipe, seed, firstId: firstId + start, firstIndex: start, count: Math.min(TASK_CUTOUTS, count - start), size, dir, provenance };
    }
  }
  const truth: TruthRow[] = [];
  const neighbours: TruthRow[] = [];
  for await (const result of runOrdered(tasks(), options.workers ?? defaultWorkers())) {
    truth.push(...result.truth);
    neighbours.push(...result.neighbours);
    options.onProgress?.(truth.length, count);
  }
  const metadata = { schema: CUTOUTS_SCHEMA, seed: String(seed), recipe_digest: digest };
  const truthPath = path.join(out, 'truth.arrow');
  const neighboursPath = path.join(out, 'neighbours.arrow');
  await writeTruth(truthPath, TARGET_COLUMNS, truth, metadata);
  await writeTruth(neighboursPath, NEIGHBOUR_COLUMNS, neighbours, metadata);
  const files = truth.map((row) => path.join('cutouts', cutoutFileName(row.object_id as number)));
  const manifest = {
    schema: CUTOUTS_SCHEMA,
    generator: { name: 'vis-agn', version: provenance.version },
    seed,
    firstId,
    count,
    size,
    recipe,
    recipeDigest: digest,
    files,
    truth: 'truth.arrow',
    neighbours: 'neighbours.arrow',
  };
  await writeAtomically(path.join(out, 'manifest.json'), (file) => file.write(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)));
  return { files: files.map((f) => path.join(out, f)), truth: truthPath, neighbours: neighboursPath };
}

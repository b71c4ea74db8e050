/**
 * `simulate tile`: a MER-like mosaic written as the real products are named and laid out: the
 * background-subtracted VIS mosaic (image in the primary HDU, TAN WCS, MAGZERO), its RMS mosaic, a
 * FITS catalogue of the catalogue-bright objects, and the truth as Arrow tables. Strips stream through
 * the FITS writer, so a 19200x19200 tile (1.5 GB) never sits in memory.
 */

import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { writeAtomically } from '../atomic-file.js';
import { FitsWriter, writeFits } from '../fits/writer.js';
import type { CardInput } from '../fits/card-format.js';
import { defaultWorkers, runOrdered } from './pool.js';
import { MAGZERO, MICROJANSKY_PER_UNIT } from '../ground/vis.js';
import { generatorVersion } from '../ground/version.js';
import { DEFAULT_RECIPE, recipeDigest } from './recipe.js';
import type { SimRecipe } from './scene.js';
import { DEFAULT_TILE, wcsCards, type Tile } from './sky.js';
import type { StripTask } from './tasks.js';
import { NEIGHBOUR_COLUMNS, TARGET_COLUMNS, writeTruth, type TruthRow } from './truth.js';

export const TILE_SCHEMA = 'vis-agn/sim-tile/1';

export interface TileOptions {
  readonly seed: number;
  readonly out: string;
  /** Side in pixels, up to the real 19200. */
  readonly size?: number;
  readonly tileIndex?: number;
  readonly recipe?: SimRecipe;
  readonly workers?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface TileFiles {
  readonly image: string;
  readonly rms: string;
  readonly catalogue: string;
  readonly truth: string;
  readonly neighbours: string;
}

const STRIP_ROWS = 128;

export function tileFileNames(tile: Tile, seed: number): { image: string; rms: string; catalogue: string } {
  const tag = `TILE${tile.index}-SIM${seed}`;
  return {
    image: `EUC_MER_BGSUB-MOSAIC-VIS_${tag}.fits`,
    rms: `EUC_MER_MOSAIC-VIS-RMS_${tag}.fits`,
    catalogue: `EUC_MER_FINAL-CAT_${tag}.fits`,
  };
}

export async function simulateTile(options: TileOptions): Promise<TileFiles> {
  const { seed, out } = options;
  const recipe = options.recipe ?? DEFAULT_RECIPE;
  const tile: Tile = { ...DEFAULT_TILE, size: options.size ?? DEFAULT_TILE.size, index: options.tileIndex ?? DEFAULT_TILE.index };
  const run = { recipe, seed, tile };
  await mkdir(out, { recursive: true });
  const names = tileFileNames(tile, seed);
  const digest = recipeDigest(recipe);
  const provenance: CardInput[] = [
    { key: 'TILEIDX', value: tile.index, comment: 'simulated MER tile index' },
    { key: 'ORIGIN', value: 'vis-agn simulate', comment: 'simulated, not Euclid data' },
    { key: 'SIMVERS', value: generatorVersion(), comment: 'vis-agn version' },
    { key: 'SIMSEED', value: seed, comment: 'run seed' },
    { key: 'SIMRECIP', value: digest, comment: 'SHA-256 prefix of the recipe JSON' },
  ];
  const filter: CardInput = { key: 'FILTER', value: 'VIS', comment: 'the filter name' };
  const imageCards = [...wcsCards(tile, 0, 0), { key: 'MAGZERO', value: MAGZERO, comment: 'AB zeropoint' }, filter, ...provenance];
  const image = await FitsWriter.create(path.join(out, names.image));
  const rms = await FitsWriter.create(path.join(out, names.rms));
  const objects: TruthRow[] = [];
  const field: TruthRow[] = [];
  try {
    await image.beginImage({ axes: [tile.size, tile.size], dtype: 'float32', cards: imageCards });
    await rms.beginImage({ axes: [tile.size, tile.size], dtype: 'float32', cards: [...wcsCards(tile, 0, 0), filter, ...provenance] });
    function* strips(): Generator<StripTask> {
      for (let y0 = 0; y0 < tile.size; y0 += STRIP_ROWS) yield { kind: 'strip', run, y0, rows: Math.min(STRIP_ROWS, tile.size - y0) };
    }
    for await (const strip of runOrdered(strips(), options.workers ?? defaultWorkers())) {
      await image.writePixels(strip.image);
      await rms.writePixels(strip.rms);
      objects.push(...strip.objects);
      field.push(...strip.field);
      options.onProgress?.(strip.y0 + strip.rows, tile.size);
    }
    await image.close();
    await rms.close();
  } catch (error) {
    await image.abort();
    await rms.abort();
    throw error;
  }
  // Catalogue order is object id order, as the strips are; the index is the row.
  const indexed = objects.sort((a, b) => (a.object_id as number) - (b.object_id as number)).map((row, index): TruthRow => ({ ...row, index }));
  await writeFits(path.join(out, names.catalogue), [
    { type: 'empty', cards: provenance },
    {
      type: 'bintable',
      name: 'CATALOG',
      cards: provenance,
      columns: [
        { name: 'object_id', values: BigInt64Array.from(indexed, (r) => BigInt(r.object_id as number)) },
        { name: 'tile_index', values: BigInt64Array.from(indexed, () => BigInt(tile.index)) },
        { name: 'right_ascension', unit: 'deg', values: Float64Array.from(indexed, (r) => r.right_ascension as number) },
        { name: 'declination', unit: 'deg', values: Float64Array.from(indexed, (r) => r.declination as number) },
        { name: 'flux_detection_total', unit: 'uJy', values: Float32Array.from(indexed, (r) => r.flux_total as number) },
      ],
    },
  ]);
  const metadata = { schema: TILE_SCHEMA, seed: String(seed), recipe_digest: digest, tile_index: String(tile.index) };
  const truth = path.join(out, 'truth.arrow');
  const neighbours = path.join(out, 'neighbours.arrow');
  await writeTruth(truth, TARGET_COLUMNS, indexed, metadata);
  await writeTruth(neighbours, NEIGHBOUR_COLUMNS, field, metadata);
  const manifest = {
    schema: TILE_SCHEMA,
    generator: { name: 'vis-agn', version: generatorVersion() },
    seed,
    tile,
    recipe,
    recipeDigest: digest,
    microjanskyPerUnit: MICROJANSKY_PER_UNIT,
    ...names,
    truth: 'truth.arrow',
    neighbours: 'neighbours.arrow',
    objects: indexed.length,
  };
  await writeAtomically(path.join(out, 'manifest.json'), (file) => file.write(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)));
  return { image: path.join(out, names.image), rms: path.join(out, names.rms), catalogue: path.join(out, names.catalogue), truth, neighbours };
}

/**
 * A MER-like tile: one large mosaic (up to the real 19200x19200) with its RMS mosaic, a catalogue of
 * the catalogue-bright objects and the truth. Rendered in strips of rows, each a task on its own: the
 * sources are drawn per 32-pixel cell of the tile and the noise is counter-based in tile pixels, so a
 * strip needs nothing from its neighbours and the mosaic is the same whatever the worker count.
 */

import { Rng, STREAM, deriveKey, subKey, type Key } from '../random.js';
import { addNoise } from './noise.js';
import { CELL, MAX_PER_CELL, cellSources, choosePsf, drawObjectSource, renderSignal, type PlacedSource, type SimRecipe, type Window } from './scene.js';
import { tileWcs, type Tile } from './sky.js';
import { sourceValues, type TruthRow } from './truth.js';

export interface TileRun {
  readonly recipe: SimRecipe;
  readonly seed: number;
  readonly tile: Tile;
}

/** Streams of the tile's own draws, apart from objects' (seed, id) keys. */
const TILE_STREAM = 0x7469;

function tileKey(run: TileRun): Key {
  return deriveKey(run.seed, TILE_STREAM, run.tile.index);
}

/** One PSF, sky level and background pedestal per tile. */
function conditions(run: TileRun): { psf: ReturnType<typeof choosePsf>; level: number; background: number } {
  const rng = new Rng(subKey(tileKey(run), STREAM.placement));
  const psf = choosePsf(run.recipe.psf, rng);
  const level = rng.between(...run.recipe.noise.rmsRange);
  return { psf, level, background: run.recipe.noise.backgroundSigma * rng.normal() };
}

/** Object ids of a tile: from the cell and the index in it, unique within the tile and > 0. */
export function tileObjectId(tile: Tile, cx: number, cy: number, k: number): number {
  return (cy * Math.ceil(tile.size / CELL) + cx) * MAX_PER_CELL + k + 1;
}

export interface TileStrip {
  readonly y0: number;
  readonly rows: number;
  readonly image: Float32Array;
  readonly rms: Float32Array;
  /** Catalogued objects centred in these rows, by id. */
  readonly objects: TruthRow[];
  /** Field sources centred in these rows. */
  readonly field: TruthRow[];
}

export function renderTileStrip(run: TileRun, y0: number, rows: number): TileStrip {
  const { tile, recipe, seed } = run;
  const key = tileKey(run);
  const { psf, level, background } = conditions(run);
  const window: Window = { x0: 0, y0, width: tile.size, height: rows };
  const grown: Window = { x0: -1, y0: y0 - 1, width: tile.size + 2, height: rows + 2 };
  const bounds: Window = { x0: 0, y0: 0, width: tile.size, height: tile.size };
  const sources = cellSources(recipe, key, grown, {
    bounds,
    catalogued: (x, y, cx, cy, k): PlacedSource => {
      const id = tileObjectId(tile, cx, cy, k);
      return { ...drawObjectSource(recipe, seed, id, x, y), role: 'target', id };
    },
  });
  const signal = renderSignal(sources, psf, grown, level * recipe.noise.madToRms);
  const keys = { noise: subKey(key, STREAM.noise), coverage: subKey(key, STREAM.coverage) };
  const { image, rms } = addNoise(recipe.noise, keys, level, background, signal, window.x0, window.y0, window.width, window.height);
  const wcs = tileWcs(tile);
  const objects: TruthRow[] = [];
  const field: TruthRow[] = [];
  const inRows = (s: PlacedSource): boolean => s.y >= y0 - 0.5 && s.y < y0 + rows - 0.5;
  for (const s of sources.filter(inRows).sort((a, b) => (a.id ?? 0) - (b.id ?? 0))) {
    const values = sourceValues(s, s.x, s.y, wcs.pixelToSky(s.x, s.y));
    if (s.role === 'target') {
      objects.push({ index: -1, object_id: s.id!, ...values, psf: psf.name, rms_level: level, noise_sigma: level * recipe.noise.madToRms, background, n_neighbours: 0 });
    } else {
      field.push({ parent_index: -1, parent_id: 0, role: s.role, ...values });
    }
  }
  return { y0, rows, image, rms, objects, field };
}

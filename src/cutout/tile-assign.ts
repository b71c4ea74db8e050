/**
 * Which tile each catalogue object belongs to. MER tiles overlap at their margins; an object belongs to
 * the one tile whose core area holds it, so it is cut out once however the tiles overlap. Run shards
 * (batch/shards.ts) and training stamps (stamps/write.ts) both place objects this way.
 */

import { UsageError } from '../errors.js';
import { DEFAULT_HDU_NAMES, type HduNames } from './from-files.js';
import { readTileObjects, TileReader, type TileInput, type TileObjects } from './from-tile.js';

/** A tile's files; the catalogue and its column names are given once for all tiles. */
export type TileFiles = Pick<TileInput, 'tile' | 'rms' | 'psf'>;
export type CatalogueSpec = Pick<TileInput, 'catalog' | 'raColumn' | 'decColumn' | 'idColumn'>;

/**
 * How far (x, y) lies from the centre of a width x height image, in units of its half-sides;
 * Infinity off the image. MER tiles overlap at their margins, and an object belongs to the tile whose
 * centre is nearest: on a regular tiling of equal tiles those regions are exactly the core areas.
 */
export function coreDistance(x: number, y: number, width: number, height: number): number {
  const dx = Math.abs(x - (width - 1) / 2) / (width / 2);
  const dy = Math.abs(y - (height - 1) / 2) / (height / 2);
  return dx < 1 && dy < 1 ? Math.hypot(dx, dy) : Infinity;
}

/** For each catalogue row, the tile whose core area holds it (lowest index on a tie), or -1. */
export function assignToTiles(tiles: readonly { readonly x: ArrayLike<number>; readonly y: ArrayLike<number>; readonly width: number; readonly height: number }[], rows: number): Int32Array {
  const owner = new Int32Array(rows).fill(-1);
  const best = new Float64Array(rows).fill(Infinity);
  tiles.forEach((tile, t) => {
    for (let row = 0; row < rows; row++) {
      const d = coreDistance(tile.x[row]!, tile.y[row]!, tile.width, tile.height);
      if (d < best[row]!) {
        best[row] = d;
        owner[row] = t;
      }
    }
  });
  return owner;
}

export interface TilePlacement {
  /** The catalogue's objects. */
  readonly objects: TileObjects;
  /** (tile, catalogue row) of every object on a tile: tile by tile, rows ascending within a tile. */
  readonly entries: readonly { readonly tile: number; readonly row: number }[];
  /** Catalogue rows on no tile: listed, never silently dropped. */
  readonly unassigned: readonly number[];
}

/** Every catalogue object placed on the one tile whose core area holds it. */
export async function placeOnTiles(catalogue: CatalogueSpec, tiles: readonly TileFiles[], names: HduNames = DEFAULT_HDU_NAMES): Promise<TilePlacement> {
  if (tiles.length === 0) throw new UsageError('give at least one --tile');
  const objects = await readTileObjects(catalogue);
  const placed = tiles.map((files) => {
    const reader = TileReader.open({ ...files, ...catalogue }, names);
    try {
      return { ...reader.wcs.skyToPixelMany(objects.ra, objects.dec), width: reader.width, height: reader.height };
    } finally {
      reader.close();
    }
  });
  const owner = assignToTiles(placed, objects.ids.length);
  const entries: { tile: number; row: number }[] = [];
  const unassigned: number[] = [];
  owner.forEach((tile, row) => (tile < 0 ? unassigned.push(row) : entries.push({ tile, row })));
  entries.sort((a, b) => a.tile - b.tile || a.row - b.row);
  return { objects, entries, unassigned };
}

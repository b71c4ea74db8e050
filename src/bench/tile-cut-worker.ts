/** A piscina worker for bench:stages: cuts a block of catalogue objects from a tile, scores nothing. */

import { DEFAULT_HDU_NAMES } from '../cutout/from-files.js';
import { TileReader, type TileInput, type TileObjects } from '../cutout/from-tile.js';

export interface TileCutTask {
  readonly tile: TileInput;
  readonly objects: TileObjects;
  readonly side: number;
}

/** How many cutouts came out, and a sum of their pixels so no read can be skipped. */
export function cutTileBlock(task: TileCutTask): { cutouts: number; sum: number } {
  const reader = TileReader.open(task.tile, DEFAULT_HDU_NAMES);
  let cutouts = 0;
  let sum = 0;
  try {
    for (const source of reader.cut(task.objects, task.side)) {
      cutouts++;
      sum += source.pixels[(source.side * source.side) >> 1]! + (source.rms?.[0] ?? 0);
    }
  } finally {
    reader.close();
  }
  return { cutouts, sum };
}

export default cutTileBlock;

/**
 * The tile-mode options `plan` and `stamps` share (MER tiles, their RMS mosaics, a PSF, the catalogue
 * and its column names), read the same way by both, and what `run` says when tile mode falls back.
 */

import type { TileInput } from '../cutout/from-tile.js';
import type { TileFiles } from '../cutout/tile-assign.js';
import { UsageError } from '../errors.js';

export interface TileInputOptions {
  tile?: string[];
  rms?: string[];
  psf?: string;
  catalog?: string;
  raCol?: string;
  decCol?: string;
  idCol?: string;
}

/** The tiles with their RMS mosaics, paired in the order given. */
export function tileFilesOf(options: TileInputOptions): TileFiles[] {
  const tiles = options.tile ?? [];
  const rms = options.rms ?? [];
  if (rms.length > 0 && rms.length !== tiles.length) throw new UsageError(`give one --rms per --tile (${tiles.length} tiles, ${rms.length} RMS mosaics)`);
  return tiles.map((tile, i) => ({ tile, ...(rms[i] === undefined ? {} : { rms: rms[i] }), ...(options.psf === undefined ? {} : { psf: options.psf }) }));
}

/**
 * What tile mode falls back on without --rms or --psf, said once before the run: otherwise the only
 * sign is a flag on every row.
 */
export function tileModeWarnings(tile: TileInput): string[] {
  return [
    ...(tile.rms === undefined ? ['no --rms: the noise of every source is estimated from the tile itself (every row flagged no_rms_map)'] : []),
    ...(tile.psf === undefined ? ['no --psf: the mean Q1 VIS PSF is used for every source (every row flagged no_psf_hdu)'] : []),
  ];
}

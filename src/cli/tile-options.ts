/**
 * The tile-mode options `plan` and `stamps` share (MER tiles, their RMS mosaics, a PSF, the catalogue
 * and its column names), read the same way by both.
 */

import type { TileFiles } from '../batch/shards.js';
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

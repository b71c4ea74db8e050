/**
 * Sources cut from a MER mosaic tile at the positions of a catalogue: each object's window is read as
 * a section (only the rows it needs, never the 1.5 GB tile), its RMS from the RMS mosaic beside it, the
 * PSF from a stamp file or the default. Windows that leave the tile are zero-filled and flagged.
 */

import type { FlagName } from '../ground/flags.js';
import { InvalidInputError } from '../errors.js';
import { openFits, type FitsFile, type FitsHdu } from '../fits/file.js';
import { wcsFromHeader, type TanWcs } from '../fits/wcs.js';
import { psfFromStamp, type Psf } from '../ground/psf.js';
import { readPositionTable } from '../ground/table.js';
import { MAGZERO } from '../ground/vis.js';
import { findImageHdu, windowAround, type CutoutSource, type HduNames } from './from-files.js';
import { psfProblem } from './validate.js';

export interface TileInput {
  readonly tile: string;
  /** Catalogue with positions (RA/Dec columns found by name) and object ids (object_id). */
  readonly catalog: string;
  readonly rms?: string;
  /** A PSF stamp FITS file (odd, square); without one the default VIS PSF. */
  readonly psf?: string;
  readonly raColumn?: string;
  readonly decColumn?: string;
  readonly idColumn?: string;
}

export function readPsfFile(file: string): Psf {
  const fits = openFits(file);
  try {
    const hdu = fits.hdus.find((h) => (h.kind === 'image' || h.kind === 'compressed-image') && fits.imageHeader(h).getInt('NAXIS', 0) === 2);
    if (hdu === undefined) throw new InvalidInputError('no 2-D image HDU holding a PSF stamp', { file });
    const image = fits.readImage(hdu);
    const [w = 0, h = 1] = image.axes;
    const values = Array.from(image.data as ArrayLike<number>, Number);
    const problem = psfProblem(w, h, values);
    if (problem !== undefined) throw new InvalidInputError(problem, { file, hdu: hdu.name || hdu.index });
    return psfFromStamp(file, w, values);
  } finally {
    fits.close();
  }
}

/** The catalogue's objects: ids (validated integers), positions in degrees, in catalogue order. */
export interface TileObjects {
  readonly ids: readonly bigint[];
  readonly ra: Float64Array;
  readonly dec: Float64Array;
}

export async function readTileObjects(input: Pick<TileInput, 'catalog' | 'raColumn' | 'decColumn' | 'idColumn'>): Promise<TileObjects> {
  const catalogue = await readPositionTable(input.catalog, {
    ...(input.raColumn === undefined ? {} : { raColumn: input.raColumn }),
    ...(input.decColumn === undefined ? {} : { decColumn: input.decColumn }),
    ...(input.idColumn === undefined ? {} : { idColumn: input.idColumn }),
  });
  if (catalogue.id === null) throw new InvalidInputError('catalogue has no object id column (object_id); name it with --id-col', { file: input.catalog });
  const ids = catalogue.id.map((id, row) => {
    if (id === null || !/^-?\d+$/.test(id.trim())) throw new InvalidInputError(`row ${row + 1}: object id ${JSON.stringify(id)} is not an integer`, { file: input.catalog });
    return BigInt(id.trim());
  });
  return { ids, ra: catalogue.ra, dec: catalogue.dec };
}

/** The rows `rows` of `objects` (all of them when omitted), as a smaller TileObjects. */
export function selectObjects(objects: TileObjects, rows: readonly number[]): TileObjects {
  return { ids: rows.map((r) => objects.ids[r]!), ra: Float64Array.from(rows, (r) => objects.ra[r]!), dec: Float64Array.from(rows, (r) => objects.dec[r]!) };
}

/** A tile opened for cutting: its image and RMS HDUs, WCS and PSF; close it when done. */
export class TileReader {
  private constructor(
    private readonly input: TileInput,
    private readonly image: { readonly fits: FitsFile; readonly hdu: FitsHdu },
    private readonly rms: { readonly fits: FitsFile; readonly hdu: FitsHdu } | undefined,
    readonly width: number,
    readonly height: number,
    readonly wcs: TanWcs,
    private readonly magzero: number,
    private readonly psf: Psf | undefined,
  ) {}

  static open(input: TileInput, names: HduNames): TileReader {
    const psf = input.psf === undefined ? undefined : readPsfFile(input.psf);
    const tile = openFits(input.tile);
    let rmsFile: FitsFile | undefined;
    try {
      rmsFile = input.rms === undefined ? undefined : openFits(input.rms);
      const hdu = findImageHdu(tile, names.flux);
      const header = tile.imageHeader(hdu);
      const wcs = wcsFromHeader(header, { file: input.tile, hdu: hdu.name || hdu.index });
      const magzero = header.getNumber('MAGZERO', tile.hdu(0).header.getNumber('MAGZERO', MAGZERO));
      const rms = rmsFile === undefined ? undefined : { fits: rmsFile, hdu: findImageHdu(rmsFile, names.rms) };
      return new TileReader(input, { fits: tile, hdu }, rms, header.getInt('NAXIS1'), header.getInt('NAXIS2'), wcs, magzero, psf);
    } catch (error) {
      tile.close();
      rmsFile?.close();
      throw error;
    }
  }

  /** The objects as sources, in order, each read as two small sections (image and RMS). */
  *cut(objects: TileObjects, side: number): Generator<CutoutSource> {
    const pixels = this.wcs.skyToPixelMany(objects.ra, objects.dec);
    for (let row = 0; row < objects.ids.length; row++) {
      const xCenter = Math.round(pixels.x[row]!);
      const yCenter = Math.round(pixels.y[row]!);
      const flags: FlagName[] = [];
      const { clipped, ...window } = windowAround(this.image, this.rms, xCenter, yCenter, side, this.width, this.height);
      if (clipped) flags.push('off_tile_edge');
      if (this.psf === undefined) flags.push('no_psf_hdu');
      yield {
        sourceFile: this.input.tile,
        hdu: this.image.hdu.name || String(this.image.hdu.index),
        objectId: objects.ids[row]!,
        objectIdSource: 'catalogue',
        ra: objects.ra[row]!,
        dec: objects.dec[row]!,
        xCenter,
        yCenter,
        magzero: this.magzero,
        ...window,
        psf: this.psf,
        flags,
      };
    }
  }

  close(): void {
    this.image.fits.close();
    this.rms?.fits.close();
  }
}

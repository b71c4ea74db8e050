/**
 * Sources cut from a MER mosaic tile at the positions of a catalogue: each object's window is read as
 * a section (only the rows it needs, never the 1.5 GB tile), its RMS from the RMS mosaic beside it, the
 * PSF from a stamp file or the default. Windows that leave the tile are zero-filled and flagged.
 */

import type { FlagName } from '../catalog/flags.js';
import { readReferenceTable } from '../completeness/reference.js';
import { InvalidInputError } from '../errors.js';
import { openFits, type FitsFile } from '../fits/file.js';
import { wcsFromHeader } from '../fits/wcs.js';
import { psfFromStamp, type Psf } from '../sim/psf.js';
import { DEFAULT_MAGZERO, findImageHdu, windowAround, type CutoutSource, type HduNames } from './from-files.js';

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
    const [w, h] = image.axes as [number, number];
    if (w !== h || w % 2 !== 1) throw new InvalidInputError(`PSF stamp is ${w}x${h}; an odd square stamp centred on its middle pixel is expected`, { file, hdu: hdu.name || hdu.index });
    return psfFromStamp(file, w, Array.from(image.data as ArrayLike<number>, Number));
  } finally {
    fits.close();
  }
}

/** The catalogue's objects as sources, in catalogue order; the caller closes nothing. */
export async function* tileSources(input: TileInput, side: number, names: HduNames): AsyncGenerator<CutoutSource> {
  const catalogue = await readReferenceTable(input.catalog, {
    ...(input.raColumn === undefined ? {} : { raColumn: input.raColumn }),
    ...(input.decColumn === undefined ? {} : { decColumn: input.decColumn }),
    ...(input.idColumn === undefined ? {} : { idColumn: input.idColumn }),
  });
  if (catalogue.id === null) throw new InvalidInputError('catalogue has no object id column (object_id); name it with --id-col', { file: input.catalog });
  const psf = input.psf === undefined ? undefined : readPsfFile(input.psf);
  const tile = openFits(input.tile);
  let rmsFile: FitsFile | undefined;
  try {
    rmsFile = input.rms === undefined ? undefined : openFits(input.rms);
    const hdu = findImageHdu(tile, names.flux);
    const header = tile.imageHeader(hdu);
    const location = { file: input.tile, hdu: hdu.name || hdu.index };
    const width = header.getInt('NAXIS1');
    const height = header.getInt('NAXIS2');
    const wcs = wcsFromHeader(header, location);
    const magzero = header.getNumber('MAGZERO', tile.hdu(0).header.getNumber('MAGZERO', DEFAULT_MAGZERO));
    const rmsHdu = rmsFile === undefined ? undefined : findImageHdu(rmsFile, names.rms);
    const pixels = wcs.skyToPixelMany(catalogue.ra, catalogue.dec);
    for (let row = 0; row < catalogue.ra.length; row++) {
      const id = catalogue.id[row];
      if (id === null || id === undefined || !/^-?\d+$/.test(id.trim())) {
        throw new InvalidInputError(`row ${row + 1}: object id ${JSON.stringify(id)} is not an integer`, { file: input.catalog });
      }
      const xCenter = Math.round(pixels.x[row]!);
      const yCenter = Math.round(pixels.y[row]!);
      const flags: FlagName[] = [];
      const rmsMap = rmsFile === undefined || rmsHdu === undefined ? undefined : { fits: rmsFile, hdu: rmsHdu };
      const { clipped, ...window } = windowAround({ fits: tile, hdu }, rmsMap, xCenter, yCenter, side, width, height);
      if (clipped) flags.push('off_tile_edge');
      if (psf === undefined) flags.push('no_psf_hdu');
      yield {
        sourceFile: input.tile,
        hdu: hdu.name || String(hdu.index),
        objectId: BigInt(id.trim()),
        objectIdSource: 'catalogue',
        ra: catalogue.ra[row]!,
        dec: catalogue.dec[row]!,
        xCenter,
        yCenter,
        magzero,
        ...window,
        psf,
        flags,
      };
    }
  } finally {
    tile.close();
    rmsFile?.close();
  }
}

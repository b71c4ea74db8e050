/**
 * Cutout files as sources: the VIS image around the cutout centre, its RMS map and PSF when the file
 * has them, the object id, the position and the zero point. Only the window the model needs is read,
 * so a large single-image file costs what a cutout does.
 */

import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import type { FlagName } from '../ground/flags.js';
import { InputNotFoundError, InvalidInputError, VisAgnError } from '../errors.js';
import { openFits, type FitsFile, type FitsHdu } from '../fits/file.js';
import type { FitsHeader } from '../fits/header.js';
import { wcsFromHeader } from '../fits/wcs.js';
import { psfFromStamp, type Psf } from '../ground/psf.js';
import { MAGZERO } from '../ground/vis.js';
import { parseEuclidObjectId } from './object-id.js';
import { psfProblem } from './validate.js';

export interface HduNames {
  /** Candidates for the VIS image, first match wins; a file with a single image HDU needs none. */
  readonly flux: readonly string[];
  readonly rms: readonly string[];
  readonly psf: readonly string[];
}

export const DEFAULT_HDU_NAMES: HduNames = { flux: ['VIS_FLUX', 'VIS_BGSUB'], rms: ['VIS_RMS'], psf: ['VIS_PSF'] };

/** Keywords that carry an object id, in the order they are tried (primary header, then the image's). */
const OBJECT_ID_KEYWORDS = ['OBJECTID', 'OBJECT_ID', 'OBJ_ID'];

/** Values this large mark pixels without coverage in MER RMS maps (1e16 in the Q1 cutouts); no image pixel is. */
const NO_COVERAGE_RMS = 1e10;

const FITS_SUFFIXES = ['.fits', '.fit', '.fts', '.fits.gz', '.fit.gz', '.fits.fz'];

export type ObjectIdSource = 'catalogue' | 'header' | 'file name' | 'file hash';

export interface CutoutSource {
  readonly sourceFile: string;
  /** EXTNAME of the image HDU, or its index as text. */
  readonly hdu: string;
  readonly objectId: bigint;
  readonly objectIdSource: ObjectIdSource;
  readonly ra: number | null;
  readonly dec: number | null;
  /** Nominal centre, 0-based pixels of the HDU. */
  readonly xCenter: number;
  readonly yCenter: number;
  readonly magzero: number;
  /** HDU pixel of window pixel (0, 0). */
  readonly windowX0: number;
  readonly windowY0: number;
  readonly side: number;
  readonly pixels: Float32Array;
  readonly rms: Float32Array | undefined;
  readonly psf: Psf | undefined;
  readonly flags: readonly FlagName[];
}

export interface CutoutReadOptions {
  readonly hduNames?: HduNames;
  /** Side of the window read around the centre: the model's crop plus the core search margin. */
  readonly side: number;
}

function isFitsName(name: string): boolean {
  const lower = name.toLowerCase();
  return FITS_SUFFIXES.some((suffix) => lower.endsWith(suffix));
}

/**
 * Orders names with their digit runs compared as numbers, so `cutout_2` comes before `cutout_10` and a
 * folder of per-object cutouts runs (and its catalogue lists rows) in object-id order.
 */
export function compareNatural(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    // Odd parts are digit runs (split keeps the captured separators).
    const order = i % 2 === 1 ? Number(BigInt(pa[i]!) - BigInt(pb[i]!)) : pa[i]! < pb[i]! ? -1 : pa[i]! > pb[i]! ? 1 : 0;
    if (order !== 0) return Math.sign(order);
  }
  return pa.length - pb.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Files as given, folders expanded to their FITS files (not recursive), each list in natural name order. */
export function listInputFiles(inputs: readonly string[]): string[] {
  const files: string[] = [];
  for (const input of inputs) {
    let stats;
    try {
      stats = statSync(input);
    } catch (error) {
      throw new InputNotFoundError(`input ${input} does not exist`, { file: input }, { cause: error });
    }
    if (stats.isDirectory()) {
      const found = readdirSync(input).filter(isFitsName).sort(compareNatural).map((name) => path.join(input, name));
      if (found.length === 0) throw new InvalidInputError('folder holds no FITS files (.fits, .fit, .fts, .fits.gz, .fits.fz)', { file: input });
      files.push(...found);
    } else {
      files.push(input);
    }
  }
  return files;
}

function imageHdus(fits: FitsFile): FitsHdu[] {
  return fits.hdus.filter((h) => (h.kind === 'image' || h.kind === 'compressed-image') && fits.imageHeader(h).getInt('NAXIS', 0) >= 2);
}

function findNamed(fits: FitsFile, names: readonly string[]): FitsHdu | undefined {
  for (const name of names) {
    const found = fits.hdus.find((h) => h.name.toUpperCase() === name.toUpperCase());
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The first HDU named in `names`, else the file's only image HDU. */
export function findImageHdu(fits: FitsFile, names: readonly string[]): FitsHdu {
  const named = findNamed(fits, names);
  if (named !== undefined) return named;
  const images = imageHdus(fits);
  if (images.length === 1) return images[0]!;
  const listing = fits.hdus.map((h) => h.name || `#${h.index}`).join(', ');
  throw new InvalidInputError(
    images.length === 0
      ? 'no image HDU'
      : `no HDU named ${names.join(' or ')} and ${images.length} image HDUs to choose from (${listing}); name the one to use`,
    { file: fits.path },
  );
}

function headerObjectId(headers: readonly FitsHeader[]): bigint | undefined {
  for (const header of headers) {
    for (const key of OBJECT_ID_KEYWORDS) {
      const value = header.get(key);
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
      if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return BigInt(value.trim());
    }
  }
  return undefined;
}

/**
 * Header keyword, else a MER id in the file name, else a stable 63-bit hash of the file name, so every
 * source still gets its own reproducible random draws.
 */
export function objectIdFor(file: string, headers: readonly FitsHeader[]): { objectId: bigint; source: ObjectIdSource } {
  const fromHeader = headerObjectId(headers);
  if (fromHeader !== undefined) return { objectId: fromHeader, source: 'header' };
  try {
    return { objectId: parseEuclidObjectId(path.basename(file)).objectId, source: 'file name' };
  } catch (error) {
    if (!(error instanceof VisAgnError)) throw error;
  }
  const digest = createHash('sha256').update(path.basename(file)).digest();
  return { objectId: digest.readBigUInt64BE(0) >> 1n, source: 'file hash' };
}

/**
 * Reads a side x side window; parts outside the image stay 0 (`clipped`). RMS values that mark
 * missing coverage read as NaN; image pixels are kept as they are (validateCutout flags the unphysical).
 */
function readWindow(fits: FitsFile, hdu: FitsHdu, x0: number, y0: number, side: number, width: number, height: number, isRms: boolean): { pixels: Float32Array; clipped: boolean } {
  const pixels = new Float32Array(side * side);
  const section = { x0: Math.max(0, x0), y0: Math.max(0, y0), x1: Math.min(width, x0 + side), y1: Math.min(height, y0 + side) };
  const clipped = section.x0 !== x0 || section.y0 !== y0 || section.x1 !== x0 + side || section.y1 !== y0 + side;
  if (section.x1 > section.x0 && section.y1 > section.y0) {
    const data = fits.readImage(hdu, section).data;
    const w = section.x1 - section.x0;
    for (let y = section.y0; y < section.y1; y++) {
      const from = (y - section.y0) * w;
      const to = (y - y0) * side + (section.x0 - x0);
      for (let i = 0; i < w; i++) {
        const value = Number(data[from + i]!);
        pixels[to + i] = isRms && value >= NO_COVERAGE_RMS ? Number.NaN : value;
      }
    }
  }
  return { pixels, clipped };
}

/** A whole row or column of exact zeros is the fill MER cutouts get beyond the tile edge. */
function hasZeroFill(pixels: Float32Array, side: number): boolean {
  for (let y = 0; y < side; y++) {
    let zero = true;
    for (let x = 0; x < side && zero; x++) zero = pixels[y * side + x] === 0;
    if (zero) return true;
  }
  for (let x = 0; x < side; x++) {
    let zero = true;
    for (let y = 0; y < side && zero; y++) zero = pixels[y * side + x] === 0;
    if (zero) return true;
  }
  return false;
}

/** The pixels, and the RMS map if there is one, of the side x side window centred on (xCenter, yCenter). */
export interface WindowPixels {
  readonly windowX0: number;
  readonly windowY0: number;
  readonly side: number;
  readonly pixels: Float32Array;
  readonly rms: Float32Array | undefined;
  /** The window reaches beyond the image. */
  readonly clipped: boolean;
}

export function windowAround(
  image: { readonly fits: FitsFile; readonly hdu: FitsHdu },
  rmsMap: { readonly fits: FitsFile; readonly hdu: FitsHdu } | undefined,
  xCenter: number,
  yCenter: number,
  side: number,
  width: number,
  height: number,
): WindowPixels {
  const x0 = xCenter - Math.floor(side / 2);
  const y0 = yCenter - Math.floor(side / 2);
  const { pixels, clipped } = readWindow(image.fits, image.hdu, x0, y0, side, width, height, false);
  const rms = rmsMap === undefined ? undefined : readWindow(rmsMap.fits, rmsMap.hdu, x0, y0, side, width, height, true).pixels;
  return { windowX0: x0, windowY0: y0, side, pixels, rms, clipped };
}

/** The file's PSF stamp; none without a PSF HDU; `bad` when there is one that cannot be used (the default stands in). */
function readPsf(fits: FitsFile, names: HduNames): Psf | 'bad' | undefined {
  const hdu = findNamed(fits, names.psf);
  if (hdu === undefined) return undefined;
  const image = fits.readImage(hdu);
  const [w = 0, h = 1] = image.axes;
  const values = Array.from(image.data as ArrayLike<number>, Number);
  return psfProblem(w, h, values) === undefined ? psfFromStamp(`${path.basename(fits.path)}[${hdu.name}]`, w, values) : 'bad';
}

export function readCutout(file: string, options: CutoutReadOptions): CutoutSource {
  const names = options.hduNames ?? DEFAULT_HDU_NAMES;
  const fits = openFits(file);
  try {
    const hdu = findImageHdu(fits, names.flux);
    const header = fits.imageHeader(hdu);
    const location = { file, hdu: hdu.name || hdu.index };
    const width = header.getInt('NAXIS1');
    const height = header.getInt('NAXIS2');
    const xCenter = Math.floor(width / 2);
    const yCenter = Math.floor(height / 2);
    const flags: FlagName[] = [];
    const rmsHdu = findNamed(fits, names.rms);
    const { clipped, ...window } = windowAround({ fits, hdu }, rmsHdu === undefined ? undefined : { fits, hdu: rmsHdu }, xCenter, yCenter, options.side, width, height);
    if (clipped) flags.push('core_near_edge');
    if (hasZeroFill(window.pixels, window.side)) flags.push('off_tile_edge');
    const stamp = readPsf(fits, names);
    if (stamp === undefined) flags.push('no_psf_hdu');
    if (stamp === 'bad') flags.push('bad_psf');
    const psf = stamp === 'bad' ? undefined : stamp;
    let ra: number | null = null;
    let dec: number | null = null;
    if (header.has('CTYPE1')) {
      const sky = wcsFromHeader(header, location).pixelToSky(xCenter, yCenter);
      ra = sky.ra;
      dec = sky.dec;
    }
    const id = objectIdFor(file, [fits.hdu(0).header, header]);
    const magzero = header.getNumber('MAGZERO', fits.hdu(0).header.getNumber('MAGZERO', MAGZERO));
    return {
      sourceFile: file,
      hdu: hdu.name || String(hdu.index),
      objectId: id.objectId,
      objectIdSource: id.source,
      ra,
      dec,
      xCenter,
      yCenter,
      magzero,
      ...window,
      psf,
      flags,
    };
  } finally {
    fits.close();
  }
}

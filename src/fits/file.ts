/**
 * A FITS file as a list of HDUs found by reading headers only (data units are skipped by their size),
 * with image reads by HDU index, EXTNAME or HduInfo.
 */

import { InvalidInputError, LimitExceededError, UnsupportedError, type ErrorLocation } from '../errors.js';
import { compressedImageHeader, compressionInfo, readCompressedImage } from './compressed/index.js';
import { BLOCK_SIZE, readHeader, type FitsHeader } from './header.js';
import { bitpixType, imageLayout, pixelCount, readImagePixels, readPixelRange, sectionAxes } from './image.js';
import { openByteSource } from './source.js';
import type { ByteSource, HduInfo, HduKind, ImageData, PixelArray, Section } from './types.js';

export interface OpenFitsOptions {
  /** Refuse image reads (whole or section) of more pixels than this, before allocating; default 2^29. */
  readonly maxPixels?: number;
  /** Largest gunzipped size accepted for whole-file gzip input. */
  readonly maxGunzipBytes?: number;
}

export const DEFAULT_MAX_PIXELS = 2 ** 29;

/** An HDU by 0-based index, by EXTNAME (case-insensitive), or as found in `FitsFile.hdus`. */
export type HduRef = number | string | HduInfo;

/** Every HDU of a FitsFile carries its parsed header, with typed getters. */
export interface FitsHdu extends HduInfo {
  readonly header: FitsHeader;
}

function hduKind(header: FitsHeader, index: number): HduKind {
  if (index === 0) return header.get('GROUPS') === true ? 'random-groups' : 'image';
  const xtension = header.getString('XTENSION').trimEnd().toUpperCase();
  switch (xtension) {
    case 'IMAGE':
      return 'image';
    case 'TABLE':
      return 'ascii-table';
    case 'BINTABLE':
    // The pre-standard name of BINTABLE, still met in old archives.
    case 'A3DTABLE':
      return header.get('ZIMAGE') === true ? 'compressed-image' : 'bintable';
    default:
      throw new UnsupportedError(`extension type XTENSION = '${xtension}' is not supported`, header.location);
  }
}

/** |BITPIX|/8 * GCOUNT * (PCOUNT + NAXIS1 * ... * NAXISn), NAXIS1 left out for random groups. */
function dataUnitSize(header: FitsHeader, kind: HduKind): number {
  const location = header.location;
  const bytes = bitpixType(header.getInt('BITPIX'), location).bytes;
  const naxis = header.getInt('NAXIS');
  if (naxis < 0 || naxis > 999) throw new InvalidInputError(`NAXIS = ${naxis} is outside 0..999`, location);
  if (naxis === 0) return 0;
  let elements = 1;
  for (let i = kind === 'random-groups' ? 2 : 1; i <= naxis; i++) {
    const n = header.getInt(`NAXIS${i}`);
    if (n < 0) throw new InvalidInputError(`NAXIS${i} = ${n} is negative`, location);
    elements *= n;
  }
  const pcount = header.getInt('PCOUNT', 0);
  const gcount = header.getInt('GCOUNT', 1);
  if (pcount < 0 || gcount < 0) throw new InvalidInputError(`PCOUNT = ${pcount} / GCOUNT = ${gcount} must not be negative`, location);
  const size = bytes * gcount * (pcount + elements);
  if (!Number.isSafeInteger(size)) throw new InvalidInputError(`data unit size ${size} bytes is not representable`, location);
  return size;
}

/** astropy's name for tile-compressed images, which fpack and CFHT files may carry beside (or instead of) their own EXTNAME. */
const DEFAULT_COMPRESSED_NAME = 'COMPRESSED_IMAGE';

function hduName(header: FitsHeader, index: number, kind: HduKind): string {
  if (kind === 'compressed-image') {
    const names = header.getAll('EXTNAME').map((card) => card.value);
    const specific = names.find((name) => typeof name === 'string' && name !== DEFAULT_COMPRESSED_NAME);
    return typeof specific === 'string' ? specific : DEFAULT_COMPRESSED_NAME;
  }
  const extname = header.get('EXTNAME');
  if (typeof extname === 'string') return extname;
  return index === 0 ? 'PRIMARY' : '';
}

/** A block that could start another HDU; anything else after the last HDU is ignored, as astropy does (with a warning). */
function startsExtension(source: ByteSource, offset: number): boolean {
  if (offset + BLOCK_SIZE > source.size) return false;
  return Buffer.from(source.read(offset, 9)).toString('latin1') === 'XTENSION=';
}

/**
 * Walks the HDUs from the primary header. A data unit that ends beyond the end of the file is an
 * error; a missing last padding block is not (astropy reads such files).
 */
function scanHdus(source: ByteSource): FitsHdu[] {
  const file = source.path;
  if (source.size < 9 || Buffer.from(source.read(0, 9)).toString('latin1') !== 'SIMPLE  =') {
    throw new InvalidInputError('not a FITS file: it does not start with a SIMPLE card', { file });
  }
  const hdus: FitsHdu[] = [];
  for (let offset = 0; hdus.length === 0 || startsExtension(source, offset); ) {
    const index = hdus.length;
    const location = { file, hdu: index };
    const { header, dataOffset } = readHeader(source, offset, location);
    const kind = hduKind(header, index);
    const dataSize = dataUnitSize(header, kind);
    if (dataOffset + dataSize > source.size) {
      throw new InvalidInputError(
        `file is truncated: the data unit needs ${dataSize} bytes from byte ${dataOffset}, but the file ends at ${source.size}`,
        location,
      );
    }
    hdus.push({ index, name: hduName(header, index, kind), kind, header, headerOffset: offset, dataOffset, dataSize });
    offset = dataOffset + Math.ceil(dataSize / BLOCK_SIZE) * BLOCK_SIZE;
  }
  return hdus;
}

export class FitsFile {
  readonly hdus: readonly FitsHdu[];
  private readonly maxPixels: number;

  constructor(
    readonly source: ByteSource,
    options: OpenFitsOptions = {},
  ) {
    this.maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
    this.hdus = scanHdus(source);
  }

  get path(): string {
    return this.source.path;
  }

  /** By index, by HduInfo, or by EXTNAME (case-insensitive, first match unless `extver` selects by EXTVER). */
  hdu(ref: HduRef, extver?: number): FitsHdu {
    if (typeof ref === 'object') return this.hdu(ref.index);
    const found =
      typeof ref === 'number'
        ? this.hdus[ref]
        : this.hdus.find(
            (h) => h.name.toUpperCase() === ref.toUpperCase() && (extver === undefined || h.header.get('EXTVER') === extver || (extver === 1 && !h.header.has('EXTVER'))),
          );
    if (!found) {
      const names = this.hdus.map((h) => h.name || `#${h.index}`).join(', ');
      const what = typeof ref === 'number' ? `no HDU ${ref}` : `no HDU named ${ref}${extver === undefined ? '' : ` with EXTVER ${extver}`}`;
      throw new InvalidInputError(`${what} (the file has ${this.hdus.length}: ${names})`, { file: this.path });
    }
    return found;
  }

  /** The header that describes the image: the HDU's own, or for a tile-compressed image its logical header. */
  imageHeader(ref: HduRef): FitsHeader {
    const hdu = this.hdu(ref);
    const location = this.location(hdu);
    switch (hdu.kind) {
      case 'image':
        return hdu.header;
      case 'compressed-image':
        return compressedImageHeader(hdu);
      case 'random-groups':
        throw new UnsupportedError('random-groups data are not read as images', location);
      default:
        throw new InvalidInputError(`HDU is a ${hdu.kind}, not an image`, location);
    }
  }

  /**
   * The image or a section of its first plane, scaled as astropy would. Refuses before allocating
   * when the result would exceed `maxPixels`.
   */
  readImage(ref: HduRef, section?: Section): ImageData {
    const hdu = this.hdu(ref);
    const layout = imageLayout(this.imageHeader(hdu));
    if (layout.axes.length === 0) throw new InvalidInputError('HDU has no image data (NAXIS = 0)', this.location(hdu));
    this.checkPixels(hdu, 'image', section ? sectionAxes(section) : layout.axes);
    if (hdu.kind === 'compressed-image') {
      // A tile is decoded whole, so even a small section allocates every tile it touches (ZNAXIS1 =
      // ZTILE1 = 2^53 - 1 asked for that many pixels and ended in a RangeError).
      const { tile } = compressionInfo(hdu, this.path);
      this.checkPixels(hdu, 'tile', tile.map((extent, k) => Math.min(extent, layout.axes[k]!)));
      return readCompressedImage(this.source, hdu, section);
    }
    return readImagePixels(this.source, hdu.dataOffset, layout, section);
  }

  /**
   * The whole image in storage order, in chunks of at most about `chunkPixels` pixels, so statistics
   * over a 1.5 GB mosaic never hold more than one chunk. Compressed 2-D images come in bands of rows.
   */
  *imageChunks(ref: HduRef, chunkPixels = 1 << 22): Generator<PixelArray> {
    const hdu = this.hdu(ref);
    const layout = imageLayout(this.imageHeader(hdu));
    const total = pixelCount(layout.axes);
    if (hdu.kind === 'image') {
      for (let first = 0; first < total; first += chunkPixels) {
        yield readPixelRange(this.source, hdu.dataOffset, layout, first, Math.min(chunkPixels, total - first));
      }
    } else if (layout.axes.length === 2 && total > 0) {
      const [width, height] = layout.axes as [number, number];
      // Bands hold whole tile rows: a band that cut through tiles would decode them once per band.
      const tileRows = compressionInfo(hdu, this.path).tile[1] ?? 1;
      const rows = tileRows * Math.max(1, Math.floor(chunkPixels / width / tileRows));
      for (let y0 = 0; y0 < height; y0 += rows) {
        yield this.readImage(hdu, { x0: 0, x1: width, y0, y1: Math.min(height, y0 + rows) }).data;
      }
    } else if (total > 0) {
      yield this.readImage(hdu).data;
    }
  }

  close(): void {
    this.source.close();
  }

  private location(hdu: HduInfo): ErrorLocation {
    return { file: this.path, hdu: hdu.index };
  }

  private checkPixels(hdu: HduInfo, what: 'image' | 'tile', axes: readonly number[]): void {
    const pixels = pixelCount(axes);
    if (pixels > this.maxPixels) {
      throw new LimitExceededError(`${what} of ${axes.join('x')} = ${pixels} pixels exceeds the limit of ${this.maxPixels} pixels`, this.location(hdu));
    }
  }
}

/** Opens a FITS file (plain or whole-file gzip) and scans its HDUs; the caller closes it. */
export function openFits(path: string, options: OpenFitsOptions = {}): FitsFile {
  const source = openByteSource(path, options);
  try {
    return new FitsFile(source, options);
  } catch (error) {
    source.close();
    throw error;
  }
}

/**
 * Image data units: big-endian pixels by BITPIX, BSCALE/BZERO/BLANK applied with astropy's rules (so the
 * dtype and the values match the reference reader), read whole, by flat pixel range or by rectangular
 * section (only the bytes of the rows a section needs).
 */

import os from 'node:os';

import { InvalidInputError, type ErrorLocation } from '../errors.js';
import type { FitsHeader } from './header.js';
import type { ByteSource, ImageData, PixelArray, PixelDtype, Section } from './types.js';

type TypedArrayConstructor = new (length: number) => PixelArray;

/** One storage type per BITPIX value; everything that depends on BITPIX reads it from here. */
export interface BitpixType {
  readonly bitpix: number;
  readonly bytes: 1 | 2 | 4 | 8;
  /** The dtype of the stored (unscaled) values. */
  readonly dtype: PixelDtype;
  readonly array: TypedArrayConstructor;
  /** The same width read as unsigned (or signed for BITPIX 8): the target of the sign-bit flip for pseudo-unsigned data. */
  readonly flipped?: { readonly dtype: PixelDtype; readonly array: TypedArrayConstructor; readonly bzero: number | bigint };
  /** The float type astropy scales this type to. */
  readonly scaledDtype: 'float32' | 'float64';
}

export const BITPIX_TYPES: ReadonlyMap<number, BitpixType> = new Map<number, BitpixType>([
  [8, { bitpix: 8, bytes: 1, dtype: 'uint8', array: Uint8Array, flipped: { dtype: 'int8', array: Int8Array, bzero: -128 }, scaledDtype: 'float32' }],
  [16, { bitpix: 16, bytes: 2, dtype: 'int16', array: Int16Array, flipped: { dtype: 'uint16', array: Uint16Array, bzero: 2 ** 15 }, scaledDtype: 'float32' }],
  [32, { bitpix: 32, bytes: 4, dtype: 'int32', array: Int32Array, flipped: { dtype: 'uint32', array: Uint32Array, bzero: 2 ** 31 }, scaledDtype: 'float64' }],
  [64, { bitpix: 64, bytes: 8, dtype: 'int64', array: BigInt64Array, flipped: { dtype: 'uint64', array: BigUint64Array, bzero: 2n ** 63n }, scaledDtype: 'float64' }],
  [-32, { bitpix: -32, bytes: 4, dtype: 'float32', array: Float32Array, scaledDtype: 'float32' }],
  [-64, { bitpix: -64, bytes: 8, dtype: 'float64', array: Float64Array, scaledDtype: 'float64' }],
]);

/** The typed array that holds each pixel dtype. */
export const DTYPE_ARRAYS: Readonly<Record<PixelDtype, TypedArrayConstructor>> = {
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  float32: Float32Array,
  float64: Float64Array,
};

export function bitpixType(bitpix: number, location: ErrorLocation = {}): BitpixType {
  const type = BITPIX_TYPES.get(bitpix);
  if (!type) throw new InvalidInputError(`BITPIX = ${bitpix} is not one of 8, 16, 32, 64, -32, -64`, location);
  return type;
}

/**
 * How stored values become pixel values: `none`; `flip` for the unsigned (and BITPIX 8 signed)
 * conventions, which only toggle the sign bit; `linear` for everything else, in `scaledDtype` for
 * integers and in the stored float type for floats, as astropy computes it.
 */
export type Scaling =
  | { readonly kind: 'none' }
  | { readonly kind: 'flip' }
  | { readonly kind: 'linear'; readonly bscale: number; readonly bzero: number; readonly blank: number | bigint | undefined };

export interface ImageLayout {
  /** NAXIS1, NAXIS2, ... (FITS order). */
  readonly axes: readonly number[];
  readonly type: BitpixType;
  readonly scaling: Scaling;
  /** The dtype readers return after scaling. */
  readonly dtype: PixelDtype;
  readonly location: ErrorLocation;
}

function sameValue(a: number | bigint, b: number | bigint): boolean {
  return typeof a === typeof b ? a === b : BigInt(a) === BigInt(b);
}

/** Axes, storage type and scaling from an image header (for tile-compressed images, the logical header). */
export function imageLayout(header: FitsHeader): ImageLayout {
  const location = header.location;
  const type = bitpixType(header.getInt('BITPIX'), location);
  const naxis = header.getInt('NAXIS');
  if (naxis < 0 || naxis > 999) throw new InvalidInputError(`NAXIS = ${naxis} is outside 0..999`, location);
  const axes: number[] = [];
  for (let i = 1; i <= naxis; i++) {
    const n = header.getInt(`NAXIS${i}`);
    if (n < 0) throw new InvalidInputError(`NAXIS${i} = ${n} is negative`, location);
    axes.push(n);
  }

  const bscale = header.getNumber('BSCALE', 1);
  const rawBzero = header.get('BZERO');
  const bzero = typeof rawBzero === 'bigint' ? rawBzero : header.getNumber('BZERO', 0);
  // astropy ignores BLANK on float data and when it is not an integer.
  const rawBlank = header.get('BLANK');
  const blank =
    type.bitpix > 0 && (typeof rawBlank === 'bigint' || (typeof rawBlank === 'number' && Number.isInteger(rawBlank))) ? rawBlank : undefined;

  let scaling: Scaling;
  let dtype: PixelDtype;
  if (bscale === 1 && type.flipped && sameValue(bzero, type.flipped.bzero)) {
    scaling = { kind: 'flip' };
    dtype = type.flipped.dtype;
  } else if (bscale === 1 && Number(bzero) === 0 && blank === undefined) {
    scaling = { kind: 'none' };
    dtype = type.dtype;
  } else {
    scaling = { kind: 'linear', bscale, bzero: Number(bzero), blank };
    dtype = type.scaledDtype;
  }
  return { axes, type, scaling, dtype, location };
}

export function pixelCount(axes: readonly number[]): number {
  return axes.reduce((n, a) => n * a, axes.length === 0 ? 0 : 1);
}

const SWAP: Record<BitpixType['bytes'], ((b: Buffer) => void) | undefined> = {
  1: undefined,
  2: (b) => b.swap16(),
  4: (b) => b.swap32(),
  8: (b) => b.swap64(),
};
const hostIsLittleEndian = os.endianness() === 'LE';

/** Stored values, in host order, from big-endian bytes; `flip` toggles each value's sign bit on the way. */
function storedValues(bigEndian: Uint8Array, type: BitpixType, flip: boolean): PixelArray {
  const count = bigEndian.length / type.bytes;
  const values = new (flip ? type.flipped!.array : type.array)(count);
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  bytes.set(bigEndian);
  if (flip) for (let i = 0; i < bytes.length; i += type.bytes) bytes[i]! ^= 0x80;
  if (hostIsLittleEndian) SWAP[type.bytes]?.(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  return values;
}

/**
 * The float arithmetic follows numpy's: integers of 8/16 bits are scaled in float32 (each step rounded
 * to float32, with BSCALE and BZERO rounded to float32), wider ones in float64, floats in their own type.
 * BLANK becomes NaN, except BLANK = 0, which astropy leaves as 0.
 */
function linearScale(stored: PixelArray, type: BitpixType, scaling: Extract<Scaling, { kind: 'linear' }>): PixelArray {
  const dtype = type.bitpix > 0 ? type.scaledDtype : type.dtype;
  const out = new DTYPE_ARRAYS[dtype](stored.length) as Float32Array | Float64Array;
  const single = dtype === 'float32';
  const bscale = single ? Math.fround(scaling.bscale) : scaling.bscale;
  const bzero = single ? Math.fround(scaling.bzero) : scaling.bzero;
  const round = single ? Math.fround : (x: number) => x;
  const blank = scaling.blank ? scaling.blank : undefined;
  const blankValue = typeof stored[0] === 'bigint' ? (blank === undefined ? undefined : BigInt(blank)) : blank === undefined ? undefined : Number(blank);
  for (let i = 0; i < stored.length; i++) {
    const raw = stored[i]!;
    if (raw === blankValue) {
      out[i] = NaN;
      continue;
    }
    let v = Number(raw);
    if (bscale !== 1) v = round(v * bscale);
    if (bzero !== 0) v = round(v + bzero);
    out[i] = v;
  }
  return out;
}

/** Pixel values from the big-endian bytes of consecutive stored pixels. */
export function decodePixels(bigEndian: Uint8Array, layout: ImageLayout): PixelArray {
  const { type, scaling } = layout;
  const stored = storedValues(bigEndian, type, scaling.kind === 'flip');
  return scaling.kind === 'linear' ? linearScale(stored, type, scaling) : stored;
}

/** `count` pixels in storage order from flat index `first` of the data unit at `dataOffset`. */
export function readPixelRange(source: ByteSource, dataOffset: number, layout: ImageLayout, first: number, count: number): PixelArray {
  const size = layout.type.bytes;
  return decodePixels(source.read(dataOffset + first * size, count * size), layout);
}

/** Checks a section against the first two axes (a 1-D image is one row). */
export function checkSection(axes: readonly number[], section: Section, location: ErrorLocation): void {
  const width = axes[0] ?? 0;
  const height = axes.length >= 2 ? axes[1]! : 1;
  const { x0, x1, y0, y1 } = section;
  const ok = [x0, x1, y0, y1].every(Number.isSafeInteger) && x0 >= 0 && x0 < x1 && x1 <= width && y0 >= 0 && y0 < y1 && y1 <= height;
  if (!ok) {
    throw new InvalidInputError(`section x[${x0}, ${x1}) y[${y0}, ${y1}) is empty or outside the ${width}x${height} image`, location);
  }
}

export function sectionAxes(section: Section): number[] {
  return [section.x1 - section.x0, section.y1 - section.y0];
}

/**
 * Largest byte span from a section's first pixel to its last that is read in one go rather than row
 * by row: one read of a few pages costs less than dozens of small ones (a 72-row window of a 100 px
 * cutout spans 29 KB), while a window of a 19200 px tile (5.5 MB span) still reads only its rows.
 */
const SINGLE_READ_SPAN = 256 * 1024;

/**
 * The whole image, or a section of the first plane. A section reads only its rows' byte ranges (one
 * read per row unless they lie close together), so its cost does not depend on the image size.
 */
export function readImagePixels(source: ByteSource, dataOffset: number, layout: ImageLayout, section?: Section): ImageData {
  if (!section) {
    return { axes: layout.axes, dtype: layout.dtype, data: readPixelRange(source, dataOffset, layout, 0, pixelCount(layout.axes)) };
  }
  checkSection(layout.axes, section, layout.location);
  const width = layout.axes[0]!;
  const [w, h] = sectionAxes(section) as [number, number];
  const size = layout.type.bytes;
  let bytes: Uint8Array;
  if (w === width) {
    bytes = source.read(dataOffset + section.y0 * width * size, w * h * size);
  } else {
    bytes = new Uint8Array(w * h * size);
    const first = (section.y0 * width + section.x0) * size;
    const span = ((h - 1) * width + w) * size;
    if (span <= SINGLE_READ_SPAN) {
      const all = source.read(dataOffset + first, span);
      for (let row = 0; row < h; row++) bytes.set(all.subarray(row * width * size, (row * width + w) * size), row * w * size);
    } else {
      for (let row = 0; row < h; row++) {
        const start = ((section.y0 + row) * width + section.x0) * size;
        source.readInto(dataOffset + start, bytes.subarray(row * w * size, (row + 1) * w * size));
      }
    }
  }
  return { axes: [w, h], dtype: layout.dtype, data: decodePixels(bytes, layout) };
}

/** Streaming summary statistics of pixel values (NaN are counted, not summed). */
export class PixelStats {
  count = 0;
  nanCount = 0;
  min = Infinity;
  max = -Infinity;
  private total = 0;
  /** Neumaier compensation: sums of millions of float32 pixels stay within 1e-12 of the exact value. */
  private compensation = 0;

  add(data: PixelArray): this {
    this.count += data.length;
    let { min, max, total, compensation, nanCount } = this;
    for (let i = 0; i < data.length; i++) {
      const v = Number(data[i]!);
      if (v !== v) {
        nanCount++;
        continue;
      }
      if (v < min) min = v;
      if (v > max) max = v;
      const t = total + v;
      compensation += Math.abs(total) >= Math.abs(v) ? total - t + v : v - t + total;
      total = t;
    }
    Object.assign(this, { min, max, total, compensation, nanCount });
    return this;
  }

  /** Infinite pixels make the compensation NaN; the plain total is then the right answer. */
  get sum(): number {
    return Number.isFinite(this.total) ? this.total + this.compensation : this.total;
  }

  /** Finite pixels seen: min and max are meaningful only when this is positive. */
  get validCount(): number {
    return this.count - this.nanCount;
  }
}

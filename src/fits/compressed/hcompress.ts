/**
 * HCOMPRESS_1: R. White's H-transform coder (the convention's section on HCOMPRESS_1).
 *
 * Stream: magic 0xDD 0x99; three big-endian int32 (rows, row length, scale); the int64 sum of all
 * pixels; the bit-plane counts of the three coefficient quadrant kinds; then each quadrant's bit
 * planes, most significant first, each either quadtree-coded with a fixed Huffman code of 4-bit
 * 2x2 masks or written directly as nybbles; a zero nybble; and, byte-aligned, one sign bit per
 * non-zero coefficient. Decoding multiplies by the scale and inverts the H-transform, optionally
 * smoothing the coefficients towards interpolated values as it goes (ZNAME 'SMOOTH').
 *
 * Coefficients of 32-bit images need 64-bit integers, so the arithmetic is done on doubles
 * (exact below 2^53) with floor division standing in for the C shifts and masks.
 */
import { InvalidInputError } from '../../errors.js';
import type { TileCodec, TileCodecContext } from './registry.js';

const HEADER_BYTES = 25;

/** MSB-first bit reader over a buffer padded with zero bytes, as the stream is read ahead. */
class BitReader {
  private bitPos: number;

  constructor(
    private readonly bytes: Uint8Array,
    byteOffset: number,
  ) {
    this.bitPos = byteOffset * 8;
  }

  /** Up to 8 bits. */
  bits(n: number): number {
    const byte = this.bitPos >>> 3;
    const window = (this.bytes[byte]! << 8) | this.bytes[byte + 1]!;
    const value = (window >>> (16 - (this.bitPos & 7) - n)) & ((1 << n) - 1);
    this.bitPos += n;
    return value;
  }

  /** The sign bits start on a fresh byte: the encoder flushed its partial byte before them. */
  alignToByte(): void {
    this.bitPos = (this.bitPos + 7) & ~7;
  }

  get bytePosition(): number {
    return Math.ceil(this.bitPos / 8);
  }
}

/** Codes 0-15 of the fixed Huffman table for the 2x2 quadtree masks. */
function huffman(reader: BitReader): number {
  let c = reader.bits(3);
  if (c < 4) return 1 << c;
  c = (c << 1) | reader.bits(1);
  switch (c) {
    case 8: return 3;
    case 9: return 5;
    case 10: return 10;
    case 11: return 12;
    case 12: return 15;
  }
  c = (c << 1) | reader.bits(1);
  switch (c) {
    case 26: return 6;
    case 27: return 7;
    case 28: return 9;
    case 29: return 11;
    case 30: return 13;
  }
  c = (c << 1) | reader.bits(1);
  return c === 62 ? 0 : 14;
}

/** Smallest k with 2^k >= n (0 for n <= 1). */
function ceilLog2(n: number): number {
  let k = 0;
  while (2 ** k < n) k++;
  return k;
}

/**
 * Inserts bit plane `plane` of an nqx x nqy quadrant (row length `rowLength`, starting at
 * `offset` in `a`) from 4-bit masks, one per 2x2 block; bits falling off odd edges are ignored.
 */
function insertBitPlane(masks: Uint8Array, nqx: number, nqy: number, a: Float64Array, offset: number, rowLength: number, plane: number): void {
  const value = 2 ** plane;
  let k = 0;
  for (let i = 0; i < nqx; i += 2) {
    const row0 = offset + rowLength * i;
    const row1 = row0 + rowLength;
    const hasRow1 = i + 1 < nqx;
    for (let j = 0; j < nqy; j += 2) {
      const m = masks[k++]!;
      if (m === 0) continue;
      const hasCol1 = j + 1 < nqy;
      if (m & 8) a[row0 + j]! += value;
      if (m & 4 && hasCol1) a[row0 + j + 1]! += value;
      if (m & 2 && hasRow1) a[row1 + j]! += value;
      if (m & 1 && hasRow1 && hasCol1) a[row1 + j + 1]! += value;
    }
  }
}

/**
 * One quadtree level: every mask of the (nx+1)/2 x (ny+1)/2 grid in `from` becomes a 2x2 block of
 * 0/1 flags in the nx x ny grid `to`; each set flag is then replaced by the next Huffman code,
 * read in reverse raster order as the encoder wrote them.
 */
function expandQuadtree(reader: BitReader, from: Uint8Array, to: Uint8Array, nx: number, ny: number): void {
  const fromRow = (ny + 1) >> 1;
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) {
      const m = from[(i >> 1) * fromRow + (j >> 1)]!;
      const bit = 3 - 2 * (i & 1) - (j & 1);
      to[i * ny + j] = (m >> bit) & 1;
    }
  }
  for (let i = nx * ny - 1; i >= 0; i--) if (to[i] !== 0) to[i] = huffman(reader);
}

function decodeQuadrant(reader: BitReader, a: Float64Array, offset: number, rowLength: number, nqx: number, nqy: number, planes: number): void {
  const log2n = ceilLog2(Math.max(nqx, nqy));
  const size = ((nqx + 1) >> 1) * ((nqy + 1) >> 1);
  let masks = new Uint8Array(Math.max(size, 1));
  let spare = new Uint8Array(Math.max(size, 1));
  for (let plane = planes - 1; plane >= 0; plane--) {
    const format = reader.bits(4);
    if (format === 0) {
      for (let k = 0; k < size; k++) masks[k] = reader.bits(4);
    } else if (format === 0xf) {
      masks[0] = huffman(reader);
      let nx = 1;
      let ny = 1;
      let nfx = nqx;
      let nfy = nqy;
      let c = 2 ** log2n;
      for (let k = 1; k < log2n; k++) {
        // Walks the level sizes n[k-1] = ceil(n[k] / 2) down from the quadrant size.
        c /= 2;
        nx *= 2;
        ny *= 2;
        if (nfx <= c) nx -= 1;
        else nfx -= c;
        if (nfy <= c) ny -= 1;
        else nfy -= c;
        expandQuadtree(reader, masks, spare, nx, ny);
        [masks, spare] = [spare, masks];
      }
    } else {
      throw new InvalidInputError(`HCOMPRESS_1 bit plane has unknown format code ${format}`);
    }
    insertBitPlane(masks, nqx, nqy, a, offset, rowLength, plane);
  }
}

/**
 * Bit `bit` (a power of two) of the two's complement of x, as 0 or 1. ToInt32 keeps the integer
 * modulo 2^32, which keeps its parity, so this holds for any safe integer.
 */
const bitOf = (x: number, bit: number): number => Math.floor(x / bit) & 1;

/** x rounded to a multiple of `bit` (a power of two), with C's "(x + rnd) & -bit". */
function roundTo(x: number, bit: number, positiveRound: number, negativeRound: number): number {
  return Math.floor((x + (x >= 0 ? positiveRound : negativeRound)) / bit) * bit;
}

/** Moves the first ceil(n/2) elements (stride `stride`) to the even slots, the rest to the odd. */
function unshuffle(a: Float64Array, offset: number, n: number, stride: number, tmp: Float64Array): void {
  const nhalf = (n + 1) >> 1;
  for (let i = nhalf; i < n; i++) tmp[i - nhalf] = a[offset + stride * i]!;
  for (let i = nhalf - 1; i >= 0; i--) a[offset + stride * 2 * i] = a[offset + stride * i]!;
  for (let i = 1, t = 0; i < n; i += 2, t++) a[offset + stride * i] = tmp[t]!;
}

const clamp = (x: number, lo: number, hi: number): number => Math.max(Math.min(x, hi), lo);

/**
 * Nudges the difference coefficients of the current nxtop x nytop level towards the slopes
 * implied by neighbouring means, within +/- scale/2 (the rounding error of digitisation), and
 * never against local monotonicity. Edge coefficients are left alone.
 */
function smooth(a: Float64Array, nxtop: number, nytop: number, ny: number, scale: number): void {
  const smax = scale >> 1;
  if (smax <= 0) return;
  const ny2 = 2 * ny;
  for (let i = 2; i < nxtop - 2; i += 2) {
    for (let j = 0; j < nytop; j += 2) {
      const s00 = ny * i + j;
      const s10 = s00 + ny;
      const hm = a[s00 - ny2]!;
      const h0 = a[s00]!;
      const hp = a[s00 + ny2]!;
      const dmax = Math.max(Math.min(hp - h0, h0 - hm), 0) * 4;
      const dmin = Math.min(Math.max(hp - h0, h0 - hm), 0) * 4;
      if (dmin < dmax) {
        const diff = clamp(hp - hm, dmin, dmax);
        a[s10] = a[s10]! + clamp(Math.trunc((diff - a[s10]! * 8) / 8), -smax, smax);
      }
    }
  }
  for (let i = 0; i < nxtop; i += 2) {
    for (let j = 2; j < nytop - 2; j += 2) {
      const s00 = ny * i + j;
      const hm = a[s00 - 2]!;
      const h0 = a[s00]!;
      const hp = a[s00 + 2]!;
      const dmax = Math.max(Math.min(hp - h0, h0 - hm), 0) * 4;
      const dmin = Math.min(Math.max(hp - h0, h0 - hm), 0) * 4;
      if (dmin < dmax) {
        const diff = clamp(hp - hm, dmin, dmax);
        a[s00 + 1] = a[s00 + 1]! + clamp(Math.trunc((diff - a[s00 + 1]! * 8) / 8), -smax, smax);
      }
    }
  }
  for (let i = 2; i < nxtop - 2; i += 2) {
    for (let j = 2; j < nytop - 2; j += 2) {
      const s00 = ny * i + j;
      const s10 = s00 + ny;
      const hmm = a[s00 - ny2 - 2]!;
      const hpm = a[s00 + ny2 - 2]!;
      const hmp = a[s00 - ny2 + 2]!;
      const hpp = a[s00 + ny2 + 2]!;
      const h0 = a[s00]!;
      const hx2 = a[s10]! * 2;
      const hy2 = a[s00 + 1]! * 2;
      const dmax =
        Math.min(
          Math.min(Math.max(hpp - h0, 0) - hx2 - hy2, Math.max(h0 - hpm, 0) + hx2 - hy2),
          Math.min(Math.max(h0 - hmp, 0) - hx2 + hy2, Math.max(hmm - h0, 0) + hx2 + hy2),
        ) * 16;
      const dmin =
        Math.max(
          Math.max(Math.min(hpp - h0, 0) - hx2 - hy2, Math.min(h0 - hpm, 0) + hx2 - hy2),
          Math.max(Math.min(h0 - hmp, 0) - hx2 + hy2, Math.min(hmm - h0, 0) + hx2 + hy2),
        ) * 16;
      if (dmin < dmax) {
        const diff = clamp(hpp + hmm - hmp - hpm, dmin, dmax);
        a[s10 + 1] = a[s10 + 1]! + clamp(Math.trunc((diff - a[s10 + 1]! * 64) / 64), -smax, smax);
      }
    }
  }
}

/** Inverse H-transform in place of an nx x ny array (ny fastest), one level per power of two. */
function inverseTransform(a: Float64Array, nx: number, ny: number, smoothing: boolean, scale: number): void {
  const nmax = Math.max(nx, ny);
  const log2n = ceilLog2(nmax);
  if (log2n === 0) return;
  const tmp = new Float64Array((nmax + 1) >> 1);
  let shift = 1;
  let bit0 = 2 ** (log2n - 1);
  let bit1 = 2 * bit0;
  const bit2 = 4 * bit0;
  let prnd0 = Math.floor(bit0 / 2);
  let prnd1 = bit0;
  const prnd2 = 2 * bit0;
  let nrnd0 = prnd0 - 1;
  let nrnd1 = prnd1 - 1;
  a[0] = roundTo(a[0]!, bit2, prnd2, prnd2 - 1);

  let nxtop = 1;
  let nytop = 1;
  let nxf = nx;
  let nyf = ny;
  let c = 2 ** log2n;
  for (let k = log2n - 1; k >= 0; k--) {
    c /= 2;
    nxtop *= 2;
    nytop *= 2;
    if (nxf <= c) nxtop -= 1;
    else nxf -= c;
    if (nyf <= c) nytop -= 1;
    else nyf -= c;
    if (k === 0) {
      // The last level divides by 4 and has no rounding bit below bit0 = 1.
      nrnd0 = 0;
      shift = 2;
    }
    const divisor = 2 ** shift;
    for (let i = 0; i < nxtop; i++) unshuffle(a, ny * i, nytop, 1, tmp);
    for (let j = 0; j < nytop; j++) unshuffle(a, j, nxtop, ny, tmp);
    if (smoothing) smooth(a, nxtop, nytop, ny, scale);
    const oddx = nxtop % 2;
    const oddy = nytop % 2;
    let i = 0;
    for (; i < nxtop - oddx; i += 2) {
      let s00 = ny * i;
      let s10 = s00 + ny;
      for (let j = 0; j < nytop - oddy; j += 2, s00 += 2, s10 += 2) {
        let h0 = a[s00]!;
        let hx = roundTo(a[s10]!, bit1, prnd1, nrnd1);
        let hy = roundTo(a[s00 + 1]!, bit1, prnd1, nrnd1);
        const hc = roundTo(a[s10 + 1]!, bit0, prnd0, nrnd0);
        // Bit 0 of hc and then bits 0/1 of hc, hx, hy carry the parts of h0 lost to rounding.
        const lowbit0 = bitOf(hc, bit0) * bit0;
        hx = hx >= 0 ? hx - lowbit0 : hx + lowbit0;
        hy = hy >= 0 ? hy - lowbit0 : hy + lowbit0;
        const lowbit1 = (bitOf(hc, bit1) ^ bitOf(hx, bit1) ^ bitOf(hy, bit1)) * bit1;
        h0 = h0 >= 0 ? h0 + lowbit0 - lowbit1 : h0 + (lowbit0 === 0 ? lowbit1 : lowbit0 - lowbit1);
        a[s10 + 1] = Math.floor((h0 + hx + hy + hc) / divisor);
        a[s10] = Math.floor((h0 + hx - hy - hc) / divisor);
        a[s00 + 1] = Math.floor((h0 - hx + hy - hc) / divisor);
        a[s00] = Math.floor((h0 - hx - hy + hc) / divisor);
      }
      if (oddy) {
        let h0 = a[s00]!;
        const hx = roundTo(a[s10]!, bit1, prnd1, nrnd1);
        const lowbit1 = bitOf(hx, bit1) * bit1;
        h0 = h0 >= 0 ? h0 - lowbit1 : h0 + lowbit1;
        a[s10] = Math.floor((h0 + hx) / divisor);
        a[s00] = Math.floor((h0 - hx) / divisor);
      }
    }
    if (oddx) {
      let s00 = ny * i;
      for (let j = 0; j < nytop - oddy; j += 2, s00 += 2) {
        let h0 = a[s00]!;
        const hy = roundTo(a[s00 + 1]!, bit1, prnd1, nrnd1);
        const lowbit1 = bitOf(hy, bit1) * bit1;
        h0 = h0 >= 0 ? h0 - lowbit1 : h0 + lowbit1;
        a[s00 + 1] = Math.floor((h0 + hy) / divisor);
        a[s00] = Math.floor((h0 - hy) / divisor);
      }
      if (oddy) a[s00] = Math.floor(a[s00]! / divisor);
    }
    bit1 = bit0;
    bit0 = Math.floor(bit0 / 2);
    prnd1 = prnd0;
    prnd0 = Math.floor(prnd0 / 2);
    nrnd1 = nrnd0;
    nrnd0 = prnd0 - 1;
  }
}

function readInt32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) | 0;
}

/** Decodes one HCOMPRESS_1 tile of `npix` pixels; returns the pixels row by row (NAXIS1 fastest). */
export function hcompressDecode(compressed: Uint8Array, npix: number, smoothing: boolean): Int32Array {
  if (compressed.length < HEADER_BYTES || compressed[0] !== 0xdd || compressed[1] !== 0x99) {
    throw new InvalidInputError('HCOMPRESS_1 tile does not start with the 0xDD99 magic code');
  }
  const nx = readInt32(compressed, 2);
  const ny = readInt32(compressed, 6);
  const scale = readInt32(compressed, 10);
  if (nx <= 0 || ny <= 0 || nx * ny !== npix) {
    throw new InvalidInputError(`HCOMPRESS_1 tile is ${nx} x ${ny} pixels, expected ${npix}`);
  }
  const sumHigh = readInt32(compressed, 14);
  const sumLow = readInt32(compressed, 18) >>> 0;
  const sumAll = sumHigh * 2 ** 32 + sumLow;
  const planes = [compressed[22]!, compressed[23]!, compressed[24]!] as const;

  const padded = new Uint8Array(compressed.length + 2);
  padded.set(compressed);
  const reader = new BitReader(padded, HEADER_BYTES);
  const a = new Float64Array(npix);
  const nx2 = (nx + 1) >> 1;
  const ny2 = (ny + 1) >> 1;
  decodeQuadrant(reader, a, 0, ny, nx2, ny2, planes[0]);
  decodeQuadrant(reader, a, ny2, ny, nx2, ny >> 1, planes[1]);
  decodeQuadrant(reader, a, ny * nx2, ny, nx >> 1, ny2, planes[1]);
  decodeQuadrant(reader, a, ny * nx2 + ny2, ny, nx >> 1, ny >> 1, planes[2]);
  if (reader.bits(4) !== 0) throw new InvalidInputError('HCOMPRESS_1 bit planes are not followed by the end code');
  reader.alignToByte();
  for (let i = 0; i < npix; i++) if (a[i] !== 0 && reader.bits(1) === 1) a[i] = -a[i]!;
  if (reader.bytePosition > compressed.length) throw new InvalidInputError('HCOMPRESS_1 tile ended before all coefficients were decoded');
  a[0] = sumAll;
  if (scale > 1) for (let i = 0; i < npix; i++) a[i] = a[i]! * scale;
  inverseTransform(a, nx, ny, smoothing, scale);
  return Int32Array.from(a);
}

export const hcompressCodec: TileCodec = {
  decode(compressed: Uint8Array, context: TileCodecContext): Int32Array {
    return hcompressDecode(compressed, context.npix, (context.params.get('SMOOTH') ?? 0) !== 0);
  },
};

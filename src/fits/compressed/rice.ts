/**
 * RICE_1: adaptive Rice coding of first differences (Pence, White & Seaman, the tiled image
 * compression convention, section on RICE_1).
 *
 * Stream layout: the first pixel verbatim as BYTEPIX big-endian bytes, then blocks of BLOCKSIZE
 * pixels, each introduced by an FSBITS-wide code: 0 when every difference in the block is zero,
 * FSMAX + 1 when the differences follow verbatim in 8*BYTEPIX bits, otherwise k + 1 with each
 * difference split into a unary high part and k low bits. Differences are zig-zag mapped
 * (even = non-negative) and accumulate modulo 2^(8*BYTEPIX).
 */
import { InvalidInputError, UnsupportedError } from '../../errors.js';
import type { TileCodec, TileCodecContext, TileSamples } from './registry.js';

interface RiceWidth {
  readonly fsbits: number;
  readonly fsmax: number;
}

const WIDTHS: Readonly<Record<number, RiceWidth>> = {
  1: { fsbits: 3, fsmax: 6 },
  2: { fsbits: 4, fsmax: 14 },
  4: { fsbits: 5, fsmax: 25 },
};

/** Zero bytes kept past the end of a stream: the bit reader loads up to 4 bytes ahead of the bits it has used. */
const PAD = 8;

/**
 * The zero-padded copy of the stream being decoded, kept across tiles: decoding is synchronous and
 * keeps nothing, and one allocation per tile of an image with thousands of row tiles costs more
 * than the copy.
 */
let padded = new Uint8Array(0);

function paddedCopy(compressed: Uint8Array): Uint8Array {
  if (padded.length < compressed.length + PAD) padded = new Uint8Array(Math.max(compressed.length + PAD, 2 * padded.length));
  padded.set(compressed);
  padded.fill(0, compressed.length, compressed.length + PAD);
  return padded;
}

/**
 * Decodes `out.length` pixels. Values are exact modulo 2^(8*bytepix); the caller narrows them.
 * `input` must carry PAD zero bytes past `length` (see paddedCopy), so the bit reader can load
 * ahead without bounds tests in the hot loop (out-of-range typed-array reads deoptimise V8).
 *
 * The unused bits sit left-aligned in a 32-bit accumulator that is topped up to at least 25 bits
 * once per pixel, rather than byte by byte as each part of a code needs them: that and the
 * branch-free zig-zag mapping (whose sign is as random as the noise) spare the hot loop branches
 * it cannot predict.
 */
function riceDecodeInto(input: Uint8Array, length: number, out: Int32Array, bytepix: number, blocksize: number): void {
  const { fsbits, fsmax } = WIDTHS[bytepix]!;
  const n = out.length;
  if (n === 0) return;
  if (length < bytepix + 1) throw new InvalidInputError(`RICE_1 tile of ${length} bytes is too short`);

  let lastpix = 0;
  for (let k = 0; k < bytepix; k++) lastpix = (lastpix << 8) | input[k]!;
  let p = bytepix;
  // The next `avail` bits of the stream are the top bits of `acc`; the rest of it is zero.
  let acc = 0;
  let avail = 0;
  let i = 0;
  while (i < n) {
    for (; avail <= 24; avail += 8) acc |= input[p++]! << (24 - avail);
    const fs = (acc >>> (32 - fsbits)) - 1;
    acc <<= fsbits;
    avail -= fsbits;
    if (fs > fsmax) throw new InvalidInputError(`RICE_1 block code ${fs + 1} is above the largest for BYTEPIX = ${bytepix}`);
    const imax = Math.min(i + blocksize, n);
    if (fs < 0) {
      for (; i < imax; i++) out[i] = lastpix;
    } else if (fs === fsmax) {
      // Differences stored verbatim: rare, so taken a byte at a time.
      for (; i < imax; i++) {
        let diff = 0;
        for (let k = 0; k < bytepix; k++) {
          for (; avail <= 24; avail += 8) acc |= input[p++]! << (24 - avail);
          diff = (diff << 8) | (acc >>> 24);
          acc <<= 8;
          avail -= 8;
        }
        lastpix = (lastpix + ((diff >>> 1) ^ -(diff & 1))) | 0;
        out[i] = lastpix;
      }
    } else {
      // Two shifts, as JS takes shift counts modulo 32: `>>> (32 - fs)` would keep all bits for fs = 0.
      const lowShift = 31 - fs;
      for (; i < imax; i++) {
        for (; avail <= 24; avail += 8) acc |= input[p++]! << (24 - avail);
        // The unary high part: zeros up to a one-bit, rarely longer than the accumulator.
        let nzero = 0;
        while (acc === 0) {
          if (p > length) throw new InvalidInputError('RICE_1 tile ended before all pixels were decoded');
          nzero += avail;
          avail = 0;
          for (; avail <= 24; avail += 8) acc |= input[p++]! << (24 - avail);
        }
        const z = Math.clz32(acc);
        nzero += z;
        acc = (acc << z) << 1;
        avail -= z + 1;
        // Then fs low bits (fs <= 24, so `avail` is below 24 when this tops it up).
        for (; avail < fs; avail += 8) acc |= input[p++]! << (24 - avail);
        const diff = (nzero << fs) | ((acc >>> 1) >>> lowShift);
        acc <<= fs;
        avail -= fs;
        lastpix = (lastpix + ((diff >>> 1) ^ -(diff & 1))) | 0;
        out[i] = lastpix;
      }
    }
    // Bits used so far: all loaded but the `avail` still in the accumulator.
    if (8 * p - avail > 8 * length) throw new InvalidInputError('RICE_1 tile ended before all pixels were decoded');
  }
}

/**
 * Decodes a RICE_1 stream of `npix` pixels into the integer width the stream was written with.
 * With `scratch` (at least `npix` long) a 4-byte stream is decoded into it and a view of it returned,
 * instead of a new array.
 */
export function riceDecode(compressed: Uint8Array, npix: number, bytepix: number, blocksize: number, scratch?: Int32Array): TileSamples {
  if (WIDTHS[bytepix] === undefined) throw new UnsupportedError(`RICE_1 with BYTEPIX = ${bytepix} (only 1, 2 and 4 exist)`);
  if (!Number.isInteger(blocksize) || blocksize < 1) throw new InvalidInputError(`RICE_1 BLOCKSIZE = ${blocksize} is not a positive integer`);
  const out = scratch !== undefined && scratch.length >= npix ? scratch.subarray(0, npix) : new Int32Array(npix);
  riceDecodeInto(paddedCopy(compressed), compressed.length, out, bytepix, blocksize);
  // Typed-array conversion wraps modulo 2^8 / 2^16, which is exactly the stream's arithmetic.
  if (bytepix === 1) return new Uint8Array(out);
  if (bytepix === 2) return new Int16Array(out);
  return out;
}

export const riceCodec: TileCodec = {
  decode(compressed: Uint8Array, context: TileCodecContext): TileSamples {
    // Without ZNAMEi = 'BYTEPIX' the stream holds 4-byte integers whatever ZBITPIX is (m13_rice.fits).
    const bytepix = context.params.get('BYTEPIX') ?? 4;
    const blocksize = context.params.get('BLOCKSIZE') ?? 32;
    return riceDecode(compressed, context.npix, bytepix, blocksize, context.scratch);
  },
};

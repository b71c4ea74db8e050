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

/**
 * Decodes `out.length` pixels. Values are exact modulo 2^(8*bytepix); the caller narrows them.
 * `input` must carry at least 8 zero bytes of padding past `length` so the bit reader can run
 * ahead without bounds checks in the hot loop (out-of-range typed-array reads deoptimise V8).
 */
function riceDecodeInto(input: Uint8Array, length: number, out: Int32Array, bytepix: number, blocksize: number): void {
  const { fsbits, fsmax } = WIDTHS[bytepix]!;
  const bbits = 8 * bytepix;
  const n = out.length;
  if (n === 0) return;
  if (length < bytepix + 1) throw new InvalidInputError(`RICE_1 tile of ${length} bytes is too short`);

  let lastpix = 0;
  for (let k = 0; k < bytepix; k++) lastpix = (lastpix << 8) | input[k]!;
  let p = bytepix;
  // b holds the nbits not yet consumed bits of the stream in its low bits.
  let b = input[p++]!;
  let nbits = 8;
  let i = 0;
  while (i < n) {
    nbits -= fsbits;
    while (nbits < 0) {
      b = (b << 8) | input[p++]!;
      nbits += 8;
    }
    const fs = (b >>> nbits) - 1;
    if (fs > fsmax) throw new InvalidInputError(`RICE_1 block code ${fs + 1} is above the largest for BYTEPIX = ${bytepix}`);
    b &= (1 << nbits) - 1;
    const imax = Math.min(i + blocksize, n);
    if (fs < 0) {
      for (; i < imax; i++) out[i] = lastpix;
    } else if (fs === fsmax) {
      for (; i < imax; i++) {
        let k = bbits - nbits;
        // nbits is 0 only when b is 0, so a 32-bit shift (a no-op in JS) cannot leak stale bits.
        let diff = b << k;
        for (k -= 8; k >= 0; k -= 8) diff |= input[p++]! << k;
        if (nbits > 0) {
          b = input[p++]!;
          diff |= b >>> -k;
          b &= (1 << nbits) - 1;
        } else {
          b = 0;
        }
        lastpix = (lastpix + ((diff & 1) === 0 ? diff >>> 1 : ~(diff >>> 1))) | 0;
        out[i] = lastpix;
      }
    } else {
      for (; i < imax; i++) {
        while (b === 0) {
          nbits += 8;
          b = input[p++]!;
        }
        // b < 256 here, so its bit length locates the terminating one-bit of the unary part.
        const bitLength = 32 - Math.clz32(b);
        const nzero = nbits - bitLength;
        nbits = bitLength - 1 - fs;
        b ^= 1 << (bitLength - 1);
        while (nbits < 0) {
          b = (b << 8) | input[p++]!;
          nbits += 8;
        }
        const diff = (nzero << fs) | (b >>> nbits);
        b &= (1 << nbits) - 1;
        lastpix = (lastpix + ((diff & 1) === 0 ? diff >>> 1 : ~(diff >>> 1))) | 0;
        out[i] = lastpix;
      }
    }
    if (p > length) throw new InvalidInputError('RICE_1 tile ended before all pixels were decoded');
  }
}

/** Decodes a RICE_1 stream of `npix` pixels into the integer width the stream was written with. */
export function riceDecode(compressed: Uint8Array, npix: number, bytepix: number, blocksize: number): TileSamples {
  if (WIDTHS[bytepix] === undefined) throw new UnsupportedError(`RICE_1 with BYTEPIX = ${bytepix} (only 1, 2 and 4 exist)`);
  if (!Number.isInteger(blocksize) || blocksize < 1) throw new InvalidInputError(`RICE_1 BLOCKSIZE = ${blocksize} is not a positive integer`);
  const padded = new Uint8Array(compressed.length + 8);
  padded.set(compressed);
  const out = new Int32Array(npix);
  riceDecodeInto(padded, compressed.length, out, bytepix, blocksize);
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
    return riceDecode(compressed, context.npix, bytepix, blocksize);
  },
};

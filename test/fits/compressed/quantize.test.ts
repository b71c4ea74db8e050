/**
 * The quantisation layer: the convention's dither sequence, un-quantisation of floating-point tiles,
 * and the output type and values astropy's CompImageHDU gives for each BITPIX/BSCALE/BZERO.
 */
import {
  N_RANDOM,
  ZERO_VALUE,
  dequantize,
  ditherOffset,
  ditherRandoms,
  pixelConverter,
  type PixelConverter,
  type PixelScaling,
  type TileQuantization,
} from '../../../src/fits/compressed/quantize.js';
import type { TileSamples } from '../../../src/fits/compressed/registry.js';
import type { PixelArray } from '../../../src/fits/types.js';

describe('the dither sequence', () => {
  it('is the Park-Miller sequence the convention defines, ending on its check value', () => {
    const r = ditherRandoms();
    expect(r).toHaveLength(N_RANDOM);
    expect(r[0]).toBe(Math.fround(16807 / 2147483647));
    expect(r[1]).toBe(Math.fround(((16807 * 16807) % 2147483647) / 2147483647));
    // The convention: after 10000 draws the seed is 1043618065.
    expect(r[N_RANDOM - 1]).toBe(Math.fround(1043618065 / 2147483647));
    expect(r.every((v) => v > 0 && v < 1)).toBe(true);
  });

  it('starts tile t (0-based) at entry (t + ZDITHER0 - 1) mod 10000', () => {
    expect(ditherOffset(0, 1)).toBe(0);
    expect(ditherOffset(4, 8393)).toBe(8396);
    expect(ditherOffset(1700, 8393)).toBe(92);
  });
});

describe('dequantize', () => {
  const tile = { scale: 0.25, zero: 100, blank: -2147483647 };

  it('NO_DITHER is q * ZSCALE + ZZERO, with ZBLANK as NaN', () => {
    const out = new Float64Array(3);
    dequantize(Int32Array.from([0, -8, tile.blank]), out, tile, 'NO_DITHER', 0);
    expect(Array.from(out)).toEqual([100, 98, NaN]);
  });

  it('SUBTRACTIVE_DITHER_1 adds back a dither in (-ZSCALE/2, ZSCALE/2] and rounds to the output type', () => {
    const q = Int32Array.from({ length: 500 }, (_, i) => i - 250);
    const single = new Float32Array(q.length);
    const double = new Float64Array(q.length);
    dequantize(q, single, tile, 'SUBTRACTIVE_DITHER_1', 17);
    dequantize(q, double, tile, 'SUBTRACTIVE_DITHER_1', 17);
    const worst = Math.max(...Array.from(double, (v, i) => Math.abs(v - (q[i]! * tile.scale + tile.zero))));
    expect(worst).toBeLessThanOrEqual(tile.scale / 2);
    expect(worst).toBeGreaterThan(tile.scale / 4);
    expect(single).toEqual(Float32Array.from(double));
    const other = new Float64Array(q.length);
    dequantize(q, other, tile, 'SUBTRACTIVE_DITHER_1', 18);
    expect(other).not.toEqual(double);
  });

  it('walks the sequence once per pixel, blank pixels included, and re-seeds at its end', () => {
    // Long enough to pass the end of the sequence from any starting entry.
    const n = 2 * N_RANDOM;
    const q = Int32Array.from({ length: n }, (_, i) => i % 1000);
    const clean = new Float64Array(n);
    dequantize(q, clean, tile, 'SUBTRACTIVE_DITHER_1', 9999);
    const holes = Int32Array.from(q);
    for (const i of [3, 5000, 12345]) holes[i] = tile.blank;
    const withHoles = new Float64Array(n);
    dequantize(holes, withHoles, tile, 'SUBTRACTIVE_DITHER_1', 9999);
    const expected = Float64Array.from(clean, (v, i) => (holes[i] === tile.blank ? NaN : v));
    expect(withHoles).toEqual(expected);
  });

  it('matches a pixel-by-pixel walk of the sequence, across several re-seeds', () => {
    const reference = (q: Int32Array, method: 'SUBTRACTIVE_DITHER_1' | 'SUBTRACTIVE_DITHER_2', offset: number): Float32Array => {
      const rand = ditherRandoms();
      const out = new Float32Array(q.length);
      let iseed = offset;
      let next = Math.trunc(Math.fround(rand[iseed]! * 500));
      for (let i = 0; i < q.length; i++) {
        if (q[i] === tile.blank) out[i] = NaN;
        else if (method === 'SUBTRACTIVE_DITHER_2' && q[i] === ZERO_VALUE) out[i] = 0;
        else out[i] = (q[i]! - rand[next]! + 0.5) * tile.scale + tile.zero;
        if (++next === N_RANDOM) {
          if (++iseed === N_RANDOM) iseed = 0;
          next = Math.trunc(Math.fround(rand[iseed]! * 500));
        }
      }
      return out;
    };
    const q = Int32Array.from({ length: 3 * N_RANDOM + 17 }, (_, i) => (i % 101 === 0 ? tile.blank : i % 211 === 0 ? ZERO_VALUE : (i * 7919) % 4001));
    for (const method of ['SUBTRACTIVE_DITHER_1', 'SUBTRACTIVE_DITHER_2'] as const) {
      for (const offset of [0, 1234, N_RANDOM - 1]) {
        const out = new Float32Array(q.length);
        dequantize(q, out, tile, method, offset);
        expect(out).toEqual(reference(q, method, offset));
      }
    }
  });

  it('SUBTRACTIVE_DITHER_2 restores exact zeros; DITHER_1 does not know the code', () => {
    const q = Int32Array.from([ZERO_VALUE, 4, ZERO_VALUE]);
    const two = new Float32Array(3);
    dequantize(q, two, tile, 'SUBTRACTIVE_DITHER_2', 0);
    expect(Object.is(two[0], 0)).toBe(true);
    expect(Object.is(two[2], 0)).toBe(true);
    expect(Math.abs(two[1]! - 101)).toBeLessThanOrEqual(0.125);
    const one = new Float32Array(3);
    dequantize(q, one, tile, 'SUBTRACTIVE_DITHER_1', 0);
    expect(one[0]).toBeLessThan(-1e8);
    expect(one[1]).toBe(two[1]);
  });
});

describe('pixel types and scaling, as astropy CompImageHDU gives them', () => {
  const scaling = (bitpix: number, bscale: number, bzero: number | bigint, extra: Partial<PixelScaling> = {}): PixelScaling => ({
    bitpix,
    bscale,
    bzero,
    quantized: false,
    method: 'NO_DITHER',
    ditherSeed: 1,
    ...extra,
  });
  /** Converts one tile into a fresh output array, as the reader does for a tile read whole. */
  const convertWith = (converter: PixelConverter, samples: TileSamples, quantization?: TileQuantization): PixelArray => {
    const out = converter.allocate(samples.length);
    converter.convert(samples, 0, quantization, out);
    return out;
  };
  const convert = (s: PixelScaling, samples: TileSamples): PixelArray => convertWith(pixelConverter(s), samples);
  const list = (pixels: PixelArray): (number | bigint)[] => Array.from(pixels as ArrayLike<number | bigint>);

  it('keeps the stored type without scaling', () => {
    expect(pixelConverter(scaling(8, 1, 0)).dtype).toBe('uint8');
    expect(pixelConverter(scaling(16, 1, 0)).dtype).toBe('int16');
    expect(pixelConverter(scaling(32, 1, 0)).dtype).toBe('int32');
    expect(pixelConverter(scaling(64, 1, 0)).dtype).toBe('int64');
    expect(list(convert(scaling(16, 1, 0), Int32Array.from([-5, 70000])))).toEqual([-5, 70000 - 65536]);
    expect(list(convert(scaling(64, 1, 0), BigInt64Array.from([-(2n ** 62n)])))).toEqual([-(2n ** 62n)]);
  });

  it('gives the unsigned types for BZERO = 2^(n-1), BSCALE = 1', () => {
    expect(list(convert(scaling(16, 1, 32768), Int16Array.from([-32768, 0, 32767])))).toEqual([0, 32768, 65535]);
    const u16 = convert(scaling(16, 1, 32768), Int16Array.from([1]));
    expect(u16).toBeInstanceOf(Uint16Array);
    const u32 = convert(scaling(32, 1, 2 ** 31), Int32Array.from([-2147483648, -1, 5]));
    expect(u32).toBeInstanceOf(Uint32Array);
    expect(list(u32)).toEqual([0, 2 ** 31 - 1, 2 ** 31 + 5]);
    const u64 = convert(scaling(64, 1, 2n ** 63n), BigInt64Array.from([-(2n ** 63n), 7n]));
    expect(u64).toBeInstanceOf(BigUint64Array);
    expect(list(u64)).toEqual([0n, 2n ** 63n + 7n]);
  });

  it('scales other integers to float32 (8/16-bit, in float32 steps) or float64, BLANK becoming NaN', () => {
    const signedBytes = convert(scaling(8, 1, -128), Uint8Array.from([0, 255]));
    expect(signedBytes).toBeInstanceOf(Float32Array);
    expect(list(signedBytes)).toEqual([-128, 127]);
    const f32 = convert(scaling(16, 0.1, 3.3, { blank: -1 }), Int16Array.from([12345, -1]));
    expect(f32).toBeInstanceOf(Float32Array);
    expect(f32[0]).toBe(Math.fround(Math.fround(12345 * Math.fround(0.1)) + Math.fround(3.3)));
    expect(f32[1]).toBeNaN();
    const f64 = convert(scaling(32, 0.1, 3.3), Int32Array.from([123456789]));
    expect(f64).toBeInstanceOf(Float64Array);
    expect(f64[0]).toBe(123456789 * 0.1 + 3.3);
  });

  it('leaves lossless floats as stored, scales them in their own precision, and un-quantises integer tiles', () => {
    expect(list(convert(scaling(-32, 1, 0), Float32Array.from([1.5, NaN])))).toEqual([1.5, NaN]);
    expect(pixelConverter(scaling(-32, 1, 0)).sampleType).toBe('float32');
    const scaled = convert(scaling(-32, 3, 0.5), Float32Array.from([Math.fround(0.1)]));
    expect(scaled[0]).toBe(Math.fround(Math.fround(Math.fround(0.1) * 3) + 0.5));
    const quantized = pixelConverter(scaling(-64, 1, 0, { quantized: true, method: 'NO_DITHER' }));
    expect(quantized.sampleType).toBe('int32');
    expect(list(convertWith(quantized, Int32Array.from([2, -2]), { scale: 0.5, zero: 10 }))).toEqual([11, 9]);
    expect(() => convertWith(quantized, Int32Array.from([2]))).toThrow(/ZSCALE/);
  });
});

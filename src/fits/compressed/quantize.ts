/**
 * From decoded tile samples to the pixel values of the logical image: un-quantisation of
 * floating-point images (ZQUANTIZ, ZSCALE/ZZERO, ZBLANK, ZDITHER0; the tiled image compression
 * convention, section 4) and BSCALE/BZERO of the image itself, with the output types astropy's
 * CompImageHDU gives.
 */
import { InvalidInputError } from '../../errors.js';
import { bitpixType, type BitpixType } from '../image.js';
import type { PixelArray, PixelDtype } from '../types.js';
import type { SampleType, TileSamples } from './registry.js';

export type QuantizeMethod = 'NO_DITHER' | 'SUBTRACTIVE_DITHER_1' | 'SUBTRACTIVE_DITHER_2';

/** Length of the convention's dither sequence. */
export const N_RANDOM = 10000;

/** SUBTRACTIVE_DITHER_2 stores pixels that were exactly 0.0 as this integer. */
export const ZERO_VALUE = -2147483646;

let randoms: Float32Array | undefined;

/**
 * The convention's uniform sequence in [0, 1): a Park-Miller generator (a = 16807,
 * m = 2^31 - 1, seed 1) in double precision, each value stored as a C float as cfitsio does.
 */
export function ditherRandoms(): Float32Array {
  if (randoms === undefined) {
    const a = 16807;
    const m = 2147483647;
    let seed = 1;
    randoms = new Float32Array(N_RANDOM);
    for (let i = 0; i < N_RANDOM; i++) {
      const temp = a * seed;
      seed = temp - m * Math.trunc(temp / m);
      randoms[i] = seed / m;
    }
  }
  return randoms;
}

/** Per-tile quantisation parameters, from the ZSCALE/ZZERO/ZBLANK columns or keywords. */
export interface TileQuantization {
  readonly scale: number;
  readonly zero: number;
  /** The integer standing for NaN, when the image has one. */
  readonly blank?: number | undefined;
}

/** Start of a tile's dither: entry (tile + ZDITHER0 - 1) mod 10000, tile 0-based. */
export function ditherOffset(tileIndex: number, ditherSeed: number): number {
  return (((tileIndex + ditherSeed - 1) % N_RANDOM) + N_RANDOM) % N_RANDOM;
}

/**
 * value = (q - r + 0.5) * scale + zero, with r walking the dither sequence one entry per pixel
 * (NaN and zero pixels included); each time the walk reaches the end, the next seed entry picks a
 * new start. Evaluated in double and rounded on store, as cfitsio's unquantize does.
 */
export function dequantize(
  samples: ArrayLike<number>,
  out: Float32Array | Float64Array,
  tile: TileQuantization,
  method: QuantizeMethod,
  randomOffset: number,
): void {
  const { scale, zero } = tile;
  const blank = tile.blank ?? Number.NaN;
  const n = samples.length;
  if (method === 'NO_DITHER') {
    for (let i = 0; i < n; i++) {
      const q = samples[i]!;
      out[i] = q === blank ? Number.NaN : q * scale + zero;
    }
    return;
  }
  const rand = ditherRandoms();
  // NaN equals no sample, so SUBTRACTIVE_DITHER_1 never takes the zero branch.
  const zeroValue = method === 'SUBTRACTIVE_DITHER_2' ? ZERO_VALUE : Number.NaN;
  let iseed = randomOffset;
  let next = Math.trunc(Math.fround(rand[iseed]! * 500));
  for (let i = 0; i < n; ) {
    // Pixels up to where the walk reaches the end of the sequence, with no wrap test per pixel.
    const end = Math.min(n, i + N_RANDOM - next);
    const shift = next - i;
    for (; i < end; i++) {
      const q = samples[i]!;
      out[i] = q === blank ? Number.NaN : q === zeroValue ? 0 : (q - rand[i + shift]! + 0.5) * scale + zero;
    }
    if (++iseed === N_RANDOM) iseed = 0;
    next = Math.trunc(Math.fround(rand[iseed]! * 500));
  }
}

/** What the header says about turning samples into pixels. */
export interface PixelScaling {
  /** ZBITPIX. */
  readonly bitpix: number;
  /** BSCALE and BZERO of the image (table keywords of the compressed HDU). */
  readonly bscale: number;
  readonly bzero: number | bigint;
  /** BLANK/ZBLANK of an integer image, which only matters once BSCALE/BZERO make it floating. */
  readonly blank?: number | undefined;
  /** Whether a floating image was quantised to integers (it has ZSCALE), else stored losslessly. */
  readonly quantized: boolean;
  readonly method: QuantizeMethod;
  /** ZDITHER0. */
  readonly ditherSeed: number;
}

export interface PixelConverter {
  readonly dtype: PixelDtype;
  /** The array type the tile codecs are asked for. */
  readonly sampleType: SampleType;
  /** An output array of `dtype`. */
  allocate(n: number): PixelArray;
  /**
   * Writes one tile's pixels in output form into `out` (from `allocate`, or a view of one, exactly
   * `samples.length` long). `quantization` is required when the samples of a floating image are
   * integers; `tileIndex` (0-based) positions the dither.
   */
  convert(samples: TileSamples, tileIndex: number, quantization: TileQuantization | undefined, out: PixelArray): void;
}

type FloatArray = Float32Array | Float64Array;
type FloatConstructor = new (n: number) => FloatArray;

function isFloatSamples(samples: TileSamples): samples is FloatArray {
  return samples instanceof Float32Array || samples instanceof Float64Array;
}

/** Applies BSCALE/BZERO in place in the array's own precision, as numpy does for astropy. */
function applyLinear(values: FloatArray, bscale: number, bzero: number): void {
  const single = values instanceof Float32Array;
  const scale = single ? Math.fround(bscale) : bscale;
  const zero = single ? Math.fround(bzero) : bzero;
  if (scale !== 1) for (let i = 0; i < values.length; i++) values[i] = values[i]! * scale;
  if (zero !== 0) for (let i = 0; i < values.length; i++) values[i] = values[i]! + zero;
}

function floatConverter(scaling: PixelScaling, type: BitpixType): PixelConverter {
  const { bscale, method, ditherSeed } = scaling;
  const bzero = Number(scaling.bzero);
  const Float = type.array as FloatConstructor;
  return {
    dtype: type.dtype,
    sampleType: scaling.quantized ? 'int32' : (type.dtype as SampleType),
    allocate: (n) => new Float(n),
    convert(samples, tileIndex, quantization, pixels) {
      const out = pixels as FloatArray;
      if (isFloatSamples(samples)) {
        out.set(samples);
      } else if (samples instanceof BigInt64Array) {
        throw new InvalidInputError('a floating-point image cannot be quantised to 64-bit integers');
      } else {
        if (quantization === undefined) throw new InvalidInputError('integer tile of a floating-point image has no ZSCALE/ZZERO');
        dequantize(samples, out, quantization, method, ditherOffset(tileIndex, ditherSeed));
      }
      applyLinear(out, bscale, bzero);
    },
  };
}

type IntegerSamples = Exclude<TileSamples, FloatArray>;

/**
 * Integer images, as astropy 5.2's CompImageHDU reads them: the stored type without scaling; the
 * unsigned type of the same width for BZERO = 2^(n-1), BSCALE = 1 (16, 32, 64 bits only: unlike
 * for plain images, BZERO = -128 on bytes is not special); otherwise float32 (8/16-bit) or float64,
 * where BLANK pixels become NaN.
 */
function integerConverter(scaling: PixelScaling, type: BitpixType): PixelConverter {
  const { bitpix, bscale, bzero, blank } = scaling;
  const sampleType = type.dtype as SampleType;
  const integerSamples = (samples: TileSamples): IntegerSamples => {
    if (isFloatSamples(samples)) throw new InvalidInputError('floating-point tile in an integer image');
    // A ZBITPIX that disagrees with the codec's output (a header edit, a bad writer) must not reach BigInt arithmetic.
    if (samples instanceof BigInt64Array && sampleType !== 'int64') throw new InvalidInputError(`64-bit integer tile in an image of ZBITPIX = ${bitpix}`);
    return samples;
  };
  if (bscale === 1 && (bzero === 0 || bzero === 0n)) {
    return {
      dtype: type.dtype,
      sampleType,
      allocate: (n) => new type.array(n),
      convert(samples, _tileIndex, _quantization, out) {
        const raw = integerSamples(samples);
        if (out instanceof BigInt64Array) {
          for (let i = 0; i < raw.length; i++) out[i] = BigInt(raw[i]!);
        } else {
          // Typed-array stores wrap, as C's casts of cfitsio's int buffers do.
          (out as Exclude<PixelArray, BigInt64Array | BigUint64Array>).set(raw as Exclude<IntegerSamples, BigInt64Array>);
        }
      },
    };
  }
  const unsigned = bitpix > 8 && bscale === 1 ? type.flipped : undefined;
  if (unsigned !== undefined && (typeof bzero === 'bigint' ? bzero === BigInt(unsigned.bzero) : bzero === Number(unsigned.bzero))) {
    const shift = 2 ** (bitpix - 1);
    return {
      dtype: unsigned.dtype,
      sampleType,
      allocate: (n) => new unsigned.array(n),
      convert(samples, _tileIndex, _quantization, out) {
        const raw = integerSamples(samples);
        if (out instanceof BigUint64Array) {
          for (let i = 0; i < raw.length; i++) out[i] = BigInt.asUintN(64, BigInt(raw[i]!) + (1n << 63n));
        } else {
          const values = out as Uint16Array | Uint32Array;
          const narrow = raw as Exclude<IntegerSamples, BigInt64Array>;
          for (let i = 0; i < narrow.length; i++) values[i] = narrow[i]! + shift;
        }
      },
    };
  }
  const Float = (type.scaledDtype === 'float32' ? Float32Array : Float64Array) as FloatConstructor;
  const zero = Number(bzero);
  return {
    dtype: type.scaledDtype,
    sampleType,
    allocate: (n) => new Float(n),
    convert(samples, _tileIndex, _quantization, pixels) {
      const raw = integerSamples(samples);
      const out = pixels as FloatArray;
      for (let i = 0; i < raw.length; i++) out[i] = Number(raw[i]!);
      applyLinear(out, bscale, zero);
      if (blank !== undefined) {
        for (let i = 0; i < raw.length; i++) if (Number(raw[i]!) === blank) out[i] = Number.NaN;
      }
    },
  };
}

export function pixelConverter(scaling: PixelScaling): PixelConverter {
  const type = bitpixType(scaling.bitpix);
  return scaling.bitpix < 0 ? floatConverter(scaling, type) : integerConverter(scaling, type);
}

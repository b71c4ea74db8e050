/**
 * GZIP_1, GZIP_2 and NOCOMPRESS: the tile is the big-endian pixel array itself, deflated (GZIP_1),
 * deflated after grouping the bytes by significance (GZIP_2, "byte shuffling"), or stored as is.
 */
import { constants } from 'node:buffer';
import { unzipSync } from 'node:zlib';
import { InvalidInputError } from '../../errors.js';
import type { SampleType, TileCodec, TileCodecContext, TileSamples } from './registry.js';

const SAMPLE_BYTES: Readonly<Record<SampleType, number>> = {
  uint8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  float32: 4,
  float64: 8,
};

function viewAs(bytes: Uint8Array, sampleType: SampleType): TileSamples {
  const { buffer, byteOffset, byteLength } = bytes;
  const count = byteLength / SAMPLE_BYTES[sampleType];
  switch (sampleType) {
    case 'uint8':
      return bytes;
    case 'int16':
      return new Int16Array(buffer, byteOffset, count);
    case 'int32':
      return new Int32Array(buffer, byteOffset, count);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, count);
    case 'float32':
      return new Float32Array(buffer, byteOffset, count);
    case 'float64':
      return new Float64Array(buffer, byteOffset, count);
  }
}

const INTEGER_OF_WIDTH: Readonly<Record<number, SampleType>> = { 1: 'uint8', 2: 'int16', 4: 'int32', 8: 'int64' };

/**
 * The type actually stored: early cfitsio wrote every integer tile as 4-byte integers (the
 * 16-bit m13_gzip.fits has 1200-byte tiles of 300 pixels), so integer widths follow the data.
 */
function storedType(bytes: Uint8Array, npix: number, nominal: SampleType): SampleType {
  const width = bytes.length / npix;
  if (width === SAMPLE_BYTES[nominal]) return nominal;
  const widened = nominal === 'float32' || nominal === 'float64' ? undefined : INTEGER_OF_WIDTH[width];
  if (widened === undefined) {
    throw new InvalidInputError(`tile holds ${bytes.length} bytes, which is not ${npix} ${nominal} values`);
  }
  return widened;
}

/**
 * Converts `npix` big-endian values to native typed-array order (every supported Node platform
 * is little-endian). With `shuffled`, byte j of value i is read from plane j, at j*npix + i,
 * as GZIP_2 stores it; otherwise from i*width + j.
 */
function samplesFromBigEndian(bytes: Uint8Array, npix: number, nominal: SampleType, shuffled = false): TileSamples {
  const sampleType = storedType(bytes, npix, nominal);
  const width = SAMPLE_BYTES[sampleType];
  if (width === 1) return viewAs(bytes, sampleType);
  const out = new Uint8Array(bytes.length);
  const valueStride = shuffled ? 1 : width;
  const byteStride = shuffled ? npix : 1;
  for (let j = 0; j < width; j++) {
    const dst = width - 1 - j;
    let src = j * byteStride;
    for (let i = 0; i < npix; i++, src += valueStride) out[i * width + dst] = bytes[src]!;
  }
  return viewAs(out, sampleType);
}

/**
 * Inflates no further than `npix` of the widest samples: a few kilobytes of deflated zeros would
 * otherwise fill memory long before the tile's size is checked.
 */
function inflate(compressed: Uint8Array, npix: number, name: string): Uint8Array {
  const limit = Math.min(npix * SAMPLE_BYTES.float64, constants.MAX_LENGTH);
  try {
    // unzip accepts both the gzip wrapper cfitsio writes and a bare zlib stream.
    return unzipSync(compressed, { maxOutputLength: limit });
  } catch (error) {
    const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    const reason = tooLarge ? `inflates to more than ${limit} bytes` : `does not inflate: ${(error as Error).message}`;
    throw new InvalidInputError(`${name} tile of ${npix} pixels ${reason}`, {}, { cause: error });
  }
}

export const gzip1Codec: TileCodec = {
  decode(compressed: Uint8Array, context: TileCodecContext): TileSamples {
    return samplesFromBigEndian(inflate(compressed, context.npix, 'GZIP_1'), context.npix, context.sampleType);
  },
};

export const gzip2Codec: TileCodec = {
  decode(compressed: Uint8Array, context: TileCodecContext): TileSamples {
    return samplesFromBigEndian(inflate(compressed, context.npix, 'GZIP_2'), context.npix, context.sampleType, true);
  },
};

export const noCompressCodec: TileCodec = {
  decode(compressed: Uint8Array, context: TileCodecContext): TileSamples {
    return samplesFromBigEndian(compressed, context.npix, context.sampleType);
  },
};

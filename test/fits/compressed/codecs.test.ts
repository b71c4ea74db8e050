/**
 * The tile codecs on their own: round trips through encoders written here from the convention's
 * description (RICE_1, GZIP_1/2, NOCOMPRESS, PLIO_1 line lists), and the tiles of the conformance
 * files against the pixels of their uncompressed twin (m13.fits).
 */
import path from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';

import { InvalidInputError, UnsupportedError } from '../../../src/errors.js';
import { openFits } from '../../../src/fits/file.js';
import { hcompressDecode } from '../../../src/fits/compressed/hcompress.js';
import { plioDecode } from '../../../src/fits/compressed/plio.js';
import { codecRegistry, type SampleType, type TileCodecContext, type TileSamples } from '../../../src/fits/compressed/registry.js';
import { riceDecode } from '../../../src/fits/compressed/rice.js';
import { openBinaryTable } from '../../../src/fits/table.js';
import { conformanceDir, describeWithShared } from '../../helpers/shared.js';
import { seededRandom } from '../../helpers/random.js';


class BitWriter {
  private readonly bytes: number[] = [];
  private current = 0;
  private used = 0;

  /** `n` bits of `value` (n <= 32), most significant first. */
  write(value: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) {
      this.current = (this.current << 1) | (Math.floor(value / 2 ** i) & 1);
      if (++this.used === 8) {
        this.bytes.push(this.current);
        this.current = 0;
        this.used = 0;
      }
    }
  }

  finish(): Uint8Array {
    if (this.used > 0) this.write(0, 8 - this.used);
    return Uint8Array.from(this.bytes);
  }
}

const RICE_WIDTHS = { 1: { fsbits: 3, fsmax: 6 }, 2: { fsbits: 4, fsmax: 14 }, 4: { fsbits: 5, fsmax: 25 } } as const;

/**
 * A RICE_1 encoder after the convention: first value verbatim, then per block an FS code choosing
 * all-zero, verbatim or split (unary + fs low bits) coding of the zig-zag mapped differences.
 * `splitFs` forces the split coding with that fs (for long unary parts).
 */
function riceEncode(values: ArrayLike<number>, bytepix: 1 | 2 | 4, blocksize: number, splitFs?: number): Uint8Array {
  const { fsbits, fsmax } = RICE_WIDTHS[bytepix];
  const bbits = 8 * bytepix;
  const shift = 32 - bbits;
  const out = new BitWriter();
  out.write((values[0]! << shift) >>> shift, bbits);
  let last = values[0]!;
  for (let start = 0; start < values.length; start += blocksize) {
    const mapped: number[] = [];
    for (let i = start; i < Math.min(start + blocksize, values.length); i++) {
      const diff = ((values[i]! - last) << shift) >> shift;
      last = values[i]!;
      mapped.push((((diff << 1) ^ (diff >> 31)) << shift) >>> shift);
    }
    const bits = 32 - Math.clz32(Math.max(...mapped));
    if (splitFs !== undefined) {
      out.write(splitFs + 1, fsbits);
      for (const m of mapped) {
        out.write(1, Math.floor(m / 2 ** splitFs) + 1);
        out.write(m % 2 ** splitFs, splitFs);
      }
    } else if (bits === 0) {
      out.write(0, fsbits);
    } else if (bits >= fsmax) {
      out.write(fsmax + 1, fsbits);
      for (const m of mapped) out.write(m, bbits);
    } else {
      const fs = Math.max(0, bits - 2);
      out.write(fs + 1, fsbits);
      for (const m of mapped) {
        out.write(1, Math.floor(m / 2 ** fs) + 1);
        out.write(m % 2 ** fs, fs);
      }
    }
  }
  return out.finish();
}

/** A random walk with flat stretches, noise and jumps that wrap around the integer width. */
function testSignal(n: number, bytepix: 1 | 2 | 4, seed: number): number[] {
  const next = seededRandom(seed);
  const bits = 8 * bytepix;
  const values: number[] = [];
  let v = 0;
  for (let i = 0; i < n; i++) {
    const segment = Math.floor(i / 40) % 4;
    if (segment === 1) v += Math.round((next() - 0.5) * 20);
    if (segment === 2) v = Math.floor(next() * 2 ** bits) - (bytepix === 1 ? 0 : 2 ** (bits - 1));
    if (segment === 3) v += Math.round((next() - 0.5) * 2 ** (bits - 4));
    values.push(bytepix === 1 ? v & 0xff : bytepix === 2 ? (v << 16) >> 16 : v | 0);
    v = values[i]!;
  }
  return values;
}

describe('RICE_1', () => {
  it.each([
    [1, 32],
    [2, 32],
    [4, 32],
    [2, 16],
    [4, 7],
  ] as const)('round-trips BYTEPIX %i, BLOCKSIZE %i (zero, split and verbatim blocks, wrap-around)', (bytepix, blocksize) => {
    const values = testSignal(1003, bytepix, bytepix * 100 + blocksize);
    const decoded = riceDecode(riceEncode(values, bytepix, blocksize), values.length, bytepix, blocksize);
    expect(decoded).toBeInstanceOf({ 1: Uint8Array, 2: Int16Array, 4: Int32Array }[bytepix]);
    expect(Array.from(decoded as ArrayLike<number>)).toEqual(values);
  });

  it.each([0, 1, 3])('decodes unary parts of 32 bits and more (outliers in a block coded with fs = %i)', (fs) => {
    const values = Array.from({ length: 200 }, (_, i) => (i % 37 === 5 ? 40 + 7 * i : i % 3));
    const decoded = riceDecode(riceEncode(values, 4, 32, fs), values.length, 4, 32);
    expect(Array.from(decoded as Int32Array)).toEqual(values);
  });

  it('decodes into a scratch array when given one, one tile after another', () => {
    const scratch = new Int32Array(600);
    const long = testSignal(600, 4, 11);
    const short = testSignal(250, 4, 12);
    expect(Array.from(riceDecode(riceEncode(long, 4, 32), 600, 4, 32, scratch) as Int32Array)).toEqual(long);
    const decoded = riceDecode(riceEncode(short, 4, 32), 250, 4, 32, scratch);
    expect(decoded.buffer).toBe(scratch.buffer);
    expect(Array.from(decoded as Int32Array)).toEqual(short);
  });

  it('reads BYTEPIX and BLOCKSIZE from the codec parameters, BYTEPIX defaulting to 4', () => {
    const values = testSignal(300, 4, 9);
    const context = (params: [string, number][]): TileCodecContext => ({ npix: 300, shape: [300], sampleType: 'int16', params: new Map(params) });
    const rice = codecRegistry.get('RICE_1')!;
    expect(Array.from(rice.decode(riceEncode(values, 4, 32), context([])) as Int32Array)).toEqual(values);
    expect(Array.from(rice.decode(riceEncode(values, 4, 16), context([['BLOCKSIZE', 16]])) as Int32Array)).toEqual(values);
    const short = values.map((v) => (v << 16) >> 16);
    expect(Array.from(rice.decode(riceEncode(short, 2, 32), context([['BYTEPIX', 2]])) as Int16Array)).toEqual(short);
  });

  it('refuses a truncated stream and an unknown BYTEPIX with typed errors', () => {
    const encoded = riceEncode(testSignal(500, 4, 3), 4, 32);
    expect(() => riceDecode(encoded.subarray(0, encoded.length - 20), 500, 4, 32)).toThrow(InvalidInputError);
    // Cut inside a unary run longer than the bit reader's accumulator.
    const outlier = riceEncode([0, 5000, 0, 0], 4, 32, 0);
    expect(() => riceDecode(outlier.subarray(0, 300), 4, 4, 32)).toThrow(InvalidInputError);
    expect(() => riceDecode(encoded, 500, 8, 32)).toThrow(UnsupportedError);
    expect(() => riceDecode(encoded, 500, 4, 0)).toThrow(InvalidInputError);
  });
});

const WIDTH: Record<SampleType, number> = { uint8: 1, int16: 2, int32: 4, int64: 8, float32: 4, float64: 8 };

function bigEndian(values: readonly number[], type: SampleType): Uint8Array {
  const bytes = new Uint8Array(values.length * WIDTH[type]);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    const at = i * WIDTH[type];
    if (type === 'uint8') view.setUint8(at, v);
    if (type === 'int16') view.setInt16(at, v);
    if (type === 'int32') view.setInt32(at, v);
    if (type === 'int64') view.setBigInt64(at, BigInt(v));
    if (type === 'float32') view.setFloat32(at, v);
    if (type === 'float64') view.setFloat64(at, v);
  });
  return bytes;
}

/** GZIP_2's byte shuffle: all first (most significant) bytes, then all second bytes, ... */
function shuffle(bytes: Uint8Array, width: number): Uint8Array {
  const n = bytes.length / width;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < n; i++) for (let j = 0; j < width; j++) out[j * n + i] = bytes[i * width + j]!;
  return out;
}

describe('GZIP_1, GZIP_2 and NOCOMPRESS', () => {
  const sets: Record<SampleType, number[]> = {
    uint8: [0, 1, 255, 128, 7],
    int16: [-32768, -1, 0, 1, 32767],
    int32: [-2147483648, -70000, 0, 70000, 2147483647],
    int64: [-(2 ** 53), -1, 0, 1, 2 ** 53],
    float32: [-1.5, 0, Math.fround(Math.PI), 3.4e38, Number.NaN],
    float64: [-1e300, -0, Math.PI, 5e-324, Number.POSITIVE_INFINITY],
  };
  const asNumbers = (samples: TileSamples): number[] => Array.from(samples as ArrayLike<number | bigint>, Number);

  it.each(Object.keys(sets) as SampleType[])('round-trip %s tiles', (type) => {
    const values = sets[type];
    const raw = bigEndian(values, type);
    const context: TileCodecContext = { npix: values.length, shape: [values.length], sampleType: type, params: new Map() };
    const expected = type === 'float32' ? values.map(Math.fround) : values;
    expect(asNumbers(codecRegistry.get('GZIP_1')!.decode(gzipSync(raw), context))).toEqual(expected);
    expect(asNumbers(codecRegistry.get('GZIP_2')!.decode(gzipSync(shuffle(raw, WIDTH[type])), context))).toEqual(expected);
    expect(asNumbers(codecRegistry.get('NOCOMPRESS')!.decode(raw, context))).toEqual(expected);
    // A bare zlib stream inflates too.
    expect(asNumbers(codecRegistry.get('GZIP_1')!.decode(deflateSync(raw), context))).toEqual(expected);
  });

  it('takes 4-byte integers for a 16-bit image, as cfitsio before 3.0 wrote them', () => {
    const values = [-300, 0, 300];
    const context: TileCodecContext = { npix: 3, shape: [3], sampleType: 'int16', params: new Map() };
    const samples = codecRegistry.get('GZIP_1')!.decode(gzipSync(bigEndian(values, 'int32')), context);
    expect(samples).toBeInstanceOf(Int32Array);
    expect(Array.from(samples as Int32Array)).toEqual(values);
  });

  it('refuses tiles of the wrong size and data that does not inflate', () => {
    const context: TileCodecContext = { npix: 3, shape: [3], sampleType: 'float32', params: new Map() };
    expect(() => codecRegistry.get('GZIP_1')!.decode(gzipSync(new Uint8Array(10)), context)).toThrow(InvalidInputError);
    expect(() => codecRegistry.get('GZIP_1')!.decode(Uint8Array.from([1, 2, 3, 4]), context)).toThrow(InvalidInputError);
  });

  it('stops inflating a tile at the size of its pixels, so deflated zeros cannot fill memory', () => {
    const context: TileCodecContext = { npix: 3, shape: [3], sampleType: 'float32', params: new Map() };
    for (const name of ['GZIP_1', 'GZIP_2']) {
      const decode = (): unknown => codecRegistry.get(name)!.decode(gzipSync(new Uint8Array(1 << 20)), context);
      expect(decode).toThrow(InvalidInputError);
      expect(decode).toThrow(`${name} tile of 3 pixels inflates to more than 24 bytes`);
    }
  });
});

/** PLIO words: opcode in the top 4 bits, 12 bits of data. */
const op = (code: number, data: number): number => (code << 12) | data;

describe('PLIO_1', () => {
  // Each instruction and what it must produce, per IRAF's line-list definition.
  const instructions = [
    [op(1, 5000 & 4095), 5000 >> 12], // set high value to 5000
    [op(4, 3)], // 3 x high
    [op(0, 2)], // 2 zeros
    [op(5, 3)], // 2 zeros then one high
    [op(6, 10)], // high += 10, emit
    [op(7, 20)], // high -= 20, emit
    [op(2, 5), op(4, 1)], // high += 5, 1 x high
    [op(3, 7), op(4, 2)], // high -= 7, 2 x high
  ];
  const expected = [5000, 5000, 5000, 0, 0, 0, 0, 5000, 5010, 4990, 4995, 4988, 4988];

  it('expands every opcode, with the extended (cfitsio) header', () => {
    const body = instructions.flat();
    const length = 7 + body.length;
    const words = Int16Array.from([0, 7, -100, length & 0x7fff, length >> 15, 0, 0, ...body]);
    expect(Array.from(plioDecode(words, expected.length + 2))).toEqual([...expected, 0, 0]);
  });

  it('reads the original 3-word header and stops at the tile size', () => {
    const body = instructions.flat();
    const words = Int16Array.from([0, 0, 3 + body.length, ...body]);
    expect(Array.from(plioDecode(words, 5))).toEqual(expected.slice(0, 5));
  });

  it('refuses a list longer than its tile and a truncated set-high instruction', () => {
    expect(() => plioDecode(Int16Array.from([0, 0, 9, op(4, 1)]), 4)).toThrow(InvalidInputError);
    expect(() => plioDecode(Int16Array.from([0, 0, 4, op(1, 1)]), 4)).toThrow(InvalidInputError);
  });
});

describe('HCOMPRESS_1', () => {
  it('refuses data without the magic code or of the wrong size', () => {
    expect(() => hcompressDecode(new Uint8Array(40), 16, false)).toThrow(InvalidInputError);
    const header = Uint8Array.from([0xdd, 0x99, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0, ...new Array<number>(11).fill(0)]);
    expect(() => hcompressDecode(header, 15, false)).toThrow(InvalidInputError);
  });
});

describe('the codec registry', () => {
  it('knows the convention names and the RICE_ONE spelling', () => {
    expect(codecRegistry.get('RICE_ONE')).toBe(codecRegistry.get('RICE_1'));
    expect(codecRegistry.get(' gzip_2 ')).toBe(codecRegistry.get('GZIP_2'));
    expect(codecRegistry.names().sort()).toEqual(['GZIP_1', 'GZIP_2', 'HCOMPRESS_1', 'NOCOMPRESS', 'PLIO_1', 'RICE_1', 'RICE_ONE']);
    expect(codecRegistry.get('LZ4_1')).toBeUndefined();
  });
});

describeWithShared('tiles of the conformance files against the uncompressed m13.fits', () => {
  const pixels = (): Int16Array => {
    const file = openFits(path.join(conformanceDir, 'astropy/m13.fits'));
    try {
      return file.readImage(0).data as Int16Array;
    } finally {
      file.close();
    }
  };

  it.each(['m13_rice', 'm13_gzip', 'm13_plio', 'm13_hcomp'])('%s: every tile decodes to the original pixels', (name) => {
    const reference = pixels();
    const file = openFits(path.join(conformanceDir, `astropy/${name}.fits`));
    try {
      const hdu = file.hdus[1]!;
      const table = openBinaryTable(file.source, hdu);
      const codec = codecRegistry.get(String(hdu.header.get('ZCMPTYPE')))!;
      const params = new Map<string, number>();
      for (let i = 1; hdu.header.has(`ZNAME${i}`); i++) params.set(String(hdu.header.get(`ZNAME${i}`)), Number(hdu.header.get(`ZVAL${i}`)));
      const tile = [Number(hdu.header.get('ZTILE1')), Number(hdu.header.get('ZTILE2'))] as const;
      const npix = tile[0] * tile[1];
      for (let row = 0; row < table.nrows; row++) {
        const samples = codec.decode(table.readVarBytes(row, 'COMPRESSED_DATA'), { npix, shape: tile, sampleType: 'int16', params });
        expect(Array.from(samples as ArrayLike<number>)).toEqual(Array.from(reference.subarray(row * npix, (row + 1) * npix)));
      }
    } finally {
      file.close();
    }
  });
});

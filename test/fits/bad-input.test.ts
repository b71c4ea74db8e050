/**
 * Broken files, built byte by byte: each must give a typed error that names the file, the HDU and the
 * reason, quickly, without a crash or an allocation the size of what the header claims.
 */

import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

import { InvalidInputError, LimitExceededError, UnsupportedError, VisAgnError } from '../../src/errors.js';
import { openFits } from '../../src/fits/file.js';
import { bigEndian, card, fitsBytes, headerBlocks, imageCards, tempDir } from './fits-bytes.js';

const tmp = tempDir('bad');
afterAll(() => tmp.cleanup());

const goodPrimary = { cards: imageCards(16, [4, 4]), data: bigEndian(16, Array.from({ length: 16 }, (_, i) => i)) };
const extension = (extra: string[] = [], axes = [2, 2], bitpix = -32) => ({
  cards: imageCards(bitpix, axes, { primary: false, extra }),
  data: new Uint8Array((Math.abs(bitpix) / 8) * axes.reduce((a, b) => a * b, 1)),
});

interface BadCase {
  name: string;
  bytes: () => Uint8Array;
  error: new (...args: never[]) => VisAgnError;
  hdu?: number;
  reason: RegExp;
  /** Errors that only reading the pixels can find. */
  onRead?: boolean;
}

const CASES: BadCase[] = [
  {
    name: 'data unit cut short',
    bytes: () => fitsBytes([goodPrimary, extension([], [100, 100])]).subarray(0, 2 * 2880 + 2880 + 1000),
    error: InvalidInputError,
    hdu: 1,
    reason: /truncated: the data unit needs 40000 bytes from byte 8640, but the file ends at 9640/,
  },
  {
    name: 'header without END before the end of the file',
    bytes: () => Buffer.concat([fitsBytes([goodPrimary]), headerBlocks(imageCards(8, [1], { primary: false }), { end: false })]),
    error: InvalidInputError,
    hdu: 1,
    reason: /no END card before the end of the file/,
  },
  {
    name: 'END card missing from a complete primary header',
    bytes: () => headerBlocks(imageCards(8, []), { end: false }),
    error: InvalidInputError,
    hdu: 0,
    reason: /header is truncated: no END card/,
  },
  {
    name: 'binary garbage inside a header',
    bytes: () => {
      const bytes = fitsBytes([goodPrimary]);
      bytes.set(randomBytes(200).map((b) => b | 0x80), 400);
      return bytes;
    },
    error: InvalidInputError,
    hdu: 0,
    reason: /header card 6 contains a byte \(0x[89a-f][0-9a-f]\) that is not printable ASCII/,
  },
  {
    name: 'random bytes instead of FITS',
    bytes: () => randomBytes(5000),
    error: InvalidInputError,
    reason: /not a FITS file/,
  },
  {
    name: 'empty file',
    bytes: () => new Uint8Array(0),
    error: InvalidInputError,
    reason: /not a FITS file/,
  },
  {
    name: 'unparsable value of a required keyword',
    bytes: () => fitsBytes([{ cards: [card('SIMPLE', true), 'BITPIX  = sixteen', card('NAXIS', 0)] }]),
    error: InvalidInputError,
    hdu: 0,
    reason: /cannot parse the value of keyword BITPIX \(card 2\): sixteen/,
  },
  {
    name: 'BITPIX the standard does not define',
    bytes: () => {
      // The builder writes only valid BITPIX values: swap one in afterwards.
      const bytes = fitsBytes([goodPrimary, extension([], [2, 2], 8)]);
      bytes.write(card('BITPIX', 12), bytes.indexOf(card('BITPIX', 8), 2 * 2880), 'latin1');
      return bytes;
    },
    error: InvalidInputError,
    hdu: 1,
    reason: /BITPIX = 12 is not one of 8, 16, 32, 64, -32, -64/,
  },
  {
    name: 'missing NAXISn',
    bytes: () => fitsBytes([{ cards: [card('SIMPLE', true), card('BITPIX', 8), card('NAXIS', 2), card('NAXIS1', 3)] }]),
    error: InvalidInputError,
    hdu: 0,
    reason: /keyword NAXIS2 is missing/,
  },
  {
    name: 'negative NAXISn',
    bytes: () => fitsBytes([{ cards: [card('SIMPLE', true), card('BITPIX', 8), card('NAXIS', 1), card('NAXIS1', -3)] }]),
    error: InvalidInputError,
    hdu: 0,
    reason: /NAXIS1 = -3 is negative/,
  },
  {
    name: 'non-integer NAXIS',
    bytes: () => fitsBytes([{ cards: [card('SIMPLE', true), card('BITPIX', 8), card('NAXIS', 1.5)] }]),
    error: InvalidInputError,
    hdu: 0,
    reason: /keyword NAXIS = 1.5 is not an integer/,
  },
  {
    name: 'NAXISn whose product cannot be a real file',
    bytes: () => fitsBytes([{ cards: imageCards(-64, [2 ** 30, 2 ** 30, 2 ** 30]) }]),
    error: InvalidInputError,
    hdu: 0,
    reason: /data unit size .* is not representable/,
  },
  {
    name: 'unknown extension type',
    bytes: () => fitsBytes([goodPrimary, { cards: [card('XTENSION', 'FOREIGN'), card('BITPIX', 8), card('NAXIS', 0), card('PCOUNT', 0), card('GCOUNT', 1)] }]),
    error: UnsupportedError,
    hdu: 1,
    reason: /XTENSION = 'FOREIGN' is not supported/,
  },
  {
    name: 'corrupt gzip stream',
    bytes: () => gzipSync(fitsBytes([goodPrimary])).subarray(0, 100),
    error: InvalidInputError,
    reason: /corrupt gzip stream/,
  },
];

describe('bad input gives a typed error naming file, HDU and reason', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const file = tmp.write(`${c.name.replace(/\W+/g, '-')}.fits`, c.bytes());
    const started = Date.now();
    let caught: unknown;
    try {
      const fits = openFits(file);
      try {
        for (const hdu of fits.hdus) if (hdu.kind === 'image' && hdu.dataSize > 0) fits.readImage(hdu);
      } finally {
        fits.close();
      }
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(c.error);
    const error = caught as VisAgnError;
    expect(error.location.file).toBe(file);
    expect(error.location.hdu).toBe(c.hdu);
    expect(error.reason).toMatch(c.reason);
    expect(error.message.startsWith(`${file}${c.hdu === undefined ? '' : `, HDU ${c.hdu}`}: `)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses images over the pixel limit before allocating, while sections within it still read', () => {
    // A sparse 50000 x 50000 float64 image (20 GB if it were allocated).
    const file = `${tmp.dir}/huge.fits`;
    const header = headerBlocks(imageCards(-64, [50000, 50000]));
    const fd = openSync(file, 'w');
    writeSync(fd, header, 0, header.length, 0);
    ftruncateSync(fd, header.length + 50000 * 50000 * 8);
    closeSync(fd);
    const fits = openFits(file, { maxPixels: 1_000_000 });
    try {
      const before = process.memoryUsage().arrayBuffers;
      expect(() => fits.readImage(0)).toThrow(LimitExceededError);
      expect(() => fits.readImage(0)).toThrow(/huge\.fits, HDU 0: image of 50000x50000 = 2500000000 pixels exceeds the limit of 1000000 pixels/);
      expect(() => fits.readImage(0, { x0: 0, x1: 2000, y0: 0, y1: 1000 })).toThrow(LimitExceededError);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(10 * 1024 * 1024);
      expect(fits.readImage(0, { x0: 100, x1: 1100, y0: 7, y1: 1007 }).axes).toEqual([1000, 1000]);
    } finally {
      fits.close();
    }
  });
});

/**
 * No FITS input may crash or hang the reader (issue 15): a seeded, bounded fuzz of a few hundred
 * mutated files (header values swapped for hostile ones, random bytes, truncation), and the crashers
 * once found, kept in test/fixtures/fits-crashers. Every outcome must be a result or a typed error
 * naming the file, and `fitsinfo` must say it in one line without a stack trace.
 */

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

import { afterAll, describe, expect, test } from '@jest/globals';

import { EXIT_CODES, LimitExceededError, VisAgnError } from '../../src/errors.js';
import { openFits } from '../../src/fits/file.js';
import { writeFits } from '../../src/fits/writer.js';
import { runCli } from '../helpers/cli.js';
import { seededRandom } from '../helpers/random.js';
import { repoRoot } from '../helpers/shared.js';
import { card, fitsBytes, imageCards, tempDir } from './fits-bytes.js';

const crashers = path.join(repoRoot, 'test', 'fixtures', 'fits-crashers');

/** A 4x4 int16 image, tile-compressed with GZIP_1 in one tile; `extra` cards override the defaults. */
function gzipCompressedImage(extra: Record<string, string | number | boolean> = {}): Buffer {
  const pixels = Buffer.alloc(32);
  for (let i = 0; i < 16; i++) pixels.writeInt16BE(i * 7 - 20, 2 * i);
  const tile = gzipSync(pixels);
  const descriptor = Buffer.alloc(8);
  descriptor.writeInt32BE(tile.length, 0);
  const keys: Record<string, string | number | boolean> = {
    XTENSION: 'BINTABLE', BITPIX: 8, NAXIS: 2, NAXIS1: 8, NAXIS2: 1, PCOUNT: tile.length, GCOUNT: 1, TFIELDS: 1,
    TTYPE1: 'COMPRESSED_DATA', TFORM1: `1PB(${tile.length})`, ZIMAGE: true, ZCMPTYPE: 'GZIP_1', ZBITPIX: 16,
    ZNAXIS: 2, ZNAXIS1: 4, ZNAXIS2: 4, ZTILE1: 4, ZTILE2: 4, ...extra,
  };
  return fitsBytes([
    { cards: [card('SIMPLE', true), card('BITPIX', 8), card('NAXIS', 0), card('EXTEND', true)] },
    { cards: Object.entries(keys).map(([key, value]) => card(key, value)), data: Buffer.concat([descriptor, tile]) },
  ]);
}

/** What reading every HDU of `file` gives: 'ok', or the error, which must be typed and name the file. */
function readAll(file: string): 'ok' | VisAgnError {
  try {
    const fits = openFits(file);
    try {
      for (const hdu of fits.hdus) {
        if ((hdu.kind === 'image' || hdu.kind === 'compressed-image') && fits.imageHeader(hdu).getInt('NAXIS', 0) > 0) fits.readImage(hdu);
      }
    } finally {
      fits.close();
    }
    return 'ok';
  } catch (error) {
    if (!(error instanceof VisAgnError)) throw new Error(`${file}: not a typed error: ${(error as Error)?.stack ?? String(error)}`);
    return error;
  }
}

const HOSTILE = ['0', '-1', '1', '3', '2147483648', '4294967296', '99999999999', '-2147483648', '1E30', "'X'", 'T', '8', '16', '-32', '64', '999'];

/** `seed` with one mutation drawn from `random`: a header value replaced, bytes overwritten, or the file cut short. */
function mutate(seed: Buffer, random: () => number): Buffer {
  const bytes = Buffer.from(seed);
  const choice = random();
  if (choice < 0.7) {
    const text = bytes.toString('latin1');
    const cards: number[] = [];
    for (let at = 0; at < text.length; at += 80) if (/^[A-Z0-9_-]{1,8} *= /.test(text.slice(at, at + 10))) cards.push(at);
    const at = cards[Math.floor(random() * cards.length)]!;
    bytes.write(HOSTILE[Math.floor(random() * HOSTILE.length)]!.padStart(20).padEnd(70), at + 10, 'latin1');
    return bytes;
  }
  if (choice < 0.85) {
    for (let k = 0; k < 8; k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    return bytes;
  }
  return bytes.subarray(0, Math.floor(random() * bytes.length));
}

describe('FITS fuzzing', () => {
  const tmp = tempDir('vis-agn-fuzz-');
  afterAll(() => tmp.cleanup());

  test('a few hundred mutated files: each reads, or fails with a typed error naming the file', async () => {
    const image = path.join(tmp.dir, 'seed-image.fits');
    await writeFits(image, [
      { type: 'empty' },
      { type: 'image', name: 'VIS_FLUX', dtype: 'float32', axes: [12, 10], data: Float32Array.from({ length: 120 }, (_, i) => Math.sin(i)) },
      { type: 'bintable', name: 'CAT', columns: [{ name: 'id', values: BigInt64Array.of(1n, 2n) }, { name: 'name', strings: ['a', 'bc'] }] },
    ]);
    const seeds = [readFileSync(image), gzipCompressedImage()];
    const random = seededRandom(15);
    const outcomes = { ok: 0, error: 0 };
    for (let n = 0; n < 300; n++) {
      const file = tmp.write(`m${n}.fits`, mutate(seeds[n % seeds.length]!, random));
      const result = readAll(file);
      if (result === 'ok') outcomes.ok++;
      else {
        outcomes.error++;
        expect(result.message).toContain(file);
      }
    }
    // Both kinds occur, so the mutations neither break everything nor nothing.
    expect(outcomes.ok).toBeGreaterThan(10);
    expect(outcomes.error).toBeGreaterThan(10);
  }, 60_000);

  test('the compressed seed reads as written', () => {
    const file = tmp.write('seed-compressed.fits', gzipCompressedImage());
    const fits = openFits(file);
    try {
      expect(Array.from(fits.readImage(1).data as Int16Array)).toEqual(Array.from({ length: 16 }, (_, i) => i * 7 - 20));
    } finally {
      fits.close();
    }
  });

  if (process.env.UPDATE_FITS_CRASHERS === '1') {
    writeFileSync(path.join(crashers, 'compressed-tfields-2e31.fits'), gzipCompressedImage({ TFIELDS: 2147483648 }));
    writeFileSync(path.join(crashers, 'compressed-ztile-huge.fits'), gzipCompressedImage({ ZTILE1: 99999999999 }));
    writeFileSync(path.join(crashers, 'header-only.fits'), fitsBytes([{ cards: [card('SIMPLE', true), card('BITPIX', -32), card('NAXIS', 2), card('NAXIS1', 100), card('NAXIS2', 100)] }]));
    writeFileSync(path.join(crashers, 'not-fits.fits'), 'this is not a FITS file\n');
    writeFileSync(path.join(crashers, 'empty.fits'), '');
    writeFileSync(path.join(crashers, 'compressed-znaxis-2e31.fits'), gzipCompressedImage({ ZNAXIS: 2147483648 }));
    writeFileSync(path.join(crashers, 'compressed-pcount-huge.fits'), gzipCompressedImage({ PCOUNT: 99999999999 }));
    writeFileSync(path.join(crashers, 'compressed-tile-2e53.fits'), gzipCompressedImage({ ZNAXIS1: 2 ** 53 - 1, ZTILE1: 2 ** 53 - 1 }));
    writeFileSync(path.join(crashers, 'truncated.fits'), fitsBytes([{ cards: imageCards(-32, [100, 100]), data: new Uint8Array(40000) }]).subarray(0, 12880));
  }

  test.each([
    ['compressed-znaxis-2e31.fits', 'invalidInput', ', HDU 1: ZNAXIS = 2147483648 is outside 0..999'],
    ['compressed-pcount-huge.fits', 'invalidInput', ', HDU 1: file is truncated: the data unit needs 100000000007 bytes'],
    ['compressed-tile-2e53.fits', 'limitExceeded', ', HDU 1: image of 9007199254740991x4 = 36028797018963964 pixels exceeds the limit'],
    ['truncated.fits', 'invalidInput', ', HDU 0: file is truncated: the data unit needs 40000 bytes from byte 2880, but the file ends at 12880'],
    ['header-only.fits', 'invalidInput', ', HDU 0: file is truncated: the data unit needs 40000 bytes from byte 2880, but the file ends at 2880'],
    ['empty.fits', 'invalidInput', ': not a FITS file'],
    ['not-fits.fits', 'invalidInput', ': not a FITS file'],
  ] as const)('fitsinfo on the crasher %s: exit code %s, and an error that names the file%s', async (name, exit, reason) => {
    const file = path.join(crashers, name);
    const result = await runCli(['fitsinfo', file]);
    expect(result.code).toBe(EXIT_CODES[exit]);
    expect(`${result.stdout}${result.stderr}`).toContain(`error: ${file}${reason}`);
  }, 60_000);

  test('a section of a compressed image is refused before its tile, larger than the pixel limit, is allocated', () => {
    const file = path.join(crashers, 'compressed-tile-2e53.fits');
    const fits = openFits(file);
    try {
      const read = (): unknown => fits.readImage(1, { x0: 0, x1: 2, y0: 0, y1: 2 });
      expect(read).toThrow(LimitExceededError);
      expect(read).toThrow(`${file}, HDU 1: tile of 9007199254740991x4 = 36028797018963964 pixels exceeds the limit of 536870912 pixels`);
    } finally {
      fits.close();
    }
  });

  test.each(readdirSync(crashers).filter((name) => name.endsWith('.fits')))('fitsinfo on the crasher %s: no crash; every error names the file, without a stack trace', async (name) => {
    const file = path.join(crashers, name);
    const result = await runCli(['fitsinfo', file]);
    expect(result.code).not.toBe(EXIT_CODES.internal);
    const output = `${result.stdout}${result.stderr}`;
    expect(output).not.toMatch(/\n\s+at /);
    const errors = output.split('\n').filter((line) => line.includes('error:'));
    for (const line of errors) expect(line).toContain(file);
    // A file that fails outright says so in one line.
    if (result.stdout === '') expect(result.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});

import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';

import ts from 'typescript';

import { InvalidInputError } from '../../src/errors.js';
import { openFits } from '../../src/fits/file.js';
import { parseHeader } from '../../src/fits/header.js';
import { BITPIX_TYPES, decodePixels, imageLayout, PixelStats } from '../../src/fits/image.js';
import type { PixelArray } from '../../src/fits/types.js';
import { astropyPython, describeIf, hasAstropy, repoRoot } from '../helpers/shared.js';
import { bigEndian, card, fitsBytes, headerBlocks, imageCards, tempDir } from './fits-bytes.js';

const tmp = tempDir('image');
afterAll(() => tmp.cleanup());

function layoutOf(cards: string[]) {
  return imageLayout(parseHeader(headerBlocks(cards), { file: 't.fits', hdu: 0 }));
}

function decode(bitpix: number, values: (number | bigint)[], extra: string[] = []): PixelArray {
  return decodePixels(bigEndian(bitpix, values), layoutOf(imageCards(bitpix, [values.length], { extra })));
}

function list(data: PixelArray): (number | bigint)[] {
  return Array.from(data as ArrayLike<number | bigint>);
}

describe('BITPIX types', () => {
  it('has one entry per FITS BITPIX with its byte size', () => {
    expect([...BITPIX_TYPES.keys()].sort((a, b) => a - b)).toEqual([-64, -32, 8, 16, 32, 64]);
    for (const [bitpix, type] of BITPIX_TYPES) expect(type.bytes * 8).toBe(Math.abs(bitpix));
  });

  it('decodes big-endian values of every type unscaled', () => {
    expect(list(decode(8, [0, 7, 255]))).toEqual([0, 7, 255]);
    expect(list(decode(16, [-32768, -1, 32767]))).toEqual([-32768, -1, 32767]);
    expect(list(decode(32, [-(2 ** 31), 5, 2 ** 31 - 1]))).toEqual([-(2 ** 31), 5, 2 ** 31 - 1]);
    expect(list(decode(64, [-(2n ** 63n), 1n, 2n ** 63n - 1n]))).toEqual([-(2n ** 63n), 1n, 2n ** 63n - 1n]);
    expect(list(decode(-32, [1.5, -0, NaN]))).toEqual([1.5, -0, NaN]);
    expect(list(decode(-64, [Math.PI, -Infinity]))).toEqual([Math.PI, -Infinity]);
  });

  it('refuses a BITPIX the standard does not define', () => {
    expect(() => layoutOf(imageCards(24, [2]))).toThrow(/t\.fits, HDU 0: BITPIX = 24 is not one of/);
  });
});

describe('BSCALE/BZERO/BLANK conventions', () => {
  it('reads the unsigned conventions as unsigned arrays and BZERO = -128 on bytes as int8', () => {
    const u16 = decode(16, [-32768, -1, 0, 32767], [card('BZERO', 32768)]);
    expect(u16).toBeInstanceOf(Uint16Array);
    expect(list(u16)).toEqual([0, 32767, 32768, 65535]);
    const u32 = decode(32, [-(2 ** 31), 0], [card('BZERO', 2 ** 31)]);
    expect(list(u32)).toEqual([0, 2 ** 31]);
    const u64 = decode(64, [-(2n ** 63n), 0n], [card('BZERO', 2n ** 63n)]);
    expect(list(u64)).toEqual([0n, 2n ** 63n]);
    const i8 = decode(8, [0, 128, 255], [card('BZERO', -128)]);
    expect(list(i8)).toEqual([-128, 0, 127]);
  });

  it('maps BLANK to NaN once integers become floats, and ignores BLANK on float data', () => {
    expect(list(decode(16, [3, -1], [card('BLANK', -1)]))).toEqual([3, NaN]);
    expect(list(decode(-64, [5, 1], [card('BLANK', 5)]))).toEqual([5, 1]);
  });

  it('reports the dtype astropy gives', () => {
    const dtype = (bitpix: number, extra: string[]) => layoutOf(imageCards(bitpix, [1], { extra })).dtype;
    expect(dtype(8, [card('BSCALE', 2)])).toBe('float32');
    expect(dtype(16, [card('BLANK', 7)])).toBe('float32');
    expect(dtype(32, [card('BZERO', 1)])).toBe('float64');
    expect(dtype(64, [card('BSCALE', 0.5), card('BZERO', 2n ** 63n)])).toBe('float64');
    expect(dtype(-32, [card('BSCALE', 2)])).toBe('float32');
  });
});

/** Scaling cases as header cards plus stored values; astropy reads each one as a reference. */
const SCALING_CASES: { name: string; bitpix: number; values: (number | bigint)[]; extra: string[] }[] = [
  { name: 'uint16', bitpix: 16, values: [-32768, -1, 0, 32767], extra: [card('BZERO', 32768)] },
  { name: 'uint16 ignores BLANK', bitpix: 16, values: [0, 5], extra: [card('BZERO', 32768), card('BLANK', 0)] },
  { name: 'uint32', bitpix: 32, values: [-(2 ** 31), 12345, 2 ** 31 - 1], extra: [card('BZERO', 2 ** 31)] },
  { name: 'uint64', bitpix: 64, values: [-(2n ** 63n), 7n, 2n ** 63n - 1n], extra: [card('BZERO', 2n ** 63n)] },
  { name: 'int8', bitpix: 8, values: [0, 127, 128, 255], extra: [card('BZERO', -128)] },
  { name: 'int16 scaled', bitpix: 16, values: [-32768, -3, 0, 1, 32767], extra: [card('BSCALE', 0.045777764213996), card('BZERO', 1500)] },
  { name: 'uint8 scaled', bitpix: 8, values: [0, 1, 200, 255], extra: [card('BSCALE', 1.1), card('BZERO', -0.3)] },
  { name: 'int16 BLANK', bitpix: 16, values: [-32768, 0, 12], extra: [card('BLANK', -32768)] },
  { name: 'int16 BLANK = 0', bitpix: 16, values: [0, 1], extra: [card('BLANK', 0)] },
  { name: 'int32 scaled BLANK', bitpix: 32, values: [7, 8, -2_000_000_000], extra: [card('BSCALE', 2.5), card('BZERO', -3), card('BLANK', 7)] },
  { name: 'int64 scaled', bitpix: 64, values: [2n ** 60n + 1n, -5n], extra: [card('BSCALE', 1e-3), card('BZERO', 2n ** 63n)] },
  { name: 'float32 scaled', bitpix: -32, values: [0.1, -7.25, 3e38], extra: [card('BSCALE', 2.000001), card('BZERO', 0.1)] },
  { name: 'float64 BLANK ignored', bitpix: -64, values: [5, 0.5], extra: [card('BLANK', 5)] },
];

describeIf(hasAstropy, `astropy not importable by ${astropyPython}`, 'scaling agrees with astropy bit for bit', () => {
  const files = SCALING_CASES.map((c, i) =>
    tmp.write(`scale${i}.fits`, fitsBytes([{ cards: imageCards(c.bitpix, [c.values.length], { extra: c.extra }), data: bigEndian(c.bitpix, c.values) }])),
  );
  let reference: { dtype: string; values: string[] }[] = [];
  beforeAll(() => {
    const script = `
import sys, json, warnings
from astropy.io import fits
warnings.simplefilter('ignore')
out = []
for name in sys.argv[1:]:
    data = fits.getdata(name)
    out.append({'dtype': data.dtype.name, 'values': [repr(v.item()) if data.dtype.kind != 'f' else float(v).hex() for v in data]})
print(json.dumps(out))
`;
    reference = JSON.parse(execFileSync(astropyPython, ['-c', script, ...files], { encoding: 'utf8' }));
  });

  /** Python's float.hex() of a double, to compare values exactly. */
  const hex = (v: number): string => {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    if (v === 0) return Object.is(v, -0) ? '-0x0.0p+0' : '0x0.0p+0';
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, v);
    const bits = view.getBigUint64(0);
    const exponent = Number((bits >> 52n) & 0x7ffn);
    const mantissa = (bits & ((1n << 52n) - 1n)).toString(16).padStart(13, '0');
    const sign = v < 0 ? '-' : '';
    return exponent === 0 ? `${sign}0x0.${mantissa}p-1022` : `${sign}0x1.${mantissa}p${exponent - 1023 >= 0 ? '+' : ''}${exponent - 1023}`;
  };

  test.each(SCALING_CASES.map((c, i) => [c.name, i] as const))('%s', (_name, i) => {
    const c = SCALING_CASES[i]!;
    const file = openFits(files[i]!);
    try {
      const image = file.readImage(0);
      const ours = Array.from(image.data as ArrayLike<number | bigint>, (v) => (typeof v === 'number' && image.dtype.startsWith('float') ? hex(v) : String(v)));
      expect({ dtype: image.dtype, values: ours }).toEqual(reference[i]);
      expect(c.values).toHaveLength(ours.length);
    } finally {
      file.close();
    }
  });
});

describe('sections', () => {
  const width = 7;
  const height = 5;
  const planes = 3;
  const values = Array.from({ length: width * height * planes }, (_, i) => i - 50);
  const file = tmp.write('cube.fits', fitsBytes([{ cards: imageCards(16, [width, height, planes], { extra: [card('BZERO', 32768)] }), data: bigEndian(16, values) }]));

  it('returns the pixels of the rectangle, from the first plane of a cube', () => {
    const fits = openFits(file);
    try {
      const whole = fits.readImage(0);
      expect(whole.axes).toEqual([width, height, planes]);
      for (const s of [
        { x0: 2, x1: 5, y0: 1, y1: 4 },
        { x0: 0, x1: width, y0: 3, y1: 5 },
        { x0: 6, x1: 7, y0: 0, y1: 1 },
      ]) {
        const section = fits.readImage(0, s);
        const expected: number[] = [];
        for (let y = s.y0; y < s.y1; y++) for (let x = s.x0; x < s.x1; x++) expected.push(Number(whole.data[y * width + x]));
        expect(section.axes).toEqual([s.x1 - s.x0, s.y1 - s.y0]);
        expect(section.dtype).toBe('uint16');
        expect(Array.from(section.data as Uint16Array)).toEqual(expected);
      }
    } finally {
      fits.close();
    }
  });

  it('refuses empty and out-of-range sections with the file and HDU', () => {
    const fits = openFits(file);
    try {
      for (const s of [
        { x0: 0, x1: 0, y0: 0, y1: 1 },
        { x0: -1, x1: 2, y0: 0, y1: 1 },
        { x0: 0, x1: 8, y0: 0, y1: 1 },
        { x0: 0, x1: 1, y0: 4, y1: 6 },
        { x0: 0.5, x1: 1, y0: 0, y1: 1 },
      ]) {
        expect(() => fits.readImage(0, s)).toThrow(InvalidInputError);
      }
      expect(() => fits.readImage(0, { x0: 0, x1: 9, y0: 0, y1: 1 })).toThrow(/cube\.fits, HDU 0: section/);
    } finally {
      fits.close();
    }
  });
});

describe('PixelStats', () => {
  it('counts NaN apart and sums the rest accurately', () => {
    const stats = new PixelStats().add(Float32Array.from([1e8, 1, NaN, -1e8, 0.5])).add(Int16Array.from([-3]));
    expect([stats.count, stats.nanCount, stats.validCount, stats.min, stats.max, stats.sum]).toEqual([6, 1, 5, -1e8, 1e8, -1.5]);
  });
});

/** Compiles the FITS reader (no type check) into `outDir`, so a plain node child process can run it. */
function transpileReader(outDir: string): void {
  const src = path.join(repoRoot, 'src');
  const transpile = (file: string): void => {
    const target = path.join(outDir, path.relative(src, file)).replace(/\.ts$/, '.js');
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: file,
    });
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  };
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const file = path.join(dir, entry);
      if (statSync(file).isDirectory()) walk(file);
      else if (file.endsWith('.ts')) transpile(file);
    }
  };
  walk(path.join(src, 'fits'));
  transpile(path.join(src, 'errors.ts'));
  writeFileSync(path.join(outDir, 'package.json'), '{"type": "module"}');
}

describe('section reads of a 19200x19200 float32 mosaic', () => {
  it('read only the rows they need: a 100x100 section stays under 100 MB of RSS', () => {
    const side = 19200;
    const file = path.join(tmp.dir, 'mosaic.fits');
    const header = headerBlocks(imageCards(-32, [side, side], { extra: [card('EXTNAME', 'VIS_BGSUB')] }));
    const fd = openSync(file, 'w');
    // Sparse: 1.47 GB of zeros that take no disk space; only the diagonal of the section is written.
    writeSync(fd, header, 0, header.length, 0);
    ftruncateSync(fd, header.length + Math.ceil((side * side * 4) / 2880) * 2880);
    const x0 = 9000;
    const y0 = 12000;
    for (let k = 0; k < 100; k++) {
      writeSync(fd, bigEndian(-32, [k + 0.5]), 0, 4, header.length + ((y0 + k) * side + x0 + k) * 4);
    }
    closeSync(fd);

    const outDir = path.join(tmp.dir, 'js');
    transpileReader(outDir);
    const child = `
import { openFits } from './fits/file.js';
const fits = openFits(process.argv[2]);
const image = fits.readImage('vis_bgsub', { x0: ${x0}, x1: ${x0 + 100}, y0: ${y0}, y1: ${y0 + 100} });
const diagonal = Array.from({ length: 100 }, (_, k) => image.data[k * 100 + k]);
let nonzero = 0;
for (const v of image.data) if (v !== 0) nonzero++;
console.log(JSON.stringify({ rss: process.memoryUsage().rss, axes: image.axes, diagonal, nonzero }));
`;
    writeFileSync(path.join(outDir, 'child.mjs'), child);
    const result = JSON.parse(execFileSync(process.execPath, [path.join(outDir, 'child.mjs'), file], { encoding: 'utf8' })) as {
      rss: number;
      axes: number[];
      diagonal: number[];
      nonzero: number;
    };
    expect(result.axes).toEqual([100, 100]);
    expect(result.diagonal).toEqual(Array.from({ length: 100 }, (_, k) => k + 0.5));
    expect(result.nonzero).toBe(100);
    expect(result.rss).toBeLessThan(100 * 1024 * 1024);
  });
});

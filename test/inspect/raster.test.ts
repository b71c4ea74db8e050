import { inflateSync } from 'node:zlib';

import { describe, expect, test } from '@jest/globals';

import { encodePng, encodePngAsync } from '../../src/inspect/png.js';
import { Canvas, asinhScale, asinhStretch, colormapColor, measureText, type ColormapName, type Rgb } from '../../src/inspect/raster.js';

const WHITE: Rgb = [255, 255, 255];
const INK: Rgb = [10, 20, 30];

/** Coordinates of every pixel that is not the white background, as "x,y". */
function inked(canvas: Canvas): Set<string> {
  const out = new Set<string>();
  for (let y = 0; y < canvas.height; y++) for (let x = 0; x < canvas.width; x++) if (canvas.pixel(x, y).join() !== WHITE.join()) out.add(`${x},${y}`);
  return out;
}

function boundingBox(pixels: Set<string>): { x0: number; y0: number; x1: number; y1: number } {
  const xy = [...pixels].map((p) => p.split(',').map(Number) as [number, number]);
  return {
    x0: Math.min(...xy.map((p) => p[0])),
    y0: Math.min(...xy.map((p) => p[1])),
    x1: Math.max(...xy.map((p) => p[0])),
    y1: Math.max(...xy.map((p) => p[1])),
  };
}

const luminance = ([r, g, b]: Rgb): number => 0.2126 * r + 0.7152 * g + 0.0722 * b;

describe('raster lines and shapes', () => {
  test('a line from (0,0) to (9,9) sets exactly the diagonal', () => {
    const canvas = new Canvas(12, 12);
    canvas.line(0, 0, 9, 9, INK);
    expect([...inked(canvas)].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `${i},${i}`).sort());
    expect(canvas.pixel(9, 9)).toEqual(INK);
  });

  test('a shallow line steps once per column and reaches both ends', () => {
    const canvas = new Canvas(12, 6);
    canvas.line(1, 1, 10, 4, INK);
    const pixels = inked(canvas);
    expect(pixels.size).toBe(10);
    expect(pixels.has('1,1') && pixels.has('10,4')).toBe(true);
    for (let x = 1; x <= 10; x++) expect([...pixels].filter((p) => p.startsWith(`${x},`))).toHaveLength(1);
  });

  test('a thick horizontal line covers `width` rows', () => {
    const canvas = new Canvas(10, 10);
    canvas.line(2, 5, 7, 5, INK, 3);
    const box = boundingBox(inked(canvas));
    expect(box).toEqual({ x0: 1, y0: 4, x1: 8, y1: 6 });
  });

  test('dashes follow the pattern and carry their phase across segments', () => {
    const canvas = new Canvas(30, 3);
    const phase = canvas.dashedLine(0, 1, 9, 1, INK, 1, [3, 2]);
    canvas.dashedLine(9, 1, 19, 1, INK, 1, [3, 2], phase);
    const row = Array.from({ length: 20 }, (_, x) => (canvas.pixel(x, 1).join() === INK.join() ? '#' : '.')).join('');
    expect(row).toBe('###..###..###..###..');
  });

  test('lines far outside the canvas or with NaN ends are clipped, not traced', () => {
    const canvas = new Canvas(10, 10);
    canvas.line(-1e9, 5, 1e9, 5, INK);
    canvas.line(0, 0, NaN, 3, INK);
    expect(inked(canvas).size).toBe(10);
  });

  test('backgrounds and rectangles of any size fill exactly their pixels', () => {
    for (const [w, h] of [
      [1, 1],
      [7, 3],
      [33, 17],
    ] as const) {
      const canvas = new Canvas(w, h, [1, 2, 3]);
      expect(new Set(Array.from({ length: w * h }, (_, i) => canvas.pixel(i % w, Math.floor(i / w)).join()))).toEqual(new Set(['1,2,3']));
    }
    const canvas = new Canvas(40, 12);
    canvas.fillRect(3, 2, 29, 5, INK);
    canvas.fillRect(38, 10, 9, 9, INK);
    const expected = new Set<string>();
    for (let y = 2; y < 7; y++) for (let x = 3; x < 32; x++) expected.add(`${x},${y}`);
    for (let y = 10; y < 12; y++) for (let x = 38; x < 40; x++) expected.add(`${x},${y}`);
    expect(inked(canvas)).toEqual(expected);
  });

});

describe('bitmap text', () => {
  test('ink stays inside the measured box and touches all four sides', () => {
    for (const align of ['left', 'center', 'right'] as const)
      for (const scale of [1, 2, 3]) {
        const canvas = new Canvas(240, 40);
        const text = 'Hg|_jW';
        canvas.text(120, 10, text, INK, { scale, align });
        const { width, height } = measureText(text, { scale });
        const x0 = align === 'left' ? 120 : align === 'center' ? 120 - Math.floor(width / 2) : 120 - width;
        expect(boundingBox(inked(canvas))).toEqual({ x0, y0: 10, x1: x0 + width - 1, y1: 10 + height - 1 });
      }
  });

  test('vertical text reads upwards inside the swapped box', () => {
    const canvas = new Canvas(40, 120);
    canvas.text(10, 60, 'Hg|_jW', INK, { scale: 2, vertical: true, align: 'center' });
    const { width, height } = measureText('Hg|_jW', { scale: 2, vertical: true });
    expect(width).toBeLessThan(height);
    const y0 = 60 - height + Math.floor(height / 2);
    expect(boundingBox(inked(canvas))).toEqual({ x0: 10, y0, x1: 10 + width - 1, y1: y0 + height - 1 });
    // The first glyph, 'H', sits at the bottom: its two full-height stems are two solid rows there.
    const bottomRow = [...inked(canvas)].filter((p) => p.endsWith(`,${y0 + height - 1}`));
    expect(bottomRow.length).toBe(14);
  });

  test('every printable ASCII character has its own glyph, and only space is blank', () => {
    const seen = new Map<string, string>();
    for (let code = 32; code <= 126; code++) {
      const char = String.fromCharCode(code);
      const canvas = new Canvas(5, 8);
      canvas.text(0, 0, char, INK);
      const bitmap = [...inked(canvas)].sort().join(' ');
      expect(bitmap === '').toBe(char === ' ');
      expect(seen.get(bitmap)).toBeUndefined();
      seen.set(bitmap, char);
    }
    expect(seen.size).toBe(95);
  });

  test('glyphs are stored top row first, left column in the high bit, descenders in row 7', () => {
    const art = (char: string): string[] => {
      const canvas = new Canvas(5, 8);
      canvas.text(0, 0, char, INK);
      return Array.from({ length: 8 }, (_, y) => Array.from({ length: 5 }, (_, x) => (canvas.pixel(x, y).join() === INK.join() ? '#' : '.')).join(''));
    };
    expect(art('F')).toEqual(['#####', '#....', '#....', '####.', '#....', '#....', '#....', '.....']);
    expect(art('y')).toEqual(['.....', '.....', '#...#', '#...#', '#...#', '.####', '....#', '.###.']);
  });

  test('± and unknown characters draw something; letters differ in case', () => {
    const draw = (text: string): string => {
      const canvas = new Canvas(20, 10);
      canvas.text(0, 0, text, INK);
      return [...inked(canvas)].sort().join(' ');
    };
    expect(draw('±')).not.toBe('');
    expect(draw('\u2603')).not.toBe('');
    expect(draw('a')).not.toBe(draw('A'));
    expect(measureText('')).toEqual({ width: 0, height: 0 });
    expect(measureText('ab', { scale: 2 })).toEqual({ width: 22, height: 16 });
  });
});

describe('images, colour maps and stretches', () => {
  test('grey and viridis rise monotonically in luminance; coolwarm runs blue, light, red', () => {
    for (const name of ['grey', 'viridis'] as ColormapName[]) {
      const lum = Array.from({ length: 256 }, (_, i) => luminance(colormapColor(name, i / 255)));
      // Rounding each channel to a byte can dip the luminance by a fraction of a unit, never more.
      for (let i = 1; i < lum.length; i++) expect(lum[i]!).toBeGreaterThan(lum[i - 1]! - 0.5);
      for (let i = 8; i < lum.length; i += 8) expect(lum[i]!).toBeGreaterThan(lum[i - 8]!);
      expect(lum[255]! - lum[0]!).toBeGreaterThan(150);
    }
    const [blue, middle, red] = [0, 0.5, 1].map((t) => colormapColor('coolwarm', t));
    expect(blue![2]).toBeGreaterThan(blue![0] + 80);
    expect(red![0]).toBeGreaterThan(red![2] + 80);
    expect(Math.min(...middle!)).toBeGreaterThan(220);
    expect(colormapColor('grey', -3)).toEqual([0, 0, 0]);
    expect(colormapColor('grey', 7)).toEqual([255, 255, 255]);
  });

  test('drawImage replicates pixels, maps through the colour map and can flip rows', () => {
    const values = Float32Array.from([0, 1, 0.5, NaN]);
    const canvas = new Canvas(6, 6);
    canvas.drawImage(values, 2, 2, 1, 1, { scale: 2, stretch: (v) => v });
    expect(canvas.pixel(1, 1)).toEqual([0, 0, 0]);
    expect(canvas.pixel(2, 2)).toEqual([0, 0, 0]);
    expect(canvas.pixel(3, 1)).toEqual([255, 255, 255]);
    expect(canvas.pixel(1, 3)).toEqual([128, 128, 128]);
    expect(canvas.pixel(3, 4)).toEqual([255, 0, 255]);
    expect(canvas.pixel(5, 5)).toEqual(WHITE);

    const flipped = new Canvas(2, 2);
    flipped.drawImage(Float64Array.from([0, 0, 1, 1]), 2, 2, 0, 0, { flipY: true, colormap: 'viridis' });
    expect(flipped.pixel(0, 0)).toEqual(colormapColor('viridis', 1));
    expect(flipped.pixel(0, 1)).toEqual(colormapColor('viridis', 0));
    expect(() => canvas.drawImage(values, 3, 2, 0, 0)).toThrow(RangeError);
  });

  test('asinhStretch: lo to 0, hi to 1, monotonic, near-linear close to lo, compressive above', () => {
    const stretch = asinhStretch([], { lo: 0, hi: 100, softening: 1 });
    expect(stretch(0)).toBe(0);
    expect(stretch(100)).toBeCloseTo(1, 12);
    expect(stretch(-5)).toBe(0);
    expect(stretch(1e6)).toBe(1);
    expect(stretch(0.2) / stretch(0.1)).toBeCloseTo(2, 1);
    expect(stretch(50) / stretch(25)).toBeLessThan(1.3);
    for (let v = 0; v < 100; v += 0.5) expect(stretch(v + 0.5)).toBeGreaterThan(stretch(v));
    const values = Float32Array.from({ length: 1000 }, (_, i) => i);
    const auto = asinhStretch(values);
    expect(auto(9)).toBe(0);
    expect(auto(995)).toBeCloseTo(1, 12);
  });

  test('asinhScale: the inverse puts a colour bar tick where its value is drawn', () => {
    const scale = asinhScale([], { lo: -0.01, hi: 3, softening: 0.05 });
    for (const v of [-0.01, 0, 0.02, 0.4, 1.7, 3]) expect(scale.inverse(scale.stretch(v))).toBeCloseTo(v, 9);
    expect(scale.inverse(0)).toBe(-0.01);
    expect(scale.inverse(1)).toBeCloseTo(3, 9);
  });

  test('the asynchronous PNG encoder gives the same bytes', async () => {
    const canvas = new Canvas(31, 9, [1, 2, 3]);
    canvas.text(0, 0, 'vis-agn', [200, 100, 50]);
    expect((await encodePngAsync(canvas.toImage())).equals(encodePng(canvas.toImage()))).toBe(true);
  });

  test('toImage survives a PNG round trip byte for byte', () => {
    const canvas = new Canvas(7, 5, [1, 2, 3]);
    canvas.line(0, 0, 6, 4, [200, 100, 50]);
    canvas.text(0, 0, 'A', [9, 8, 7]);
    const image = canvas.toImage();
    const png = encodePng(image);
    expect(png.readUInt32BE(16)).toBe(7);
    expect(png.readUInt32BE(20)).toBe(5);
    expect(png[25]).toBe(2);
    const idatLength = png.readUInt32BE(33);
    expect(png.toString('latin1', 37, 41)).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLength));
    const rows = Array.from({ length: 5 }, (_, y) => raw.subarray(y * 22 + 1, (y + 1) * 22));
    expect(Buffer.concat(rows)).toEqual(Buffer.from(image.data));
    image.data[0] = 99;
    expect(canvas.pixel(0, 0)).toEqual([200, 100, 50]);
  });
});

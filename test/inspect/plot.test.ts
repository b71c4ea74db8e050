import { inflateSync } from 'node:zlib';

import { describe, expect, test } from '@jest/globals';

import { linePlotLayout, niceTicks, renderLinePlot, type LinePlotSpec, type Rect } from '../../src/inspect/plot.js';
import { encodePng, type RasterImage } from '../../src/inspect/png.js';
import type { Rgb } from '../../src/inspect/raster.js';

const RED: Rgb = [200, 0, 0];

function pixelAt(image: RasterImage, x: number, y: number): Rgb {
  const i = (Math.round(y) * image.width + Math.round(x)) * 3;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}

const isRed = (image: RasterImage, x: number, y: number): boolean => pixelAt(image, x, y).join() === RED.join();

/** Any red within `radius` pixels: lines are rasterised to within a pixel of the exact mapping. */
function redNear(image: RasterImage, x: number, y: number, radius: number): boolean {
  for (let dy = -radius; dy <= radius; dy++) for (let dx = -radius; dx <= radius; dx++) if (isRed(image, x + dx, y + dy)) return true;
  return false;
}

const completeness: LinePlotSpec = {
  title: 'Completeness',
  xLabel: 'I_E [mag]',
  yLabel: 'fraction recovered',
  series: [
    { label: 'AGN', points: [20, 21, 22, 23, 24].map((x, i) => ({ x, y: 1 - i * 0.2, yLo: 0.9 - i * 0.2, yHi: 1 - i * 0.15 })) },
    { label: 'QSO', dashed: true, points: [20, 21, 22, 23, 24].map((x, i) => ({ x, y: 0.9 - i * 0.1 })) },
  ],
  hLines: [{ y: 0.5, label: '50%' }],
};

describe('nice ticks', () => {
  test('steps are 1, 2 or 5 times a power of ten and stay inside the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(19.3, 24.8, 7)).toEqual([20, 21, 22, 23, 24]);
    expect(niceTicks(-0.013, 0.041, 6)).toEqual([-0.01, 0, 0.01, 0.02, 0.03, 0.04]);
    for (const [lo, hi] of [
      [0, 7.3],
      [-3e5, 1.2e6],
      [0.0012, 0.0097],
      [17, 17.4],
    ] as const) {
      const ticks = niceTicks(lo, hi, 6);
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      expect(ticks.length).toBeLessThanOrEqual(13);
      expect(ticks[0]!).toBeGreaterThanOrEqual(lo);
      expect(ticks.at(-1)!).toBeLessThanOrEqual(hi);
      const step = ticks[1]! - ticks[0]!;
      const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
      expect([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6)).toBe(true);
    }
  });

  test('log axes tick at decades', () => {
    expect(linePlotLayout({ xLabel: 'x', yLabel: 'y', xLog: true, xRange: [0.005, 2000], series: [] }).xTicks).toEqual([0.01, 0.1, 1, 10, 100, 1000]);
  });
});

describe('line plots', () => {
  test('have the requested size and identical bytes for the same spec', () => {
    const image = renderLinePlot(completeness);
    expect([image.width, image.height, image.channels]).toEqual([720, 480, 3]);
    expect(encodePng(renderLinePlot(completeness)).equals(encodePng(image))).toBe(true);
    const small = renderLinePlot({ ...completeness, width: 300, height: 200 });
    expect([small.width, small.height]).toEqual([300, 200]);
    expect(encodePng(renderLinePlot({ ...completeness, title: 'Completeness!' })).equals(encodePng(image))).toBe(false);
  });

  test('the PNG carries the plot scanlines', () => {
    const image = renderLinePlot({ ...completeness, width: 200, height: 150 });
    const png = encodePng(image);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20), png[24], png[25]]).toEqual([200, 150, 8, 2]);
    const raw = inflateSync(png.subarray(41, 41 + png.readUInt32BE(33)));
    const stride = 200 * 3 + 1;
    const rows = Array.from({ length: 150 }, (_, y) => raw.subarray(y * stride + 1, (y + 1) * stride));
    expect(Buffer.concat(rows).equals(Buffer.from(image.data))).toBe(true);
  });

  test("a point's marker lands where the axis mapping puts it", () => {
    const spec: LinePlotSpec = { xLabel: 'x', yLabel: 'y', xRange: [0, 4], yRange: [0, 1], series: [{ label: 'one', color: RED, points: [{ x: 1, y: 0.25 }] }] };
    const layout = linePlotLayout(spec);
    const { frame } = layout;
    expect(layout.toPixelX(0)).toBe(frame.x);
    expect(layout.toPixelX(4)).toBe(frame.x + frame.width - 1);
    expect(layout.toPixelY(1)).toBe(frame.y);
    expect(layout.toPixelY(0)).toBe(frame.y + frame.height - 1);
    const [px, py] = [layout.toPixelX(1), layout.toPixelY(0.25)];
    expect(px).toBeCloseTo(frame.x + (frame.width - 1) / 4, 9);
    expect(py).toBeCloseTo(frame.y + ((frame.height - 1) * 3) / 4, 9);

    const image = renderLinePlot(spec);
    expect(isRed(image, px, py)).toBe(true);
    const reach = 6 * layout.textScale;
    for (const [dx, dy] of [
      [reach, 0],
      [-reach, 0],
      [0, reach],
      [0, -reach],
    ] as const)
      expect(isRed(image, px + dx, py + dy)).toBe(false);
  });

  test('log x axes put the geometric midpoint in the middle', () => {
    const spec: LinePlotSpec = { xLabel: 'x', yLabel: 'y', xLog: true, xRange: [1, 100], yRange: [0, 1], series: [{ label: 's', color: RED, points: [{ x: 10, y: 0.5 }, { x: -1, y: 0.5 }] }] };
    const layout = linePlotLayout(spec);
    const middle = layout.frame.x + (layout.frame.width - 1) / 2;
    expect(layout.toPixelX(10)).toBeCloseTo(middle, 9);
    expect(layout.toPixelX(-1)).toBeNaN();
    expect(isRed(renderLinePlot(spec), middle, layout.toPixelY(0.5))).toBe(true);
  });

  test('error bars span yLo to yHi', () => {
    const spec: LinePlotSpec = { xLabel: 'x', yLabel: 'y', xRange: [0, 4], yRange: [0, 1], series: [{ label: 'e', color: RED, points: [{ x: 2, y: 0.5, yLo: 0.2, yHi: 0.9 }] }] };
    const layout = linePlotLayout(spec);
    const image = renderLinePlot(spec);
    const px = layout.toPixelX(2);
    for (const y of [0.2, 0.3, 0.7, 0.9]) expect(isRed(image, px, layout.toPixelY(y))).toBe(true);
    expect(isRed(image, px, layout.toPixelY(0.1))).toBe(false);
    expect(isRed(image, px, layout.toPixelY(0.95))).toBe(false);
  });

  test('a NaN point breaks the line instead of being bridged', () => {
    const points = [
      { x: 1, y: 0.2 },
      { x: 2, y: 0.4 },
      { x: 3, y: 0.6 },
    ];
    const spec = (middle: number): LinePlotSpec => ({
      xLabel: 'x',
      yLabel: 'y',
      xRange: [0, 4],
      yRange: [0, 1],
      series: [{ label: 's', color: RED, points: points.map((p, i) => (i === 1 ? { ...p, y: middle } : p)) }],
    });
    const layout = linePlotLayout(spec(0.4));
    // A quarter of the way from the first point to the second: on the line, clear of the markers.
    const [qx, qy] = [layout.toPixelX(1.25), layout.toPixelY(0.25)];
    expect(redNear(renderLinePlot(spec(0.4)), qx, qy, 1)).toBe(true);
    expect(redNear(renderLinePlot(spec(NaN)), qx, qy, 3)).toBe(false);
    expect(isRed(renderLinePlot(spec(NaN)), layout.toPixelX(3), layout.toPixelY(0.6))).toBe(true);
  });

  test('a scatter series has markers but no joining line', () => {
    const spec = (markersOnly: boolean): LinePlotSpec => ({
      xLabel: 'x',
      yLabel: 'y',
      xRange: [0, 4],
      yRange: [0, 1],
      series: [{ label: 's', color: RED, markersOnly, points: [{ x: 1, y: 0.2 }, { x: 3, y: 0.6 }] }],
    });
    const layout = linePlotLayout(spec(true));
    const [mx, my] = [layout.toPixelX(2), layout.toPixelY(0.4)];
    expect(redNear(renderLinePlot(spec(false)), mx, my, 1)).toBe(true);
    const scatter = renderLinePlot(spec(true));
    expect(redNear(scatter, mx, my, 3)).toBe(false);
    expect(isRed(scatter, layout.toPixelX(1), layout.toPixelY(0.2))).toBe(true);
    expect(isRed(scatter, layout.toPixelX(3), layout.toPixelY(0.6))).toBe(true);
  });

  test('vertical reference lines run the height of the frame and widen the automatic x range', () => {
    const spec: LinePlotSpec = { xLabel: 'x', yLabel: 'y', yRange: [0, 1], series: [{ label: 's', points: [{ x: 1, y: 0.5 }] }], vLines: [{ x: 3, label: 'cut' }] };
    const layout = linePlotLayout(spec);
    expect(layout.xRange[1]).toBeGreaterThan(3);
    const image = renderLinePlot(spec);
    const px = Math.round(layout.toPixelX(3));
    const column = Array.from({ length: layout.frame.height - 2 }, (_, k) => pixelAt(image, px, layout.frame.y + 1 + k).join());
    const grey = column.filter((rgb) => rgb === '110,110,110').length;
    // Dashed: 4 on, 3 off (times the text scale), less where the label or the legend covers it.
    expect(grey).toBeGreaterThan(0.4 * column.length);
    expect(pixelAt(image, px, layout.frame.y + layout.frame.height + 20).join()).not.toBe('110,110,110');
  });

  test('the legend moves to a corner free of data', () => {
    const at = (x: number, y: number): LinePlotSpec => ({ xLabel: 'x', yLabel: 'y', xRange: [0, 1], yRange: [0, 1], series: [{ label: 'a long legend label', points: [{ x, y }] }] });
    const { frame } = linePlotLayout(at(0.5, 0.5));
    const nearRight = (r: Rect): boolean => r.x + r.width > frame.x + 0.9 * frame.width;
    const nearTop = (r: Rect): boolean => r.y < frame.y + 0.1 * frame.height;
    const unobstructed = linePlotLayout(at(0.05, 0.05)).legend!;
    expect(nearRight(unobstructed) && nearTop(unobstructed)).toBe(true);
    const layout = linePlotLayout(at(0.95, 0.95));
    const moved = layout.legend!;
    expect(nearRight(moved) && nearTop(moved)).toBe(false);
    const [px, py] = [layout.toPixelX(0.95), layout.toPixelY(0.95)];
    expect(px >= moved.x && px < moved.x + moved.width && py >= moved.y && py < moved.y + moved.height).toBe(false);
  });

  test('automatic ranges include error bars and reference lines; bad ranges are refused', () => {
    const layout = linePlotLayout({ xLabel: 'x', yLabel: 'y', series: [{ label: 's', points: [{ x: 1, y: 0.5, yLo: -0.2, yHi: 0.6 }] }], hLines: [{ y: 2 }] });
    expect(layout.yRange[0]).toBeLessThan(-0.2);
    expect(layout.yRange[1]).toBeGreaterThan(2);
    expect(layout.xRange[0]).toBeLessThan(1);
    expect(layout.xRange[1]).toBeGreaterThan(1);
    expect(() => linePlotLayout({ xLabel: 'x', yLabel: 'y', xRange: [1, 1], series: [] })).toThrow(RangeError);
    expect(() => linePlotLayout({ xLabel: 'x', yLabel: 'y', xLog: true, xRange: [0, 10], series: [] })).toThrow(RangeError);
    expect(() => renderLinePlot({ ...completeness, width: 40, height: 30 })).toThrow(RangeError);
  });
});

import { renderAsync } from '@resvg/resvg-js';
import { describe, expect, it } from '@jest/globals';

import { chartSpec, renderChart, type Chart } from '../../src/inspect/charts.js';
import { figurePng, FONT_FAMILY, FONT_PATHS, scopeSvgIds } from '../../src/inspect/figure.js';
import { loadFontMetrics } from '../../src/inspect/font-metrics.js';
import { fpsMagPlot } from '../../src/inspect/report-plots.js';
import { makeRows } from '../catalog/fixtures.js';

const fps = [0.05, 0.1, 0.2, 0.3, 0.5];
const chart: Chart = {
  title: 'completeness against true f_PS',
  subtitle: 'bars: 68% Wilson intervals',
  xTitle: 'true f_PS',
  yTitle: 'completeness',
  yDomain: [0, 1],
  series: [
    { label: 'selection', points: fps.map((x) => ({ x, y: 0.5, lower: 0.4, upper: 0.6 })) },
    // The same values at the same x: drawn exactly on top of the first series without a dodge.
    { label: 'at FPR 1%', dashed: true, points: fps.map((x, k) => ({ x, y: k === 2 ? null : 0.5, lower: 0.4, upper: 0.6 })) },
  ],
  references: [{ axis: 'y', value: 0.02, label: 'false-positive rate 2%' }],
};

/** translate(x,y) of every marker in the chart's point layers, in document order. */
function markers(svg: string): [number, number][] {
  const groups = [...svg.matchAll(/<g class="mark-symbol role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)].map((m) => m[1]!);
  return groups.flatMap((g) => [...g.matchAll(/transform="translate\(([-\d.]+),([-\d.]+)\)"/g)].map((m) => [Number(m[1]), Number(m[2])] as [number, number]));
}

/** [top, bottom] of every error bar (a vertical rule) in the chart's rule layers, in plot pixels. */
function errorBars(svg: string): [number, number][] {
  const groups = [...svg.matchAll(/<g class="mark-rule role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)].map((m) => m[1]!);
  return groups.flatMap((g) =>
    [...g.matchAll(/<line [^>]*?transform="translate\(([-\d.]+),([-\d.]+)\)" x2="0" y2="([-\d.]+)"/g)].map((m) => {
      const [y, y2] = [Number(m[2]), Number(m[2]) + Number(m[3])];
      return [Math.min(y, y2), Math.max(y, y2)] as [number, number];
    }),
  );
}

describe('charts', () => {
  it('draw titles, axis titles, every series in the legend and the labelled reference line', async () => {
    const { svg, width, height } = await renderChart(chart);
    for (const text of ['completeness against true f_PS', 'bars: 68% Wilson intervals', 'true f_PS', 'completeness', 'selection', 'at FPR 1%', 'false-positive rate 2%']) expect(svg).toContain(`>${text}<`);
    expect(width).toBeGreaterThan(460);
    expect(height).toBeGreaterThan(280);
  });

  it('leave out missing points and shift series at the same x apart, so none hides another', async () => {
    const points = markers((await renderChart(chart)).svg);
    // Five markers of the first series, four of the second: one bin has no estimate.
    expect(points.length).toBe(5 + 4);
    const first = points.slice(0, 5);
    const second = points.slice(5, 9);
    expect(second[0]![0] - first[0]![0]).toBeCloseTo(5, 6);
    expect(second[0]![1]).toBeCloseTo(first[0]![1], 6);
    const spec = JSON.stringify(chartSpec(chart));
    expect(spec).toContain('"strokeDash":[6,4]');
  });

  it('keep every marker and error bar inside the axes of a fixed domain: f_ps beyond [-0.4, 1.2] is left off the plot', async () => {
    const rows = makeRows(40, 4).map((row, i) => ({
      ...row,
      mag_vis: 20 + (i % 8) * 0.5,
      // Far above and below the axis, on it, and near the top with an error bar reaching past it.
      f_ps: [3, -2, 1.2, -0.4, 1.1, 0.5][i % 6]!,
      f_ps_err: i % 6 === 4 ? 0.5 : 0.05,
      candidate_class: (['agn', 'qso', 'none', 'point_like'] as const)[i % 4]!,
    }));
    const plot = fpsMagPlot(rows, { z: 5, qsoFps: 0.8, pointLikeFps: 0.5 })!;
    const onAxis = rows.filter((row) => row.f_ps >= -0.4 && row.f_ps <= 1.2).length;
    expect(plot.caption).toContain(`${rows.length - onAxis} rows with f_ps outside [-0.4, 1.2] are off the plot`);
    const { svg } = await renderChart(plot.chart);
    const [width, height] = [plot.chart.width ?? 460, plot.chart.height ?? 280];
    const points = markers(svg);
    expect(points).toHaveLength(onAxis);
    for (const [x, y] of points) expect({ x, y, inside: x >= 0 && x <= width && y >= 0 && y <= height }).toMatchObject({ inside: true });
    const bars = errorBars(svg).filter(([top, bottom]) => top !== bottom);
    expect(bars.length).toBeGreaterThan(0);
    for (const [top, bottom] of bars) expect({ top, bottom, inside: top >= 0 && bottom <= height }).toMatchObject({ inside: true });
    // The plot keeps its size: nothing past the axes widens the SVG.
    const inRange = await renderChart(fpsMagPlot(rows.filter((row) => row.f_ps >= -0.4 && row.f_ps <= 1.2), { z: 5, qsoFps: 0.8, pointLikeFps: 0.5 })!.chart);
    expect((await renderChart(plot.chart)).height).toBe(inRange.height);
  });

  it('give the same bytes for the same chart, however many were drawn before', async () => {
    const first = await renderChart(chart);
    await renderChart({ ...chart, title: 'another' });
    expect((await renderChart(chart)).svg).toBe(first.svg);
  });

  it('rasterise at twice their size with the shipped font: text leaves ink', async () => {
    const figure = await renderChart(chart);
    const png = await figurePng(figure);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(2 * figure.width);
    expect(png.readUInt32BE(20)).toBe(2 * figure.height);
    const ink = async (svg: string) => {
      const image = await renderAsync(svg, { font: { fontFiles: [FONT_PATHS.regular], loadSystemFonts: false, defaultFontFamily: FONT_FAMILY } });
      return image.pixels.filter((value, i) => i % 4 === 3 && value > 0).length;
    };
    const word = (content: string) => `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text x="5" y="30" font-size="20" font-family="${FONT_FAMILY}">${content}</text></svg>`;
    expect(await ink(word('completeness'))).toBeGreaterThan(200);
    expect(await ink(word(''))).toBe(0);
  });

  it("scope ids so several inline figures' clip paths do not resolve to each other", () => {
    const svg = '<clipPath id="clip1"><path/></clipPath><g clip-path="url(#clip1)"><use href="#clip1"/></g>';
    expect(scopeSvgIds(svg, 'agn-z')).toBe('<clipPath id="agn-z-clip1"><path/></clipPath><g clip-path="url(#agn-z-clip1)"><use href="#agn-z-clip1"/></g>');
  });

  it("measure text with the font's own advance widths", () => {
    const metrics = loadFontMetrics(FONT_PATHS.regular);
    // DejaVu Sans: digits 1303/2048 em, space 651/2048 em.
    expect(metrics.width('0')).toBeCloseTo(1303 / 2048, 6);
    expect(metrics.width('10 0')).toBeCloseTo((3 * 1303 + 651) / 2048, 6);
    expect(metrics.width('iiii')).toBeLessThan(metrics.width('mmmm') / 2);
    expect(loadFontMetrics(FONT_PATHS.bold).width('completeness')).toBeGreaterThan(metrics.width('completeness'));
  });
});

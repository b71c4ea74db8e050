/**
 * Line and scatter plots with error bars for completeness curves and similar figures, drawn on the
 * raster Canvas: 1-2-5 ticks with a light grid, optional log x axis, dashed horizontal and vertical
 * reference lines, and a legend put in whichever corner of the frame covers the fewest points.
 */

import type { RasterImage } from './png.js';
import { Canvas, formatNumber, measureText, type Rgb } from './raster.js';

export interface PlotPoint {
  readonly x: number;
  readonly y: number;
  readonly yLo?: number;
  readonly yHi?: number;
}

export interface PlotSeries {
  readonly label: string;
  readonly color?: Rgb;
  readonly points: readonly PlotPoint[];
  readonly dashed?: boolean;
  /** Markers (and error bars) without joining lines: a scatter plot. */
  readonly markersOnly?: boolean;
}

export interface LinePlotSpec {
  readonly width?: number;
  readonly height?: number;
  readonly title?: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xRange?: readonly [number, number];
  readonly yRange?: readonly [number, number];
  readonly xLog?: boolean;
  readonly series: readonly PlotSeries[];
  readonly hLines?: readonly { readonly y: number; readonly label?: string }[];
  readonly vLines?: readonly { readonly x: number; readonly label?: string }[];
}

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Where everything goes; renderLinePlot draws exactly this, so tests can locate data pixels. */
export interface PlotLayout {
  readonly width: number;
  readonly height: number;
  readonly textScale: number;
  readonly frame: Rect;
  readonly xRange: readonly [number, number];
  readonly yRange: readonly [number, number];
  readonly xTicks: readonly number[];
  readonly yTicks: readonly number[];
  /** Data to pixel coordinates (fractional; NaN for x <= 0 on a log axis). */
  readonly toPixelX: (x: number) => number;
  readonly toPixelY: (y: number) => number;
  readonly legend: Rect | undefined;
}

/** Okabe-Ito colours: distinguishable with the common colour-vision deficiencies. */
const PALETTE: readonly Rgb[] = [
  [0, 114, 178],
  [213, 94, 0],
  [0, 158, 115],
  [204, 121, 167],
  [230, 159, 0],
  [86, 180, 233],
  [0, 0, 0],
];
const BLACK: Rgb = [0, 0, 0];
const GRID: Rgb = [225, 225, 225];
const REFERENCE: Rgb = [110, 110, 110];
const WHITE: Rgb = [255, 255, 255];

export function seriesColor(spec: LinePlotSpec, index: number): Rgb {
  return spec.series[index]?.color ?? PALETTE[index % PALETTE.length]!;
}

/** Round-number ticks within [lo, hi], about `target` of them, spaced 1, 2 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, target: number): number[] {
  const raw = (hi - lo) / Math.max(1, target);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw * (1 - 1e-9))!;
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/** Decades, with 2 and 5 between them when the axis spans too few decades to read. */
function logTicks(lo: number, hi: number): number[] {
  const decades = (multipliers: readonly number[]): number[] => {
    const ticks: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
      for (const m of multipliers) {
        const v = Number((m * 10 ** e).toPrecision(12));
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(v);
      }
    return ticks;
  };
  const coarse = decades([1]);
  if (coarse.length >= 3) return coarse;
  const fine = decades([1, 2, 5]);
  return fine.length >= 3 ? fine : niceTicks(lo, hi, 5);
}

/** Linear tick labels share the decimals of the step, so 0.5 and 1.0 line up as "0.5", "1.0". */
function tickLabels(ticks: readonly number[], log: boolean): string[] {
  if (log || ticks.length < 2) return ticks.map(formatNumber);
  const step = ticks[1]! - ticks[0]!;
  const largest = Math.max(...ticks.map(Math.abs));
  if (largest >= 1e5 || step < 1e-3) return ticks.map(formatNumber);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return ticks.map((t) => t.toFixed(decimals));
}

function autoRange(values: readonly number[], log: boolean): [number, number] {
  const usable = values.filter((v) => Number.isFinite(v) && (!log || v > 0)).map((v) => (log ? Math.log10(v) : v));
  if (usable.length === 0) return log ? [1, 10] : [0, 1];
  let lo = Math.min(...usable);
  let hi = Math.max(...usable);
  const pad = hi > lo ? (hi - lo) * 0.05 : log ? 0.5 : Math.abs(lo) * 0.1 || 1;
  lo -= pad;
  hi += pad;
  return log ? [10 ** lo, 10 ** hi] : [lo, hi];
}

function checkRange(range: readonly [number, number], log: boolean, axis: string): void {
  const [lo, hi] = range;
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo && (!log || lo > 0))) throw new RangeError(`bad ${axis} range [${lo}, ${hi}]${log ? ' for a log axis' : ''}`);
}

export function linePlotLayout(spec: LinePlotSpec): PlotLayout {
  const width = spec.width ?? 720;
  const height = spec.height ?? 480;
  const log = spec.xLog ?? false;
  const points = spec.series.flatMap((s) => s.points);
  const xRange = spec.xRange ?? autoRange([...points.map((p) => p.x), ...(spec.vLines ?? []).map((v) => v.x)], log);
  const yRange = spec.yRange ?? autoRange([...points.flatMap((p) => [p.y, p.yLo ?? NaN, p.yHi ?? NaN]), ...(spec.hLines ?? []).map((h) => h.y)], false);
  checkRange(xRange, log, 'x');
  checkRange(yRange, false, 'y');
  const xTicks = log ? logTicks(xRange[0], xRange[1]) : niceTicks(xRange[0], xRange[1], 7);
  const yTicks = niceTicks(yRange[0], yRange[1], 6);

  // Text grows with the figure so labels stay legible at the sizes figures are viewed at.
  const textScale = Math.max(1, Math.floor(Math.min(width, height) / 240));
  const { gap, tick, lineHeight } = metrics(textScale);
  const widest = (labels: readonly string[]): number => Math.max(0, ...labels.map((l) => measureText(l, { scale: textScale }).width));
  const xLabels = tickLabels(xTicks, log);
  const left = gap + lineHeight + 2 * gap + widest(tickLabels(yTicks, false)) + gap + tick;
  const right = Math.max(3 * gap, Math.ceil(widest(xLabels.slice(-1)) / 2) + gap);
  const top = spec.title ? 3 * gap + lineHeight : 3 * gap;
  const bottom = tick + gap + lineHeight + 2 * gap + lineHeight + gap;
  const frame = { x: left, y: top, width: width - left - right, height: height - top - bottom };
  if (frame.width < 20 || frame.height < 20) throw new RangeError(`plot of ${width}x${height} leaves no room for the data`);

  const fraction = (v: number, [lo, hi]: readonly [number, number], isLog: boolean): number =>
    isLog ? (v > 0 ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : NaN) : (v - lo) / (hi - lo);
  const toPixelX = (x: number): number => frame.x + fraction(x, xRange, log) * (frame.width - 1);
  const toPixelY = (y: number): number => frame.y + (1 - fraction(y, yRange, false)) * (frame.height - 1);
  const dataPixels = points.map((p) => [toPixelX(p.x), toPixelY(p.y)] as const).filter(([px, py]) => Number.isFinite(px) && Number.isFinite(py));
  const legend = placeLegend(spec, frame, textScale, dataPixels);
  return { width, height, textScale, frame, xRange, yRange, xTicks, yTicks, toPixelX, toPixelY, legend };
}

function metrics(textScale: number): { gap: number; tick: number; lineHeight: number; markerSize: number; sample: number } {
  return { gap: 4 * textScale, tick: 4 * textScale, lineHeight: measureText('X', { scale: textScale }).height, markerSize: 3 + 2 * textScale, sample: 24 * textScale };
}

function placeLegend(spec: LinePlotSpec, frame: Rect, textScale: number, dataPixels: readonly (readonly [number, number])[]): Rect | undefined {
  if (spec.series.length === 0) return undefined;
  const { gap, lineHeight, sample } = metrics(textScale);
  const labelWidth = Math.max(...spec.series.map((s) => measureText(s.label, { scale: textScale }).width));
  const width = 3 * gap + sample + labelWidth;
  const height = gap + spec.series.length * (lineHeight + gap);
  const leftX = frame.x + gap;
  const rightX = frame.x + frame.width - gap - width;
  const topY = frame.y + gap;
  const bottomY = frame.y + frame.height - gap - height;
  const corners: Rect[] = [
    { x: rightX, y: topY, width, height },
    { x: leftX, y: topY, width, height },
    { x: rightX, y: bottomY, width, height },
    { x: leftX, y: bottomY, width, height },
  ];
  const margin = gap;
  const covered = (r: Rect): number =>
    dataPixels.filter(([px, py]) => px >= r.x - margin && px < r.x + r.width + margin && py >= r.y - margin && py < r.y + r.height + margin).length;
  // Ties keep the first corner, so the legend sits top right unless data is there.
  return corners.reduce((best, r) => (covered(r) < covered(best) ? r : best));
}

export function renderLinePlot(spec: LinePlotSpec): RasterImage {
  const layout = linePlotLayout(spec);
  const { frame, textScale: scale, toPixelX, toPixelY } = layout;
  const { gap, tick, lineHeight, markerSize, sample } = metrics(scale);
  const canvas = new Canvas(layout.width, layout.height);
  const frameRight = frame.x + frame.width - 1;
  const frameBottom = frame.y + frame.height - 1;

  canvas.setClip(frame.x, frame.y, frame.width, frame.height);
  for (const x of layout.xTicks) canvas.fillRect(Math.round(toPixelX(x)), frame.y, 1, frame.height, GRID);
  for (const y of layout.yTicks) canvas.fillRect(frame.x, Math.round(toPixelY(y)), frame.width, 1, GRID);
  for (const h of spec.hLines ?? []) {
    const py = toPixelY(h.y);
    canvas.dashedLine(frame.x, py, frameRight, py, REFERENCE, 1, [4 * scale, 3 * scale]);
    if (!h.label) continue;
    const above = Math.round(py) - gap / 2 - lineHeight;
    canvas.text(frameRight - gap, above >= frame.y ? above : Math.round(py) + gap / 2 + 1, h.label, REFERENCE, { scale, align: 'right' });
  }
  for (const v of spec.vLines ?? []) {
    const px = toPixelX(v.x);
    canvas.dashedLine(px, frame.y, px, frameBottom, REFERENCE, 1, [4 * scale, 3 * scale]);
    // At the bottom: the legend prefers the top corners.
    if (v.label) canvas.text(Math.round(px) + gap / 2 + 1, frameBottom - gap - lineHeight, v.label, REFERENCE, { scale });
  }
  spec.series.forEach((series, i) => drawSeries(canvas, series, seriesColor(spec, i), layout));
  canvas.clearClip();

  canvas.strokeRect(frame.x, frame.y, frame.width, frame.height, BLACK);
  tickLabels(layout.xTicks, spec.xLog ?? false).forEach((label, k) => {
    const px = Math.round(toPixelX(layout.xTicks[k]!));
    canvas.fillRect(px, frameBottom + 1, 1, tick, BLACK);
    canvas.text(px, frameBottom + 1 + tick + gap, label, BLACK, { scale, align: 'center' });
  });
  tickLabels(layout.yTicks, false).forEach((label, k) => {
    const py = Math.round(toPixelY(layout.yTicks[k]!));
    canvas.fillRect(frame.x - tick, py, tick, 1, BLACK);
    canvas.text(frame.x - tick - gap, py - Math.floor(lineHeight / 2) + scale, label, BLACK, { scale, align: 'right' });
  });
  canvas.text(frame.x + Math.floor(frame.width / 2), layout.height - gap - lineHeight, spec.xLabel, BLACK, { scale, align: 'center' });
  canvas.text(gap, frame.y + Math.floor(frame.height / 2), spec.yLabel, BLACK, { scale, align: 'center', vertical: true });
  if (spec.title) canvas.text(Math.floor(layout.width / 2), 2 * gap, spec.title, BLACK, { scale, align: 'center' });

  const legend = layout.legend;
  if (legend) {
    canvas.fillRect(legend.x, legend.y, legend.width, legend.height, WHITE);
    canvas.strokeRect(legend.x, legend.y, legend.width, legend.height, BLACK);
    spec.series.forEach((series, i) => {
      const color = seriesColor(spec, i);
      const top = legend.y + gap + i * (lineHeight + gap);
      const middle = top + Math.floor(lineHeight / 2) - scale;
      const x0 = legend.x + gap;
      if (series.markersOnly !== true) {
        if (series.dashed) canvas.dashedLine(x0, middle, x0 + sample - 1, middle, color, scale, [4 * scale, 3 * scale]);
        else canvas.line(x0, middle, x0 + sample - 1, middle, color, scale);
      }
      canvas.marker(x0 + Math.floor(sample / 2), middle, color, markerSize);
      canvas.text(x0 + sample + gap, top, series.label, BLACK, { scale });
    });
  }
  return canvas.toImage();
}

/** Lines break at unusable points rather than bridging them, so a missing bin shows as a gap. */
function drawSeries(canvas: Canvas, series: PlotSeries, color: Rgb, layout: PlotLayout): void {
  const { gap, markerSize } = metrics(layout.textScale);
  const scale = layout.textScale;
  const pixels = series.points.map((p) => [layout.toPixelX(p.x), layout.toPixelY(p.y)] as const);
  const usable = ([px, py]: readonly [number, number]): boolean => Number.isFinite(px) && Number.isFinite(py);
  let phase = 0;
  for (let k = 1; k < pixels.length && series.markersOnly !== true; k++) {
    const [a, b] = [pixels[k - 1]!, pixels[k]!];
    if (!usable(a) || !usable(b)) continue;
    if (series.dashed) phase = canvas.dashedLine(a[0], a[1], b[0], b[1], color, scale, [4 * scale, 3 * scale], phase);
    else canvas.line(a[0], a[1], b[0], b[1], color, scale);
  }
  series.points.forEach((p, k) => {
    const [px, py] = pixels[k]!;
    if (!usable([px, py])) return;
    if (p.yLo !== undefined && p.yHi !== undefined && Number.isFinite(p.yLo) && Number.isFinite(p.yHi)) {
      const [lo, hi] = [layout.toPixelY(p.yLo), layout.toPixelY(p.yHi)];
      canvas.line(px, lo, px, hi, color);
      canvas.line(px - gap / 2, lo, px + gap / 2, lo, color);
      canvas.line(px - gap / 2, hi, px + gap / 2, hi, color);
    }
    canvas.marker(px, py, color, markerSize);
  });
}

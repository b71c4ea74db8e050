/**
 * The charts of vis-agn (completeness curves, score distributions, scatter plots by class) described
 * as data and drawn by Vega-Lite, rendered headless to SVG by Vega: axes, ticks, legends and label
 * placement come from a library that handles collisions, rather than from hand-placed pixels.
 * Series that share x values are shifted a few pixels apart (not in data units) so none hides
 * another, and each has its own colour, marker shape and dash, distinguishable without colour.
 */

import type { TopLevelSpec } from 'vega-lite';

import { figureFontMetrics, FONT_FAMILY, isBold, type Figure } from './figure.js';

/** Vega's hook for text measurement (vega-scenegraph's textMetrics; untyped in vega-typings). */
interface TextMetrics {
  width: (item: { fontSize?: number; fontWeight?: string | number }, text: unknown) => number;
}

let engine: Promise<{ vega: typeof import('vega'); compile: typeof import('vega-lite').compile }> | undefined;

/**
 * Vega and Vega-Lite, loaded on first use: their module graph has a top-level await (vega-canvas
 * probing for node-canvas), which `require` cannot load, and the notebooks require this module.
 */
function loadEngine(): NonNullable<typeof engine> {
  // One after the other: jest's ESM loader fails on two graphs linking the same modules at once.
  engine ??= (async () => [await import('vega'), await import('vega-lite')] as const)().then(([vega, vegaLite]) => {
    const metrics = figureFontMetrics();
    (vega as unknown as { textMetrics: TextMetrics }).textMetrics.width = (item, text) => {
      const bold = isBold(item.fontWeight);
      const lines = Array.isArray(text) ? text.map(String) : [text === null || text === undefined ? '' : String(text)];
      return Math.max(0, ...lines.map((line) => (bold ? metrics.bold : metrics.regular).width(line))) * (item.fontSize ?? 11);
    };
    return { vega, compile: vegaLite.compile };
  });
  return engine;
}

export interface ChartPoint {
  readonly x: number;
  /** Null or NaN: no estimate in this bin (no trials); the point is left out and the line breaks. */
  readonly y: number | null;
  readonly lower?: number | null;
  readonly upper?: number | null;
}

export interface ChartSeries {
  readonly label: string;
  readonly points: readonly ChartPoint[];
  readonly dashed?: boolean;
  /** Markers and error bars without joining lines. */
  readonly markersOnly?: boolean;
  /** A line without markers: a model curve rather than measurements. */
  readonly lineOnly?: boolean;
  /** CSS colour; by default the next of the Okabe-Ito palette. */
  readonly color?: string;
}

/** A dashed line across the plot at a value of one axis, labelled in the plot. */
export interface ReferenceLine {
  readonly axis: 'x' | 'y';
  readonly value: number;
  readonly label: string;
}

export interface Chart {
  readonly title: string;
  readonly subtitle?: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly xDomain?: readonly [number, number];
  readonly yDomain?: readonly [number, number];
  readonly series: readonly ChartSeries[];
  /** Drawn as bars under the series: a histogram, each bar from lo to hi (say what they are in the subtitle). */
  readonly bars?: { readonly bins: readonly { readonly lo: number; readonly hi: number; readonly count: number }[] };
  readonly references?: readonly ReferenceLine[];
  readonly width?: number;
  readonly height?: number;
}

/** Okabe-Ito: distinguishable with the common colour-vision deficiencies. */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];
const SHAPES = ['circle', 'square', 'triangle-up', 'diamond', 'cross', 'triangle-down', 'circle'];
const DASH = [6, 4];
const REFERENCE_COLOR = '#666666';
const BAR_COLOR = '#9ecae1';
/** Pixels between neighbouring series at the same x. */
const DODGE = 5;

const finite = (v: number | null | undefined): v is number => v !== null && v !== undefined && Number.isFinite(v);
/** True when `value` is on an axis of that domain (any value is, on an axis without a fixed domain). */
const within = (domain: readonly [number, number] | undefined, value: number): boolean => domain === undefined || (value >= Math.min(...domain) && value <= Math.max(...domain));

/** The Vega-Lite specification of a chart; exported so tests and notebooks can see what is drawn. */
export function chartSpec(chart: Chart): TopLevelSpec {
  const width = chart.width ?? 460;
  const height = chart.height ?? 280;
  const labels = chart.series.map((s) => s.label);
  const colors = chart.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]!);
  const shapes = chart.series.map((_, i) => SHAPES[i % SHAPES.length]!);
  const rows = chart.series.flatMap((s) =>
    s.points.map((p, k) => ({
      series: s.label,
      order: k,
      x: p.x,
      y: finite(p.y) ? p.y : null,
      lower: finite(p.lower) ? p.lower : null,
      upper: finite(p.upper) ? p.upper : null,
      inside: within(chart.xDomain, p.x) && (!finite(p.y) || within(chart.yDomain, p.y)),
    })),
  );
  // Padding in pixels keeps markers and error bars at the ends of the axis inside the frame. A fixed
  // domain clamps: error bars and lines stop at the frame, and points outside it are left out below
  // (Vega-Lite would otherwise draw them past the axes; its `clip` would also halve the markers on an edge).
  const x = { field: 'x', type: 'quantitative' as const, title: chart.xTitle, scale: chart.xDomain ? { domain: [...chart.xDomain], nice: false, zero: false, clamp: true } : { zero: false, padding: 12 } };
  // Bars are read by their length, so a histogram's axis starts at zero.
  const y = { field: 'y', type: 'quantitative' as const, title: chart.yTitle, scale: chart.yDomain ? { domain: [...chart.yDomain], nice: false, clamp: true } : { zero: chart.bars !== undefined } };
  // One legend entry per series, its colour and marker shape; the same definition on every layer so they merge.
  const legend = { orient: 'bottom' as const, direction: 'horizontal' as const, columns: 2, labelLimit: 320 };
  const color = { field: 'series', type: 'nominal' as const, title: null, scale: { domain: labels, range: colors }, legend };
  const shape = { field: 'series', type: 'nominal' as const, title: null, scale: { domain: labels, range: shapes }, legend };
  const layers: object[] = [];
  if (chart.bars !== undefined) {
    layers.push({
      data: { values: chart.bars.bins },
      mark: { type: 'bar', color: BAR_COLOR, stroke: 'white', strokeWidth: 0.5 },
      encoding: { x: { field: 'lo', type: 'quantitative', title: chart.xTitle }, x2: { field: 'hi' }, y: { field: 'count', type: 'quantitative', title: chart.yTitle }, y2: { datum: 0 } },
    });
  }
  chart.series.forEach((s, i) => {
    // Pixels, not data units: the x values stay exact, only their drawing moves.
    const xOffset = (i - (chart.series.length - 1) / 2) * DODGE;
    const mine = { filter: { field: 'series', equal: s.label } };
    layers.push({
      transform: [mine, { filter: 'datum.lower != null && datum.upper != null' }],
      mark: { type: 'rule', strokeWidth: 1.5, xOffset, x2Offset: xOffset },
      encoding: { x, y: { field: 'lower', type: 'quantitative', title: chart.yTitle }, y2: { field: 'upper' }, color },
    });
    if (s.markersOnly !== true) {
      layers.push({
        transform: [mine],
        mark: { type: 'line', strokeWidth: 2, xOffset, ...(s.dashed === true ? { strokeDash: DASH } : {}) },
        encoding: { x, y, color, order: { field: 'order' } },
      });
    }
    if (s.lineOnly === true) return;
    layers.push({
      transform: [mine, { filter: 'datum.y != null && datum.inside' }],
      mark: { type: 'point', filled: true, size: 55, opacity: 1, stroke: 'white', strokeWidth: 0.8, xOffset },
      encoding: { x, y, color, shape },
    });
  });
  const references = (chart.references ?? []).filter((r) => within(r.axis === 'x' ? chart.xDomain : chart.yDomain, r.value));
  for (const axis of ['x', 'y'] as const) {
    const lines = references.filter((r) => r.axis === axis);
    if (lines.length === 0) continue;
    const position = { field: 'value', type: 'quantitative' as const };
    layers.push(
      { data: { values: lines }, mark: { type: 'rule', color: REFERENCE_COLOR, strokeDash: [4, 3], strokeWidth: 1.2 }, encoding: { [axis]: position } },
      {
        data: { values: lines },
        // Labels sit along the top (vertical lines) or the right end (horizontal lines), on a white halo.
        mark:
          axis === 'x'
            ? { type: 'text', color: REFERENCE_COLOR, align: 'left', baseline: 'top', dx: 4, y: 4, fontSize: 11 }
            : { type: 'text', color: REFERENCE_COLOR, align: 'right', baseline: 'bottom', dy: -3, x: width - 4, fontSize: 11 },
        encoding: { [axis]: position, text: { field: 'label' } },
      },
    );
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width,
    height,
    title: { text: chart.title, ...(chart.subtitle === undefined ? {} : { subtitle: chart.subtitle }), anchor: 'start', fontSize: 14, subtitleFontSize: 11, subtitleColor: '#444' },
    background: 'white',
    padding: 8,
    data: { values: rows },
    layer: layers,
    config: { font: FONT_FAMILY, axis: { labelFontSize: 11, titleFontSize: 12, labelOverlap: 'greedy', labelSeparation: 6 }, legend: { labelFontSize: 11 } },
  } as TopLevelSpec;
}

/** The chart as an SVG figure (rasterised at twice its size for the PNG). */
export async function renderChart(chart: Chart): Promise<Figure> {
  const { vega, compile } = await loadEngine();
  const view = new vega.View(vega.parse(compile(chartSpec(chart)).spec), { renderer: 'none' });
  try {
    // Clip-path ids count up across renders otherwise: the same chart would not give the same bytes.
    vega.resetSVGDefIds();
    const svg = await view.toSVG();
    const size = /<svg[^>]*\bwidth="(\d+(?:\.\d+)?)"[^>]*\bheight="(\d+(?:\.\d+)?)"/.exec(svg);
    if (size === null) throw new Error('Vega produced an SVG without a size');
    return { svg, width: Number(size[1]), height: Number(size[2]), pngScale: 2 };
  } finally {
    view.finalize();
  }
}

/**
 * The inspection panel of one source: what an astronomer would otherwise assemble by hand in ds9 and
 * matplotlib, as an SVG figure (and its PNG). Top row: the model's 6.4" crop as observed and as the
 * model saw it (core masked; under the joint fit, less the fitted point source), then the central 1.5"
 * zoomed: observed, mean regeneration, residual. Bottom row, zoomed: individual regenerations, the
 * per-pixel spread of the regenerations, and the residual left after the PSF fit. Every image has a
 * title, a colour bar in physical units (µJy per pixel, or the noise sigma for residuals and spread)
 * and a scale bar outlined so it shows on dark and bright pixels alike; images share one asinh
 * stretch, residuals one symmetric diverging scale; the masked core is outlined. Above them, the
 * scores in sentences.
 */

import { coreOffsets, type CoreMask } from '../model/geometry.js';
import { escapeXml, figureFontMetrics, FONT_FAMILY, type Figure } from './figure.js';
import { encodePng, type RasterImage } from './png.js';
import { asinhScale, Canvas, colormapColor, formatNumber, type ColormapName, type Rgb } from './raster.js';

export interface PanelInput {
  readonly title: string;
  /** side x side core-centred crop, row 0 at the bottom (FITS order), image units. */
  readonly crop: Float32Array;
  /**
   * The crop the model regenerated the core from where it is not `crop` as observed: under the joint
   * fit, `crop` less the fitted point source (contextWithoutPointSource). Same layout as `crop`.
   */
  readonly modelInput?: Float32Array;
  readonly side: number;
  readonly mask: CoreMask;
  /** sampleCount x core pixels, image units. */
  readonly samples: Float32Array;
  readonly sampleCount: number;
  /** The PSF under the core (unit total flux) and its fitted flux. */
  readonly psfWeights: ArrayLike<number>;
  readonly psFlux: number;
  /** Per-pixel noise sigma in image units; residual colour bars are in units of it when it is finite. */
  readonly noiseSigma: number;
  /** Microjansky per image unit (from the HDU's MAGZERO). */
  readonly uJyPerUnit: number;
  /** The scores in sentences, printed under the title. */
  readonly summary: readonly string[];
  /** The raw score lines, printed under the summary. */
  readonly lines: readonly string[];
  readonly pixelScaleArcsec?: number;
}

const ZOOM = 15;
const SAMPLE_PANELS = 3;
const OUTLINE: Rgb = [255, 140, 0];
const MASKED: Rgb = [90, 90, 90];

/** The core pixels' (dx, dy) and their indices in a side x side image centred at side / 2. */
function coreLayout(side: number, mask: CoreMask): { offsets: readonly (readonly [number, number])[]; indices: number[] } {
  const centre = Math.floor(side / 2);
  const offsets = coreOffsets(mask);
  return { offsets, indices: offsets.map(([dx, dy]) => (centre + dy) * side + centre + dx) };
}

function zoomOf(image: Float32Array, side: number): Float32Array {
  const start = Math.floor(side / 2) - Math.floor(ZOOM / 2);
  const out = new Float32Array(ZOOM * ZOOM);
  for (let y = 0; y < ZOOM; y++) for (let x = 0; x < ZOOM; x++) out[y * ZOOM + x] = image[(start + y) * side + start + x]!;
  return out;
}

function withCore(crop: Float32Array, indices: readonly number[], core: ArrayLike<number>, offset = 0): Float32Array {
  const out = crop.slice();
  indices.forEach((index, i) => (out[index] = core[offset + i]!));
  return out;
}

/** Edges of core pixels that border non-core pixels, as [x0, y0, x1, y1] in pixel units of a size x size tile, top-down. */
function maskEdges(size: number, offsets: readonly (readonly [number, number])[]): [number, number, number, number][] {
  const centre = Math.floor(size / 2);
  const inCore = new Set(offsets.map(([dx, dy]) => `${dx},${dy}`));
  const edges: [number, number, number, number][] = [];
  for (const [dx, dy] of offsets) {
    // Display rows run top-down while image rows run bottom-up.
    const left = centre + dx;
    const top = size - 1 - (centre + dy);
    if (!inCore.has(`${dx - 1},${dy}`)) edges.push([left, top, left, top + 1]);
    if (!inCore.has(`${dx + 1},${dy}`)) edges.push([left + 1, top, left + 1, top + 1]);
    if (!inCore.has(`${dx},${dy + 1}`)) edges.push([left, top, left + 1, top]);
    if (!inCore.has(`${dx},${dy - 1}`)) edges.push([left, top + 1, left + 1, top + 1]);
  }
  return edges;
}

type TileKind = 'image' | 'residual' | 'spread';

/** How a kind of tile maps values to colours, and how its colour bar is labelled. */
interface TileScale {
  readonly colormap: ColormapName;
  /** A value in image units to [0, 1]. */
  readonly stretch: (value: number) => number;
  /** Ticks along the bar: position in [0, 1] and label. */
  readonly ticks: readonly (readonly [number, string])[];
  readonly label: string;
}

/** What the panel and the thumbnail derive from the samples, and the scales they share. */
interface Regeneration {
  readonly offsets: readonly (readonly [number, number])[];
  readonly indices: readonly number[];
  /** Per core pixel. */
  readonly mean: Float64Array;
  /** side x side images, zero outside the core. */
  readonly residual: Float32Array;
  readonly afterFit: Float32Array;
  readonly spreadImage: Float32Array;
  readonly scales: Readonly<Record<TileKind, TileScale>>;
}

/** Two significant digits: a colour bar is read roughly, and shorter labels do not collide. */
const tickLabel = (value: number): string => formatNumber(Math.abs(value) < 1e-12 ? 0 : Number(value.toPrecision(2)));

function regeneration(input: PanelInput): Regeneration {
  const { crop, side, samples, sampleCount } = input;
  const { offsets, indices } = coreLayout(side, input.mask);
  const pixels = indices.length;
  const mean = new Float64Array(pixels);
  const spread = new Float64Array(pixels);
  for (let s = 0; s < sampleCount; s++) for (let i = 0; i < pixels; i++) mean[i]! += samples[s * pixels + i]! / sampleCount;
  for (let s = 0; s < sampleCount; s++) for (let i = 0; i < pixels; i++) spread[i]! += (samples[s * pixels + i]! - mean[i]!) ** 2 / Math.max(1, sampleCount - 1);
  const residual = new Float32Array(side * side);
  const afterFit = new Float32Array(side * side);
  const spreadImage = new Float32Array(side * side);
  indices.forEach((index, i) => {
    residual[index] = crop[index]! - mean[i]!;
    afterFit[index] = residual[index]! - input.psFlux * input.psfWeights[i]!;
    spreadImage[index] = Math.sqrt(spread[i]!);
  });
  const residualLimit = Math.max(1e-12, ...Array.from(indices, (i) => Math.abs(residual[i]!)));
  // Its own range: the spread is usually far below the residual, and on the residual's scale would be one colour.
  const spreadLimit = Math.max(1e-12, ...Array.from(indices, (i) => spreadImage[i]!));
  // Up to the brightest pixel, so the core the whole panel is about is never saturated.
  const image = asinhScale(crop, { hi: Math.max(...crop) });
  // Residuals read best against the noise: "3" is a 3-sigma pixel. Without a noise estimate, flux.
  const sigma = Number.isFinite(input.noiseSigma) && input.noiseSigma > 0 ? input.noiseSigma : undefined;
  const [unit, perUnit] = sigma === undefined ? ['µJy / pixel', input.uJyPerUnit] : ['noise σ', 1 / sigma];
  const linearTicks = (lo: number, hi: number, count: number): [number, string][] => Array.from({ length: count }, (_, k) => [k / (count - 1), tickLabel((lo + ((hi - lo) * k) / (count - 1)) * perUnit)]);
  const scales: Record<TileKind, TileScale> = {
    image: {
      colormap: 'grey',
      stretch: image.stretch,
      ticks: [0, 1 / 3, 2 / 3, 1].map((t) => [t, tickLabel(image.inverse(t) * input.uJyPerUnit)]),
      label: 'flux [µJy / pixel], asinh',
    },
    residual: { colormap: 'coolwarm', stretch: (v) => 0.5 + v / (2 * residualLimit), ticks: linearTicks(-residualLimit, residualLimit, 5), label: `residual [${unit}]` },
    spread: { colormap: 'viridis', stretch: (v) => v / spreadLimit, ticks: linearTicks(0, spreadLimit, 3), label: `sd of regenerations [${unit}]` },
  };
  return { offsets, indices, mean, residual, afterFit, spreadImage, scales };
}

/** The image, its pixels replicated `scale` times, as PNG bytes: crisp in every viewer, whatever it does when scaling images. */
function tilePng(view: Regeneration, values: Float32Array, size: number, scale: number, kind: TileKind): Buffer {
  const canvas = new Canvas(size * scale, size * scale);
  const { stretch, colormap } = view.scales[kind];
  canvas.drawImage(values, size, size, 0, 0, { scale, stretch, colormap, flipY: true, nanColor: MASKED });
  return encodePng(canvas.toImage());
}

const TILE = 192;
const TITLE_HEIGHT = 22;
const BAR_HEIGHT = 10;
const BELOW = 62;
const GAP = 22;
const MARGIN = 16;
const CELL = TILE + GAP;
const ROW_HEIGHT = TITLE_HEIGHT + TILE + BELOW;
const COLUMNS = 5;
const WIDTH = 2 * MARGIN + COLUMNS * TILE + (COLUMNS - 1) * GAP;
const INK = '#1a1a1a';
const rgb = ([r, g, b]: Rgb): string => `rgb(${r},${g},${b})`;

/** Words to lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

function text(x: number, y: number, content: string, options: { size?: number; weight?: 'bold'; anchor?: 'start' | 'middle' | 'end'; fill?: string; halo?: boolean } = {}): string {
  const attributes = [
    `x="${x}"`,
    `y="${y}"`,
    `font-size="${options.size ?? 12}"`,
    options.weight === undefined ? '' : `font-weight="${options.weight}"`,
    options.anchor === undefined ? '' : `text-anchor="${options.anchor}"`,
    `fill="${options.fill ?? INK}"`,
    // A dark outline under light text: legible on the sky and on a saturated core.
    options.halo === true ? 'stroke="black" stroke-width="3" stroke-linejoin="round" paint-order="stroke"' : '',
  ].filter((a) => a !== '');
  return `<text ${attributes.join(' ')}>${escapeXml(content)}</text>`;
}

const TILE_TITLE_SIZE = 13;

/**
 * A tile's title in lines no wider than the tile, measured with the font's own widths: one line, or
 * two where it is longer (the first raised into the space above the tile).
 */
function titleLines(title: string): string[] {
  const fits = (line: string) => figureFontMetrics().bold.width(line) * TILE_TITLE_SIZE <= TILE;
  if (fits(title)) return [title];
  const words = title.split(' ');
  for (let k = words.length - 1; k > 0; k--) {
    const first = words.slice(0, k).join(' ');
    if (fits(first)) return [first, words.slice(k).join(' ')];
  }
  return [title];
}

function colorBarSvg(scale: TileScale, x: number, y: number): string {
  const ticks = scale.ticks.map(([t, label], k) => {
    const tx = x + t * TILE;
    const anchor = k === 0 ? 'start' : k === scale.ticks.length - 1 ? 'end' : 'middle';
    return `<line x1="${tx}" y1="${y + BAR_HEIGHT}" x2="${tx}" y2="${y + BAR_HEIGHT + 4}" stroke="${INK}"/>${text(tx, y + BAR_HEIGHT + 15, label, { size: 10, anchor })}`;
  });
  return [
    `<rect x="${x}" y="${y}" width="${TILE}" height="${BAR_HEIGHT}" fill="url(#cmap-${scale.colormap})" stroke="${INK}" stroke-width="0.8"/>`,
    ...ticks,
    text(x + TILE / 2, y + BAR_HEIGHT + 30, scale.label, { size: 11, anchor: 'middle' }),
  ].join('');
}

function gradientDefs(): string {
  const names: ColormapName[] = ['grey', 'coolwarm', 'viridis'];
  return names
    .map((name) => {
      const stops = Array.from({ length: 17 }, (_, k) => `<stop offset="${k / 16}" stop-color="${rgb(colormapColor(name, k / 16))}"/>`);
      return `<linearGradient id="cmap-${name}" x1="0" y1="0" x2="1" y2="0">${stops.join('')}</linearGradient>`;
    })
    .join('');
}

interface Tile {
  readonly title: string;
  readonly values: Float32Array;
  readonly size: number;
  readonly kind: TileKind;
}

function tileSvg(view: Regeneration, tile: Tile, x: number, y: number, scaleArcsec: number): string {
  const scale = TILE / tile.size;
  const png = tilePng(view, tile.values, tile.size, Math.round(scale), tile.kind);
  const top = y + TITLE_HEIGHT;
  const edges = maskEdges(tile.size, view.offsets)
    .map(([x0, y0, x1, y1]) => `M${x + x0 * scale},${top + y0 * scale}L${x + x1 * scale},${top + y1 * scale}`)
    .join('');
  // 1" on the 6.4" crop, 0.5" on the 1.5" zooms: long enough to see, short enough to leave the centre clear.
  const arcsec = tile.size * scaleArcsec > 3 ? 1 : 0.5;
  const barLength = (arcsec / scaleArcsec) * scale;
  const barX = x + 8;
  const barY = top + TILE - 12;
  return [
    ...titleLines(tile.title).map((line, k, lines) => text(x, y + 15 - 14 * (lines.length - 1 - k), line, { size: TILE_TITLE_SIZE, weight: 'bold' })),
    `<image x="${x}" y="${top}" width="${TILE}" height="${TILE}" image-rendering="optimizeSpeed" href="data:image/png;base64,${png.toString('base64')}"/>`,
    `<path d="${edges}" stroke="${rgb(OUTLINE)}" stroke-width="1.5" fill="none"/>`,
    `<rect x="${barX}" y="${barY}" width="${barLength}" height="4" fill="white" stroke="black" stroke-width="1.5"/>`,
    text(barX + barLength / 2, barY - 5, `${arcsec}″`, { size: 13, weight: 'bold', anchor: 'middle', fill: 'white', halo: true }),
    `<rect x="${x}" y="${top}" width="${TILE}" height="${TILE}" fill="none" stroke="${INK}" stroke-width="0.8"/>`,
    colorBarSvg(view.scales[tile.kind], x, top + TILE + 6),
  ].join('\n');
}

export function renderInspectionPanel(input: PanelInput): Figure {
  const { crop, side, samples, sampleCount } = input;
  const scaleArcsec = input.pixelScaleArcsec ?? 0.1;
  const view = regeneration(input);
  const { indices, mean, residual, afterFit, spreadImage } = view;
  const pixels = indices.length;
  // What the model saw: the context less the fitted point source where the joint fit subtracted one.
  const masked = withCore(input.modelInput ?? crop, indices, new Float32Array(pixels).fill(Number.NaN));
  const modelInputTitle = input.modelInput === undefined ? 'Model input: core masked' : 'Model input: observed minus fitted point source';
  const zoom = (image: Float32Array) => zoomOf(image, side);
  const cropSize = `${(side * scaleArcsec).toFixed(1)}″`;
  const rows: Tile[][] = [
    [
      { title: `Observed (${cropSize})`, values: crop, size: side, kind: 'image' },
      { title: modelInputTitle, values: masked, size: side, kind: 'image' },
      { title: 'Observed, central 1.5″', values: zoom(crop), size: ZOOM, kind: 'image' },
      { title: `Mean of ${sampleCount} regenerations`, values: zoom(withCore(crop, indices, mean)), size: ZOOM, kind: 'image' },
      { title: 'Observed − mean', values: zoom(residual), size: ZOOM, kind: 'residual' },
    ],
    [
      ...Array.from({ length: Math.min(SAMPLE_PANELS, sampleCount) }, (_, s): Tile => ({ title: `Regeneration ${s + 1}`, values: zoom(withCore(crop, indices, samples, s * pixels)), size: ZOOM, kind: 'image' })),
      { title: 'Spread of regenerations', values: zoom(spreadImage), size: ZOOM, kind: 'spread' },
      { title: 'Residual − fitted PSF', values: zoom(afterFit), size: ZOOM, kind: 'residual' },
    ],
  ];

  const summary = input.summary.flatMap((sentence) => wrap(sentence, 150));
  const parts: string[] = [text(MARGIN, MARGIN + 16, input.title, { size: 18, weight: 'bold' })];
  let y = MARGIN + 42;
  for (const line of summary) {
    parts.push(text(MARGIN, y, line, { size: 14 }));
    y += 20;
  }
  y += 10;
  for (const row of rows) {
    row.forEach((tile, k) => parts.push(tileSvg(view, tile, MARGIN + k * CELL, y, scaleArcsec)));
    y += ROW_HEIGHT;
  }
  parts.push(text(MARGIN, y, `Orange outline: the ${pixels} core pixels the model regenerates. Images share one asinh stretch; residuals one symmetric scale. North up, east left.`, { size: 11, fill: '#444' }));
  y += 22;
  for (const line of input.lines) {
    parts.push(text(MARGIN, y, line, { size: 11, fill: '#444' }));
    y += 16;
  }
  const height = y + MARGIN;
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${FONT_FAMILY}, sans-serif">`,
    `<defs>${gradientDefs()}</defs>`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
  return { svg, width: WIDTH, height, pngScale: 1 };
}

const THUMB_SCALE = 4;
const THUMB_GAP = 2;
export const THUMBNAIL_SIZE = { width: 3 * ZOOM * THUMB_SCALE + 2 * THUMB_GAP, height: ZOOM * THUMB_SCALE } as const;

/**
 * The panel's three central images in a strip for tables of candidates: the zoomed centre as
 * observed, with the mean regeneration in its core, and the residual, at the panel's stretches.
 */
export function renderThumbnail(input: PanelInput): RasterImage {
  const view = regeneration(input);
  const size = ZOOM * THUMB_SCALE;
  const canvas = new Canvas(THUMBNAIL_SIZE.width, THUMBNAIL_SIZE.height);
  const tiles: [Float32Array, TileKind][] = [
    [input.crop, 'image'],
    [withCore(input.crop, view.indices, view.mean), 'image'],
    [view.residual, 'residual'],
  ];
  const edges = maskEdges(ZOOM, view.offsets);
  tiles.forEach(([image, kind], k) => {
    const x = k * (size + THUMB_GAP);
    const { stretch, colormap } = view.scales[kind];
    canvas.drawImage(zoomOf(image, input.side), ZOOM, ZOOM, x, 0, { scale: THUMB_SCALE, stretch, colormap, flipY: true, nanColor: MASKED });
    for (const [x0, y0, x1, y1] of edges) canvas.line(x + x0 * THUMB_SCALE, y0 * THUMB_SCALE, x + x1 * THUMB_SCALE, y1 * THUMB_SCALE, OUTLINE);
  });
  return canvas.toImage();
}

/**
 * The inspection panel of one source: what an astronomer would otherwise assemble by hand in ds9 and
 * matplotlib. Top row: the model's 6.4" crop as observed and as the model saw it (core masked), then
 * the central 1.5" zoomed: observed, mean regeneration, residual. Bottom row, zoomed: individual
 * samples, the per-pixel spread of the samples, and the residual left after the PSF fit. Images share
 * one asinh stretch, residuals one symmetric diverging scale; the mask is outlined.
 */

import { coreOffsets, type CoreMask } from '../model/geometry.js';
import { asinhStretch, Canvas, colorBar, type ColormapName, type Rgb } from './raster.js';
import type { RasterImage } from './png.js';

export interface PanelInput {
  readonly title: string;
  /** side x side core-centred crop, row 0 at the bottom (FITS order). */
  readonly crop: Float32Array;
  readonly side: number;
  readonly mask: CoreMask;
  /** sampleCount x core pixels, image units. */
  readonly samples: Float32Array;
  readonly sampleCount: number;
  /** The PSF under the core (unit total flux) and its fitted flux. */
  readonly psfWeights: ArrayLike<number>;
  readonly psFlux: number;
  /** Score lines printed under the images. */
  readonly lines: readonly string[];
  readonly pixelScaleArcsec?: number;
}

const ZOOM = 15;
const CROP_SCALE = 3;
const ZOOM_SCALE = 12;
const GAP = 14;
const LABEL = 22;
const TEXT: Rgb = [20, 20, 20];
const OUTLINE: Rgb = [255, 140, 0];
const SAMPLE_PANELS = 3;

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

/** Outline of the mask: the edges of core pixels that border non-core pixels. */
function outlineMask(canvas: Canvas, x: number, y: number, size: number, scale: number, offsets: readonly (readonly [number, number])[]): void {
  const centre = Math.floor(size / 2);
  const inCore = new Set(offsets.map(([dx, dy]) => `${dx},${dy}`));
  for (const [dx, dy] of offsets) {
    // Display rows run top-down while image rows run bottom-up.
    const left = x + (centre + dx) * scale;
    const top = y + (size - 1 - (centre + dy)) * scale;
    if (!inCore.has(`${dx - 1},${dy}`)) canvas.line(left, top, left, top + scale, OUTLINE);
    if (!inCore.has(`${dx + 1},${dy}`)) canvas.line(left + scale, top, left + scale, top + scale, OUTLINE);
    if (!inCore.has(`${dx},${dy + 1}`)) canvas.line(left, top, left + scale, top, OUTLINE);
    if (!inCore.has(`${dx},${dy - 1}`)) canvas.line(left, top + scale, left + scale, top + scale, OUTLINE);
  }
}

function scaleBar(canvas: Canvas, x: number, y: number, pixels: number, label: string): void {
  canvas.fillRect(x, y, pixels, 3, [255, 255, 255]);
  canvas.text(x + pixels / 2, y - 12, label, [255, 255, 255], { align: 'center' });
}

type TileKind = 'image' | 'residual' | 'spread';

/** What the panel and the thumbnail derive from the samples, and the stretches they share. */
interface Regeneration {
  readonly offsets: readonly (readonly [number, number])[];
  readonly indices: readonly number[];
  /** Per core pixel. */
  readonly mean: Float64Array;
  /** side x side images, zero outside the core. */
  readonly residual: Float32Array;
  readonly afterFit: Float32Array;
  readonly spreadImage: Float32Array;
  readonly stretch: Readonly<Record<TileKind, (value: number) => number>>;
  readonly residualLimit: number;
}

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
  const stretch = {
    // Up to the brightest pixel, so the core the whole panel is about is never saturated.
    image: asinhStretch(crop, { hi: Math.max(...crop) }),
    residual: (v: number): number => 0.5 + v / (2 * residualLimit),
    spread: (v: number): number => v / residualLimit,
  };
  return { offsets, indices, mean, residual, afterFit, spreadImage, stretch, residualLimit };
}

const COLORMAPS: Readonly<Record<TileKind, ColormapName>> = { image: 'grey', residual: 'coolwarm', spread: 'viridis' };
const MASKED: Rgb = [90, 90, 90];

/** One size x size image with its top-left corner at (x, top), the mask outlined. */
function drawTile(canvas: Canvas, view: Regeneration, values: Float32Array, size: number, scale: number, x: number, top: number, kind: TileKind): void {
  canvas.drawImage(values, size, size, x, top, { scale, stretch: view.stretch[kind], colormap: COLORMAPS[kind], flipY: true, nanColor: MASKED });
  outlineMask(canvas, x, top, size, scale, view.offsets);
}

export function renderInspectionPanel(input: PanelInput): RasterImage {
  const { crop, side, samples, sampleCount } = input;
  const scaleArcsec = input.pixelScaleArcsec ?? 0.1;
  const view = regeneration(input);
  const { indices, mean, residual, afterFit, spreadImage, residualLimit } = view;
  const pixels = indices.length;
  const masked = withCore(crop, indices, new Float32Array(pixels).fill(Number.NaN));

  const cropPx = side * CROP_SCALE;
  const zoomPx = ZOOM * ZOOM_SCALE;
  const rowHeight = Math.max(cropPx, zoomPx) + LABEL;
  const bar = 96;
  const width = GAP + 2 * (cropPx + GAP) + 3 * (zoomPx + GAP) + bar;
  const textTop = 40 + 2 * rowHeight + GAP;
  const height = textTop + 16 * input.lines.length + GAP;
  const canvas = new Canvas(width, height);
  canvas.text(GAP, 12, input.title, TEXT, { scale: 2 });

  const y1 = 40;
  const y2 = y1 + rowHeight;
  const panel = (values: Float32Array, size: number, scale: number, x: number, y: number, label: string, kind: TileKind): void => {
    canvas.text(x, y, label, TEXT);
    const top = y + LABEL - 8;
    drawTile(canvas, view, values, size, scale, x, top, kind);
    if (size === side) scaleBar(canvas, x + 8, top + size * scale - 10, Math.round((1 / scaleArcsec) * scale), '1"');
    else scaleBar(canvas, x + 8, top + size * scale - 10, Math.round((0.5 / scaleArcsec) * scale), '0.5"');
  };

  let x = GAP;
  panel(crop, side, CROP_SCALE, x, y1, 'observed (6.4")', 'image');
  x += cropPx + GAP;
  panel(masked, side, CROP_SCALE, x, y1, 'model input (core masked)', 'image');
  x += cropPx + GAP;
  panel(zoomOf(crop, side), ZOOM, ZOOM_SCALE, x, y1, 'observed, centre', 'image');
  x += zoomPx + GAP;
  panel(zoomOf(withCore(crop, indices, mean), side), ZOOM, ZOOM_SCALE, x, y1, `mean of ${sampleCount} regenerations`, 'image');
  x += zoomPx + GAP;
  panel(zoomOf(residual, side), ZOOM, ZOOM_SCALE, x, y1, 'residual obs - mean', 'residual');

  x = GAP;
  for (let s = 0; s < Math.min(SAMPLE_PANELS, sampleCount); s++) {
    panel(zoomOf(withCore(crop, indices, samples, s * pixels), side), ZOOM, ZOOM_SCALE, x, y2, `sample ${s + 1}`, 'image');
    x += zoomPx + GAP;
  }
  panel(zoomOf(spreadImage, side), ZOOM, ZOOM_SCALE, x, y2, 'sample spread (sd)', 'spread');
  x += zoomPx + GAP;
  panel(zoomOf(afterFit, side), ZOOM, ZOOM_SCALE, x, y2, 'residual - PSF fit', 'residual');

  const barX = width - bar + 4;
  colorBar(canvas, barX, y1 + LABEL, 14, zoomPx - 10, 'grey', Math.min(...crop), Math.max(...crop), 'image');
  colorBar(canvas, barX, y2 + LABEL, 14, zoomPx - 10, 'coolwarm', -residualLimit, residualLimit, 'residual');

  input.lines.forEach((line, i) => canvas.text(GAP, textTop + 16 * i, line, TEXT));
  return canvas.toImage();
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
  tiles.forEach(([image, kind], k) => drawTile(canvas, view, zoomOf(image, input.side), ZOOM, THUMB_SCALE, k * (size + THUMB_GAP), 0, kind));
  return canvas.toImage();
}

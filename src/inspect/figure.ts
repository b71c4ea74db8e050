/**
 * Every figure vis-agn draws exists as SVG (for the HTML report, papers, zooming) and as PNG (for
 * terminals, notebooks, README). PNGs are rasterised from the SVG by resvg with DejaVu Sans loaded
 * from the dejavu-fonts-ttf package, never from the system: the same bytes on every machine, and
 * text that renders on a bare CI image without any font installed.
 */

import { createRequire } from 'node:module';
import path from 'node:path';

import { renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';

import { writeAtomically } from '../atomic-file.js';

export interface Figure {
  readonly svg: string;
  /** CSS pixels: the SVG's own size, and the PNG's at scale 1. */
  readonly width: number;
  readonly height: number;
  /** PNG pixels per SVG pixel: charts are rasterised at 2 for sharp text, image panels at 1 (their pixels are already replicated). */
  readonly pngScale: number;
}

export const FONT_FAMILY = 'DejaVu Sans';

const require = createRequire(import.meta.url);
export const FONT_PATHS = { regular: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'), bold: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf') } as const;
const FONT_FILES = [FONT_PATHS.regular, FONT_PATHS.bold];

/** The PNG, rasterised on libuv's thread pool so a report's panels encode in parallel. */
export async function figurePng(figure: Figure): Promise<Buffer> {
  const options: ResvgRenderOptions = {
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
    fitTo: { mode: 'zoom', value: figure.pngScale },
    background: 'white',
  };
  return (await renderAsync(figure.svg, options)).asPng();
}

/** The figure as `<base>.svg` and `<base>.png`, each written atomically; returns both paths. */
export async function writeFigure(base: string, figure: Figure): Promise<{ svg: string; png: string }> {
  const files = { svg: `${base}.svg`, png: `${base}.png` };
  await writeAtomically(files.svg, (file) => file.write(Buffer.from(figure.svg)));
  const png = await figurePng(figure);
  await writeAtomically(files.png, (file) => file.write(png));
  return files;
}

/** A figure path given with or without .svg/.png, as the base writeFigure takes. */
export function figureBase(file: string): string {
  const ext = path.extname(file).toLowerCase();
  return ext === '.png' || ext === '.svg' ? file.slice(0, -ext.length) : file;
}

const XML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe in SVG element content and quoted attributes. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => XML_ESCAPES[char]!);
}

/**
 * The SVG with every id (and every reference to one) prefixed, so several figures can sit inline in
 * one HTML page without one figure's clip paths or gradients resolving to another's.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_, id: string) => `href="#${prefix}-${id}"`);
}

/**
 * Every figure vis-agn draws exists as SVG (for the HTML report, papers, zooming) and as PNG (for
 * terminals, notebooks, README). PNGs are rasterised from the SVG by resvg with DejaVu Sans loaded
 * from the dejavu-fonts-ttf package, never from the system: the same bytes on every machine, and
 * text that renders on a bare CI image without any font installed. The SVG files keep their text as
 * <text> (selectable, searchable, read by screen readers); the PNG route hands resvg the same text as
 * paths outlined here from the same font, because resvg shapes and outlines every glyph of every
 * <text> anew (about 45 µs a glyph: 70 of the 105 ms an inspection panel took to rasterise).
 */

import { createRequire } from 'node:module';
import path from 'node:path';

import { renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';

import { writeAtomically } from '../atomic-file.js';
import { loadFontMetrics, type FontMetrics } from './font-metrics.js';

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

let fontMetrics: { readonly regular: FontMetrics; readonly bold: FontMetrics } | undefined;

/** The widths and outlines of the figure font, regular and bold, read once per process. */
export function figureFontMetrics(): { readonly regular: FontMetrics; readonly bold: FontMetrics } {
  fontMetrics ??= { regular: loadFontMetrics(FONT_PATHS.regular), bold: loadFontMetrics(FONT_PATHS.bold) };
  return fontMetrics;
}

/** Whether a font-weight selects the bold face, as resvg matches the two faces it is given. */
export function isBold(weight: string | number | undefined): boolean {
  return weight === 'bold' || weight === 'bolder' || Number(weight) >= 600;
}

/** Attributes a <text> may carry to be drawn as a path: these, aria-* and role. Anything else (dx, rotate, style, class, id, ...) keeps it a <text>. */
const TEXT_ATTRIBUTES = new Set(['x', 'y', 'font-size', 'font-weight', 'font-family', 'text-anchor']);
/** Painting attributes a text's path keeps as they are. */
const PAINT_ATTRIBUTES = new Set(['fill', 'fill-opacity', 'stroke', 'stroke-width', 'stroke-linejoin', 'stroke-opacity', 'opacity', 'paint-order', 'transform']);
/** Text properties that, set outside a <text> (inherited) or in a stylesheet, would change how its text is laid out. */
const INHERITED_TEXT = /\s(?:font-(?!family=)[\w-]+|text-anchor|letter-spacing|word-spacing|dominant-baseline|alignment-baseline|baseline-shift|xml:space|writing-mode|direction|unicode-bidi|text-decoration|style)\s*=|<style\b/;
const ATTRIBUTE = /\s+([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
/** Any <text> element, children and all (text elements do not nest). */
const ANY_TEXT_ELEMENT = /<text\b[\s\S]*?<\/text>/g;
/** A <text> with attributes and character data only (no <tspan> or other child). */
const TEXT_ELEMENT = /<text((?:\s+[\w:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*>([^<]*)<\/text>/g;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

const XML_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Character data with XML's five named entities and numeric references replaced by their characters. */
function decodeXml(text: string): string {
  return text.replace(/&(?:#x([0-9a-fA-F]+)|#(\d+)|(amp|lt|gt|quot|apos));/g, (_, hex: string | undefined, decimal: string | undefined, name: string | undefined) =>
    hex !== undefined ? String.fromCodePoint(parseInt(hex, 16)) : decimal !== undefined ? String.fromCodePoint(parseInt(decimal, 10)) : XML_ENTITIES[name!]!,
  );
}

/**
 * One <text> as a <path> drawing the same glyphs at the same place, with the same paint; undefined
 * where it uses something the outlines do not reproduce (a length unit, a list of x, a glyph the font
 * lacks), so it is left to resvg.
 */
function textPath(attributes: string, content: string): string | undefined {
  const text = new Map<string, string>();
  const paint: string[] = [];
  for (const [, name, double, single] of attributes.matchAll(ATTRIBUTE)) {
    const value = double ?? single!;
    if (TEXT_ATTRIBUTES.has(name!)) text.set(name!, value);
    else if (PAINT_ATTRIBUTES.has(name!) || name!.startsWith('aria-') || name === 'role') paint.push(` ${name}=${double !== undefined ? `"${value}"` : `'${value}'`}`);
    else return undefined;
  }
  const [x, y] = [text.get('x') ?? '0', text.get('y') ?? '0'];
  const size = /^(.*?)(px)?$/.exec(text.get('font-size') ?? '')![1]!;
  if (![x, y, size].every((value) => NUMBER.test(value.trim()))) return undefined;
  // xml:space="default": newlines dropped, tabs to spaces, leading and trailing spaces stripped, runs of spaces collapsed.
  const characters = decodeXml(content.replace(/[\r\n]/g, '')).replace(/\t/g, ' ').trim().replace(/ {2,}/g, ' ');
  const font = isBold(text.get('font-weight')) ? figureFontMetrics().bold : figureFontMetrics().regular;
  if (!font.covers(characters)) return undefined;
  const anchor = text.get('text-anchor') ?? 'start';
  const shift = anchor === 'middle' ? 0.5 : anchor === 'end' ? 1 : anchor === 'start' ? 0 : undefined;
  if (shift === undefined) return undefined;
  const em = Number(size);
  const d = font.outline(characters, Number(x) - shift * font.kernedWidth(characters) * em, Number(y), em);
  return d === '' ? '' : `<path d="${d}"${paint.join('')}/>`;
}

/**
 * The SVG with its text drawn as paths from the figure font, as resvg would draw it but outlined once
 * per glyph here: what figurePng hands resvg. A <text> with children or attributes the outlines do
 * not reproduce stays text, and so does all of it where text properties are inherited or styled.
 */
export function svgTextAsPaths(svg: string): string {
  if (INHERITED_TEXT.test(svg.replace(ANY_TEXT_ELEMENT, ''))) return svg;
  return svg.replace(TEXT_ELEMENT, (element, attributes: string, content: string) => textPath(attributes, content) ?? element);
}

/** The PNG, rasterised on libuv's thread pool so a report's panels encode in parallel; its text drawn as paths (svgTextAsPaths). */
export async function figurePng(figure: Figure): Promise<Buffer> {
  const options: ResvgRenderOptions = {
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
    fitTo: { mode: 'zoom', value: figure.pngScale },
    background: 'white',
  };
  return (await renderAsync(svgTextAsPaths(figure.svg), options)).asPng();
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

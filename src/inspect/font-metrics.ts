/**
 * Advance widths of the figure font, read from its TrueType file (head, hhea, hmtx and the Unicode
 * cmap). Vega lays out axes, legends and titles from text widths; without a browser or node-canvas
 * it guesses 0.8 em per character, which leaves wide gaps and makes long titles push the whole chart
 * sideways. With the font's own widths the layout fits the text resvg and browsers draw.
 */

import { readFileSync } from 'node:fs';

export interface FontMetrics {
  /** Width of `text` in em, without kerning. */
  readonly width: (text: string) => number;
}

function table(font: Buffer, tag: string): number {
  const count = font.readUInt16BE(4);
  for (let i = 0; i < count; i++) {
    const record = 12 + 16 * i;
    if (font.toString('latin1', record, record + 4) === tag) return font.readUInt32BE(record + 8);
  }
  throw new Error(`font has no ${tag} table`);
}

/** Glyph index of each BMP code point, from the cmap's (3, 1) format-4 subtable. */
function glyphLookup(font: Buffer): (code: number) => number {
  const cmap = table(font, 'cmap');
  const subtables = font.readUInt16BE(cmap + 2);
  let offset = -1;
  for (let i = 0; i < subtables; i++) {
    const record = cmap + 4 + 8 * i;
    if (font.readUInt16BE(record) === 3 && font.readUInt16BE(record + 2) === 1) offset = cmap + font.readUInt32BE(record + 4);
  }
  if (offset < 0 || font.readUInt16BE(offset) !== 4) throw new Error('font has no Unicode BMP cmap (format 4)');
  const segments = font.readUInt16BE(offset + 6) / 2;
  const ends = offset + 14;
  const starts = ends + 2 * segments + 2;
  const deltas = starts + 2 * segments;
  const rangeOffsets = deltas + 2 * segments;
  return (code) => {
    for (let s = 0; s < segments; s++) {
      if (code > font.readUInt16BE(ends + 2 * s)) continue;
      const start = font.readUInt16BE(starts + 2 * s);
      if (code < start) return 0;
      const delta = font.readInt16BE(deltas + 2 * s);
      const rangeOffset = font.readUInt16BE(rangeOffsets + 2 * s);
      if (rangeOffset === 0) return (code + delta) & 0xffff;
      const glyph = font.readUInt16BE(rangeOffsets + 2 * s + rangeOffset + 2 * (code - start));
      return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
    }
    return 0;
  };
}

export function loadFontMetrics(file: string): FontMetrics {
  const font = readFileSync(file);
  const unitsPerEm = font.readUInt16BE(table(font, 'head') + 18);
  const metricsCount = font.readUInt16BE(table(font, 'hhea') + 34);
  const hmtx = table(font, 'hmtx');
  const glyphOf = glyphLookup(font);
  const advance = (glyph: number): number => font.readUInt16BE(hmtx + 4 * Math.min(glyph, metricsCount - 1));
  const cache = new Map<number, number>();
  const charWidth = (code: number): number => {
    let width = cache.get(code);
    if (width === undefined) {
      width = advance(code > 0xffff ? 0 : glyphOf(code)) / unitsPerEm;
      cache.set(code, width);
    }
    return width;
  };
  return {
    width: (text) => {
      let width = 0;
      for (const char of text) width += charWidth(char.codePointAt(0)!);
      return width;
    },
  };
}

/**
 * Advance widths and glyph outlines of the figure font, read from its TrueType file (head, hhea,
 * hmtx, the Unicode cmap, loca, glyf and kern). Vega lays out axes, legends and titles from text
 * widths; without a browser or node-canvas it guesses 0.8 em per character, which leaves wide gaps
 * and makes long titles push the whole chart sideways. With the font's own widths the layout fits the
 * text resvg and browsers draw. The outlines let a figure hand resvg its text as paths: resvg shapes
 * and outlines every glyph of every <text> anew (about 45 µs a glyph, 70 ms for an inspection panel's
 * 1,560), while the same text as paths of glyphs outlined once here costs about 3 ms to write and
 * 1 ms for resvg to draw.
 */

import { readFileSync } from 'node:fs';

export interface FontMetrics {
  /** Width of `text` in em, without kerning. */
  readonly width: (text: string) => number;
  /**
   * `text` as SVG path data, `size` user units per em, its baseline starting at (x, y), y down; with
   * the font's standard ligatures and kerned by its kern table, as resvg's shaper draws it (its GPOS
   * kerning and the kern table place glyphs alike: test/inspect/figure.test.ts compares the two).
   */
  readonly outline: (text: string, x: number, y: number, size: number) => string;
  /** The advance of `text` as `outline` draws it, in em: kerned. */
  readonly kernedWidth: (text: string) => number;
  /** Whether the font has a glyph for every character of `text` (else resvg would draw it from another font, or a box). */
  readonly covers: (text: string) => boolean;
}

function findTable(font: Buffer, tag: string): number | undefined {
  const count = font.readUInt16BE(4);
  for (let i = 0; i < count; i++) {
    const record = 12 + 16 * i;
    if (font.toString('latin1', record, record + 4) === tag) return font.readUInt32BE(record + 8);
  }
  return undefined;
}

function table(font: Buffer, tag: string): number {
  const offset = findTable(font, tag);
  if (offset === undefined) throw new Error(`font has no ${tag} table`);
  return offset;
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

/** A glyph's closed contours in font units (y up): each point, and whether it lies on the curve or is a quadratic control point. */
interface Contour {
  readonly x: number[];
  readonly y: number[];
  readonly on: boolean[];
}

function simpleContours(font: Buffer, start: number, count: number): Contour[] {
  const ends = Array.from({ length: count }, (_, c) => font.readUInt16BE(start + 10 + 2 * c));
  const points = count === 0 ? 0 : ends[count - 1]! + 1;
  let p = start + 10 + 2 * count;
  p += 2 + font.readUInt16BE(p); // past the hinting instructions
  const flags = new Uint8Array(points);
  for (let i = 0; i < points; ) {
    const flag = font[p++]!;
    flags[i++] = flag;
    if (flag & 0x08) for (let repeat = font[p++]!; repeat > 0 && i < points; repeat--) flags[i++] = flag;
  }
  // Each coordinate is a delta from the previous point: a byte whose sign a flag gives, none (same as before), or an int16.
  const coordinates = (short: number, sameOrPositive: number): number[] => {
    let value = 0;
    return Array.from(flags, (flag) => {
      if (flag & short) value += flag & sameOrPositive ? font[p++]! : -font[p++]!;
      else if (!(flag & sameOrPositive)) {
        value += font.readInt16BE(p);
        p += 2;
      }
      return value;
    });
  };
  const xs = coordinates(0x02, 0x10);
  const ys = coordinates(0x04, 0x20);
  return ends.map((last, c) => {
    const first = c === 0 ? 0 : ends[c - 1]! + 1;
    return { x: xs.slice(first, last + 1), y: ys.slice(first, last + 1), on: Array.from(flags.subarray(first, last + 1), (flag) => (flag & 0x01) === 1) };
  });
}

/** The outlines of every glyph, read on first use: from glyf through loca, composite glyphs assembled from their components. */
function glyphContours(font: Buffer): (glyph: number) => Contour[] {
  const glyf = table(font, 'glyf');
  const loca = table(font, 'loca');
  const longOffsets = font.readInt16BE(table(font, 'head') + 50) === 1;
  const offset = (glyph: number) => glyf + (longOffsets ? font.readUInt32BE(loca + 4 * glyph) : 2 * font.readUInt16BE(loca + 2 * glyph));
  const f2dot14 = (at: number) => font.readInt16BE(at) / 16384;
  const cache = new Map<number, Contour[]>();
  const contours = (glyph: number): Contour[] => {
    const known = cache.get(glyph);
    if (known !== undefined) return known;
    const start = offset(glyph);
    const count = start < offset(glyph + 1) ? font.readInt16BE(start) : 0;
    const result: Contour[] = count >= 0 ? simpleContours(font, start, count) : [];
    let p = start + 10;
    for (let more = count < 0; more; ) {
      const flags = font.readUInt16BE(p);
      const component = font.readUInt16BE(p + 2);
      const words = (flags & 0x01) !== 0;
      const [dx, dy] = words ? [font.readInt16BE(p + 4), font.readInt16BE(p + 6)] : [font.readInt8(p + 4), font.readInt8(p + 5)];
      p += words ? 8 : 6;
      if (!(flags & 0x02)) throw new Error(`glyph ${glyph}: components placed by matching points are not supported`);
      let [a, b, c, d] = [1, 0, 0, 1];
      if (flags & 0x08) {
        a = d = f2dot14(p);
        p += 2;
      } else if (flags & 0x40) {
        [a, d] = [f2dot14(p), f2dot14(p + 2)];
        p += 4;
      } else if (flags & 0x80) {
        [a, b, c, d] = [f2dot14(p), f2dot14(p + 2), f2dot14(p + 4), f2dot14(p + 6)];
        p += 8;
      }
      for (const part of contours(component)) {
        result.push({ x: part.x.map((x, i) => a * x + c * part.y[i]! + dx), y: part.x.map((x, i) => b * x + d * part.y[i]! + dy), on: part.on });
      }
      more = (flags & 0x20) !== 0;
    }
    cache.set(glyph, result);
    return result;
  };
  return contours;
}

/** Horizontal kerning of a glyph pair in font units, from the kern table's format-0 subtables. */
function kerningPairs(font: Buffer): (left: number, right: number) => number {
  const pairs = new Map<number, number>();
  const kern = findTable(font, 'kern');
  if (kern !== undefined && font.readUInt16BE(kern) === 0) {
    let p = kern + 4;
    for (let t = font.readUInt16BE(kern + 2); t > 0; t--) {
      const coverage = font.readUInt16BE(p + 4);
      // Format 0, horizontal, kerning values (not minimums), not cross-stream.
      if ((coverage & 0xff0f) === 0x0001) {
        const count = font.readUInt16BE(p + 6);
        for (let i = 0; i < count; i++) {
          const at = p + 14 + 6 * i;
          pairs.set(font.readUInt16BE(at) * 0x10000 + font.readUInt16BE(at + 2), font.readInt16BE(at + 4));
        }
      }
      p += font.readUInt16BE(p + 2);
    }
  }
  return (left, right) => pairs.get(left * 0x10000 + right) ?? 0;
}

/** The glyphs a coverage table lists, in coverage order. */
function coverageGlyphs(font: Buffer, at: number): number[] {
  const count = font.readUInt16BE(at + 2);
  if (font.readUInt16BE(at) === 1) return Array.from({ length: count }, (_, i) => font.readUInt16BE(at + 4 + 2 * i));
  const glyphs: number[] = [];
  for (let r = 0; r < count; r++) for (let g = font.readUInt16BE(at + 4 + 6 * r); g <= font.readUInt16BE(at + 6 + 6 * r); g++) glyphs.push(g);
  return glyphs;
}

/** A ligature: the glyphs after the first that it replaces, and the glyph that replaces them all. */
interface Ligature {
  readonly rest: readonly number[];
  readonly glyph: number;
}

/**
 * The standard ligatures (GSUB feature 'liga', ligature lookups), one map per lookup in the order they
 * apply, keyed by a ligature's first glyph, each list in the font's order of preference. resvg's shaper
 * applies them by default: DejaVu draws "fi", "fl" and "ff" as one glyph.
 */
function ligatureLookups(font: Buffer): Map<number, Ligature[]>[] {
  const gsub = findTable(font, 'GSUB');
  if (gsub === undefined) return [];
  const features = gsub + font.readUInt16BE(gsub + 6);
  const lookups = gsub + font.readUInt16BE(gsub + 8);
  const indices = new Set<number>();
  for (let f = 0; f < font.readUInt16BE(features); f++) {
    const record = features + 2 + 6 * f;
    if (font.toString('latin1', record, record + 4) !== 'liga') continue;
    const feature = features + font.readUInt16BE(record + 4);
    for (let l = 0; l < font.readUInt16BE(feature + 2); l++) indices.add(font.readUInt16BE(feature + 4 + 2 * l));
  }
  return [...indices]
    .sort((a, b) => a - b)
    .map((index) => {
      const lookup = lookups + font.readUInt16BE(lookups + 2 + 2 * index);
      const byFirst = new Map<number, Ligature[]>();
      for (let s = 0; s < font.readUInt16BE(lookup + 4); s++) {
        let subtable = lookup + font.readUInt16BE(lookup + 6 + 2 * s);
        let type = font.readUInt16BE(lookup);
        // An extension subtable points, 32 bits away, at the real one.
        if (type === 7) [type, subtable] = [font.readUInt16BE(subtable + 2), subtable + font.readUInt32BE(subtable + 4)];
        if (type !== 4) continue;
        coverageGlyphs(font, subtable + font.readUInt16BE(subtable + 2)).forEach((first, k) => {
          const set = subtable + font.readUInt16BE(subtable + 6 + 2 * k);
          for (let l = 0; l < font.readUInt16BE(set); l++) {
            const ligature = set + font.readUInt16BE(set + 2 + 2 * l);
            const rest = Array.from({ length: font.readUInt16BE(ligature + 2) - 1 }, (_, c) => font.readUInt16BE(ligature + 4 + 2 * c));
            byFirst.set(first, [...(byFirst.get(first) ?? []), { rest, glyph: font.readUInt16BE(ligature) }]);
          }
        });
      }
      return byFirst;
    });
}

/** `glyphs` with each lookup's ligatures applied in turn, left to right. */
function ligate(glyphs: number[], lookups: readonly Map<number, Ligature[]>[]): number[] {
  let out = glyphs;
  for (const byFirst of lookups) {
    const next: number[] = [];
    for (let i = 0; i < out.length; ) {
      const match = byFirst.get(out[i]!)?.find((ligature) => ligature.rest.every((glyph, c) => out[i + 1 + c] === glyph));
      next.push(match?.glyph ?? out[i]!);
      i += 1 + (match?.rest.length ?? 0);
    }
    out = next;
  }
  return out;
}

/** Path coordinates are rounded to 1 / STEPS user units (at 0.01, resvg's anti-aliasing of an edge differed now and then). */
const STEPS = 1000;
const coordinate = (value: number): string => String(Math.round(value * STEPS) / STEPS);

/** A path segment in steps of 1 / STEPS user units: move, line or quadratic curve to its last point, or close. */
type Segment = readonly ['M' | 'L', number, number] | readonly ['Q', number, number, number, number] | readonly ['Z'];

/** A contour as segments, `at` mapping font units to user units; a control point between two others implies the on-curve point halfway. */
function contourSegments(contour: Contour, at: (x: number, y: number) => [number, number]): Segment[] {
  const { x, y, on } = contour;
  const last = on.length - 1;
  if (last < 0) return [];
  const [sx, sy] = on[0] ? [x[0]!, y[0]!] : on[last] ? [x[last]!, y[last]!] : [(x[last]! + x[0]!) / 2, (y[last]! + y[0]!) / 2];
  const segments: Segment[] = [['M', ...at(sx, sy)]];
  let control: [number, number] | undefined;
  const from = on[0] ? 1 : 0;
  const to = on[0] || !on[last] ? last : last - 1;
  for (let i = from; i <= to; i++) {
    if (on[i]) {
      segments.push(control === undefined ? ['L', ...at(x[i]!, y[i]!)] : ['Q', ...at(...control), ...at(x[i]!, y[i]!)]);
      control = undefined;
    } else {
      if (control !== undefined) segments.push(['Q', ...at(...control), ...at((control[0] + x[i]!) / 2, (control[1] + y[i]!) / 2)]);
      control = [x[i]!, y[i]!];
    }
  }
  if (control !== undefined) segments.push(['Q', ...at(...control), ...at(sx, sy)]);
  segments.push(['Z']);
  return segments;
}

/**
 * A glyph's path at one size: its first point, and the rest in relative commands. Its coordinates are
 * rounded to 1 / STEPS user units in the glyph's own frame, so a glyph placed anywhere reuses the text and
 * the rounding never accumulates along the path.
 */
interface GlyphPath {
  /** The first point in steps of 1 / STEPS user units from the glyph's origin on the baseline (y down). */
  readonly x: number;
  readonly y: number;
  /** Path data after the first moveto, relative. */
  readonly rest: string;
}

/** The glyph's path from its contours' segments; undefined for a glyph without contours (a space). */
function glyphPath(segments: readonly Segment[]): GlyphPath | undefined {
  const first = segments[0];
  if (first === undefined || first[0] !== 'M') return undefined;
  const steps = (value: number): string => String(value / STEPS);
  let [cx, cy] = [first[1], first[2]];
  let [startX, startY] = [cx, cy];
  let rest = '';
  for (const segment of segments.slice(1)) {
    if (segment[0] === 'Z') {
      rest += 'z';
      [cx, cy] = [startX, startY];
    } else if (segment[0] === 'Q') {
      const [, qx, qy, ex, ey] = segment;
      rest += `q${steps(qx - cx)},${steps(qy - cy)} ${steps(ex - cx)},${steps(ey - cy)}`;
      [cx, cy] = [ex, ey];
    } else {
      const [command, ex, ey] = segment;
      rest += `${command === 'M' ? 'm' : 'l'}${steps(ex - cx)},${steps(ey - cy)}`;
      [cx, cy] = [ex, ey];
      if (command === 'M') [startX, startY] = [ex, ey];
    }
  }
  return { x: first[1], y: first[2], rest };
}

export function loadFontMetrics(file: string): FontMetrics {
  const font = readFileSync(file);
  const unitsPerEm = font.readUInt16BE(table(font, 'head') + 18);
  const metricsCount = font.readUInt16BE(table(font, 'hhea') + 34);
  const hmtx = table(font, 'hmtx');
  const glyphOf = glyphLookup(font);
  const advance = (glyph: number): number => font.readUInt16BE(hmtx + 4 * Math.min(glyph, metricsCount - 1));
  const glyphs = new Map<number, number>();
  const glyphOfChar = (char: string): number => {
    const code = char.codePointAt(0)!;
    let glyph = glyphs.get(code);
    if (glyph === undefined) {
      glyph = code > 0xffff ? 0 : glyphOf(code);
      glyphs.set(code, glyph);
    }
    return glyph;
  };
  const cache = new Map<number, number>();
  const charWidth = (code: number): number => {
    let width = cache.get(code);
    if (width === undefined) {
      width = advance(code > 0xffff ? 0 : glyphOf(code)) / unitsPerEm;
      cache.set(code, width);
    }
    return width;
  };
  const contours = glyphContours(font);
  /** Each glyph's path by font size, made on first use. */
  const glyphPaths = new Map<number, Map<number, GlyphPath | undefined>>();
  const kern = kerningPairs(font);
  const ligatures = ligatureLookups(font);
  /** Each glyph of `text` with its pen position in font units, and the advance of the whole. */
  const kerned = (text: string): { placed: [number, number][]; advance: number } => {
    const shaped = ligate(Array.from(text, glyphOfChar), ligatures);
    let pen = 0;
    const placed = shaped.map((glyph, i): [number, number] => {
      if (i > 0) pen += kern(shaped[i - 1]!, glyph);
      const at = pen;
      pen += advance(glyph);
      return [glyph, at];
    });
    return { placed, advance: pen };
  };
  return {
    width: (text) => {
      let width = 0;
      for (const char of text) width += charWidth(char.codePointAt(0)!);
      return width;
    },
    kernedWidth: (text) => kerned(text).advance / unitsPerEm,
    covers: (text) => Array.from(text).every((char) => glyphOfChar(char) !== 0),
    outline: (text, x, y, size) => {
      const scale = size / unitsPerEm;
      let paths = glyphPaths.get(size);
      if (paths === undefined) glyphPaths.set(size, (paths = new Map()));
      let d = '';
      for (const [glyph, pen] of kerned(text).placed) {
        let path = paths.get(glyph);
        if (!paths.has(glyph)) {
          const at = (gx: number, gy: number): [number, number] => [Math.round(gx * scale * STEPS), Math.round(-gy * scale * STEPS)];
          path = glyphPath(contours(glyph).flatMap((contour) => contourSegments(contour, at)));
          paths.set(glyph, path);
        }
        if (path !== undefined) d += `M${coordinate(x + pen * scale + path.x / STEPS)},${coordinate(y + path.y / STEPS)}${path.rest}`;
      }
      return d;
    },
  };
}


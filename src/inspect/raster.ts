/**
 * A small RGB raster for image tiles, thumbnails and notebook figures: rectangles, clipped Bresenham
 * lines, text in an embedded 5x8 bitmap font and false-colour images. Integer pixel arithmetic
 * only, so the same drawing calls always give the same bytes.
 */

import type { RasterImage } from './png.js';

export type Rgb = readonly [number, number, number];
export type ColormapName = 'grey' | 'viridis' | 'coolwarm';
export type TextAlign = 'left' | 'center' | 'right';

export interface TextOptions {
  /** Integer pixel replication of the 5x8 glyphs. */
  readonly scale?: number;
  /** Where the anchor sits along the reading direction. */
  readonly align?: TextAlign;
  /** Rotated a quarter turn anticlockwise, reading upwards (y axis labels). */
  readonly vertical?: boolean;
}

export interface ImageOptions {
  /** Integer pixel replication. */
  readonly scale?: number;
  /** Maps a value to [0, 1] (clamped afterwards); by default linear between the finite min and max. */
  readonly stretch?: (value: number) => number;
  readonly colormap?: ColormapName;
  /** Draw row 0 at the bottom, as FITS images are stored. */
  readonly flipY?: boolean;
  readonly nanColor?: Rgb;
}

const GLYPH_WIDTH = 5;
const GLYPH_HEIGHT = 8;
const ADVANCE = GLYPH_WIDTH + 1;

/**
 * Printable ASCII 32..126, eight base-32 digits per glyph: one per row from the top, bit 4 the left
 * column. Rows 0-6 hold capitals and digits, row 7 the descenders, so every glyph shares a baseline.
 */
const ASCII_GLYPHS =
  '0000000044444040aa000000aavavaa04fke5u40op248j30cik8lid044000000248884208422248004lel400044v440000000c48000v000000000cc001248g00' +
  'ehjlphe04c4444e0eh1248v0v2421he026aiv220vgu11he068guhhe0v1248880ehhehhe0ehhf12c00cc0cc000cc0cc48248g842000v0v00084212480eh124040' +
  'ehnlnge0ehhvhhh0uhhuhhu0ehggghe0sihhhis0vgguggv0vgguggg0ehgnhhf0hhhvhhh0e44444e072222ic0hikokih0ggggggv0hrllhhh0hhpljhh0ehhhhhe0' +
  'uhhuggg0ehhhlid0uhhukih0fgge11u0v4444440hhhhhhe0hhhhha40hhhllla0hha4ahh0hha44440v1248gv0e88888e00g842100e22222e04ah000000000000v' +
  '8400000000e1fhf0ggmphhu000egghe011djhhf000ehvge0698s888000fhhf1eggmphhh040c444e0206222icggikoki0c44444e000qllll000mphhh000ehhhe0' +
  '00uhhugg00fhhf1100mpggg000fge1u088s8896000hhhjd000hhha4000hhlla000ha4ah000hhhf1e00v248v03448443044444444o44244o0008l2000';

/** Units and uncertainties in labels; anything else missing from the font draws as a hollow box. */
const EXTRA_GLYPHS: Readonly<Record<string, string>> = { '°': 'ciic0000', '±': '44v440v0', 'µ': '00hhhrlg', '−': '000v0000', 'σ': '00fihhe0' };
const MISSING_GLYPH = 'vhhhhhv0';

function glyphRows(char: string): string {
  const code = char.codePointAt(0)!;
  if (code >= 32 && code <= 126) return ASCII_GLYPHS.slice((code - 32) * GLYPH_HEIGHT, (code - 31) * GLYPH_HEIGHT);
  return EXTRA_GLYPHS[char] ?? MISSING_GLYPH;
}

/** Size of the text's ink box in pixels, already swapped for vertical text. */
export function measureText(text: string, options: TextOptions = {}): { width: number; height: number } {
  const scale = options.scale ?? 1;
  const chars = [...text].length;
  const along = chars === 0 ? 0 : (chars * ADVANCE - 1) * scale;
  const across = chars === 0 ? 0 : GLYPH_HEIGHT * scale;
  return options.vertical ? { width: across, height: along } : { width: along, height: across };
}

/** Control points in [0, 1] RGB, spaced evenly; each rises in luminance except coolwarm, which is diverging. */
const COLORMAP_STOPS: Readonly<Record<ColormapName, readonly Rgb[]>> = {
  grey: [
    [0, 0, 0],
    [1, 1, 1],
  ],
  viridis: [
    [0.27, 0.0, 0.33],
    [0.25, 0.28, 0.54],
    [0.15, 0.5, 0.56],
    [0.2, 0.68, 0.48],
    [0.55, 0.82, 0.26],
    [0.99, 0.9, 0.15],
  ],
  coolwarm: [
    [0.2, 0.28, 0.75],
    [0.55, 0.66, 0.96],
    [0.95, 0.95, 0.95],
    [0.94, 0.6, 0.5],
    [0.7, 0.08, 0.15],
  ],
};

const LUT_SIZE = 256;

function buildLut(stops: readonly Rgb[]): Uint8Array {
  const lut = new Uint8Array(LUT_SIZE * 3);
  for (let i = 0; i < LUT_SIZE; i++) {
    const at = (i / (LUT_SIZE - 1)) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(at));
    const f = at - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(255 * (stops[k]![c]! * (1 - f) + stops[k + 1]![c]! * f));
  }
  return lut;
}

const LUTS: Readonly<Record<ColormapName, Uint8Array>> = {
  grey: buildLut(COLORMAP_STOPS.grey),
  viridis: buildLut(COLORMAP_STOPS.viridis),
  coolwarm: buildLut(COLORMAP_STOPS.coolwarm),
};

/** Colour of t in [0, 1] (clamped); NaN maps to the low end. */
export function colormapColor(name: ColormapName, t: number): Rgb {
  const i = Number.isNaN(t) ? 0 : Math.round(Math.min(1, Math.max(0, t)) * (LUT_SIZE - 1));
  const lut = LUTS[name];
  return [lut[i * 3]!, lut[i * 3 + 1]!, lut[i * 3 + 2]!];
}

export interface AsinhScale {
  readonly lo: number;
  readonly hi: number;
  readonly softening: number;
  /** A value to [0, 1], clamped. */
  readonly stretch: (value: number) => number;
  /** The value that stretches to t in [0, 1]: where a colour bar's tick of that value goes. */
  readonly inverse: (t: number) => number;
}

/**
 * asinh stretch from lo to hi: linear within about `softening` of lo (the sky noise stays visible),
 * logarithmic above (bright cores do not saturate). By default lo and hi are the 1st and 99.5th
 * percentiles of the finite values and softening a fiftieth of their span.
 */
export function asinhScale(values: ArrayLike<number>, options: { lo?: number; hi?: number; softening?: number } = {}): AsinhScale {
  const finite = Float64Array.from(Array.prototype.filter.call(values, Number.isFinite) as number[]).sort();
  const percentile = (p: number): number => (finite.length === 0 ? 0 : finite[Math.min(finite.length - 1, Math.floor(p * finite.length))]!);
  const lo = options.lo ?? percentile(0.01);
  const hi = options.hi ?? percentile(0.995);
  const span = hi > lo ? hi - lo : 1;
  const softening = options.softening ?? span / 50;
  const top = Math.asinh(span / softening);
  return {
    lo,
    hi,
    softening,
    stretch: (value) => Math.min(1, Math.max(0, Math.asinh((value - lo) / softening) / top)),
    inverse: (t) => lo + softening * Math.sinh(t * top),
  };
}

export function asinhStretch(values: ArrayLike<number>, options: { lo?: number; hi?: number; softening?: number } = {}): (value: number) => number {
  return asinhScale(values, options).stretch;
}

/** `pixels` copies of `rgb` from byte `start`; doubling copyWithin runs, as a set per pixel dominated drawing panels. */
function fillPixels(data: Uint8Array, start: number, pixels: number, rgb: Rgb): void {
  if (pixels <= 0) return;
  data.set(rgb, start);
  const end = start + 3 * pixels;
  for (let filled = 3; start + filled < end; filled *= 2) data.copyWithin(start + filled, start, start + Math.min(filled, end - start - filled));
}

export class Canvas {
  readonly data: Uint8Array;
  private clipBox = { x0: 0, y0: 0, x1: 0, y1: 0 };

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new RangeError(`bad canvas size ${width}x${height}`);
    this.data = new Uint8Array(width * height * 3);
    fillPixels(this.data, 0, width * height, background);
    this.clearClip();
  }

  clearClip(): void {
    this.clipBox = { x0: 0, y0: 0, x1: this.width, y1: this.height };
  }

  pixel(x: number, y: number): Rgb {
    const i = (y * this.width + x) * 3;
    return [this.data[i]!, this.data[i + 1]!, this.data[i + 2]!];
  }

  setPixel(x: number, y: number, rgb: Rgb): void {
    const { x0, y0, x1, y1 } = this.clipBox;
    if (x < x0 || y < y0 || x >= x1 || y >= y1) return;
    this.data.set(rgb, (y * this.width + x) * 3);
  }

  fillRect(x: number, y: number, w: number, h: number, rgb: Rgb): void {
    const xa = Math.max(this.clipBox.x0, Math.round(x));
    const ya = Math.max(this.clipBox.y0, Math.round(y));
    const xb = Math.min(this.clipBox.x1, Math.round(x) + Math.round(w));
    const yb = Math.min(this.clipBox.y1, Math.round(y) + Math.round(h));
    for (let py = ya; py < yb; py++) fillPixels(this.data, (py * this.width + xa) * 3, xb - xa, rgb);
  }

  strokeRect(x: number, y: number, w: number, h: number, rgb: Rgb): void {
    this.fillRect(x, y, w, 1, rgb);
    this.fillRect(x, y + h - 1, w, 1, rgb);
    this.fillRect(x, y, 1, h, rgb);
    this.fillRect(x + w - 1, y, 1, h, rgb);
  }

  line(x0: number, y0: number, x1: number, y1: number, rgb: Rgb, width = 1): void {
    this.dashedLine(x0, y0, x1, y1, rgb, width, [1, 0]);
  }

  /**
   * Bresenham with a square brush of side `width`; `pattern` is [on, off] in steps along the line.
   * Returns the phase at the end point so a polyline's dashes run on across its vertices.
   */
  dashedLine(x0: number, y0: number, x1: number, y1: number, rgb: Rgb, width = 1, pattern: readonly [number, number] = [6, 4], phase = 0): number {
    const period = pattern[0] + pattern[1];
    if (![x0, y0, x1, y1].every(Number.isFinite)) return phase;
    const steps = Math.max(Math.abs(Math.round(x1) - Math.round(x0)), Math.abs(Math.round(y1) - Math.round(y0)));
    // Far-off endpoints would cost a step per pixel of length, so cut the segment to the clip box first.
    const margin = width;
    const clipped = clipSegment(x0, y0, x1, y1, this.clipBox.x0 - margin, this.clipBox.y0 - margin, this.clipBox.x1 + margin, this.clipBox.y1 + margin);
    if (!clipped) return (phase + steps) % period;
    let [ax, ay, bx, by] = clipped.map(Math.round) as [number, number, number, number];
    // The dash phase counts from the original start, so clipping does not shift the pattern.
    let step = phase + Math.max(Math.abs(ax - Math.round(x0)), Math.abs(ay - Math.round(y0)));
    const dx = Math.abs(bx - ax);
    const dy = -Math.abs(by - ay);
    const sx = ax < bx ? 1 : -1;
    const sy = ay < by ? 1 : -1;
    const offset = Math.floor((width - 1) / 2);
    for (let error = dx + dy; ; step++) {
      if (step % period < pattern[0]) {
        if (width === 1) this.setPixel(ax, ay, rgb);
        else this.fillRect(ax - offset, ay - offset, width, width, rgb);
      }
      if (ax === bx && ay === by) break;
      const e2 = 2 * error;
      if (e2 >= dy) {
        error += dy;
        ax += sx;
      }
      if (e2 <= dx) {
        error += dx;
        ay += sy;
      }
    }
    return (phase + steps) % period;
  }

  /**
   * Horizontal text: (x, y) is the anchor on the top edge. Vertical text: x is the left edge and y
   * the anchor along the upward reading direction ('left' = where the text starts, at the bottom).
   */
  text(x: number, y: number, text: string, rgb: Rgb, options: TextOptions = {}): void {
    const scale = options.scale ?? 1;
    const along = options.vertical ? measureText(text, options).height : measureText(text, options).width;
    const shift = options.align === 'center' ? Math.floor(along / 2) : options.align === 'right' ? along : 0;
    const startX = Math.round(x);
    const startY = Math.round(y);
    [...text].forEach((char, k) => {
      const rows = glyphRows(char);
      for (let row = 0; row < GLYPH_HEIGHT; row++) {
        const bits = parseInt(rows[row]!, 32);
        for (let col = 0; col < GLYPH_WIDTH; col++) {
          if (!(bits & (1 << (GLYPH_WIDTH - 1 - col)))) continue;
          const u = (k * ADVANCE + col) * scale - shift;
          const v = row * scale;
          if (options.vertical) this.fillRect(startX + v, startY - u - scale, scale, scale, rgb);
          else this.fillRect(startX + u, startY + v, scale, scale, rgb);
        }
      }
    });
  }

  /** Draws a w x h array of values (row 0 first) with its top-left corner at (x, y). */
  drawImage(values: Float32Array | Float64Array, w: number, h: number, x: number, y: number, options: ImageOptions = {}): void {
    if (values.length !== w * h) throw new RangeError(`image has ${values.length} values, not ${w}x${h}`);
    const scale = options.scale ?? 1;
    const stretch = options.stretch ?? linearStretch(values);
    const colormap = options.colormap ?? 'grey';
    const nanColor = options.nanColor ?? [255, 0, 255];
    for (let row = 0; row < h; row++) {
      const py = y + (options.flipY ? h - 1 - row : row) * scale;
      for (let col = 0; col < w; col++) {
        const value = values[row * w + col]!;
        const rgb = Number.isFinite(value) ? colormapColor(colormap, stretch(value)) : nanColor;
        this.fillRect(x + col * scale, py, scale, scale, rgb);
      }
    }
  }

  toImage(): RasterImage {
    return { width: this.width, height: this.height, channels: 3, data: this.data.slice() };
  }
}

function linearStretch(values: ArrayLike<number>): (value: number) => number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  const span = hi > lo ? hi - lo : 1;
  return (value) => (value - lo) / span;
}

/** Liang-Barsky: the part of the segment inside [xmin, xmax) x [ymin, ymax), or undefined. */
function clipSegment(x0: number, y0: number, x1: number, y1: number, xmin: number, ymin: number, xmax: number, ymax: number): number[] | undefined {
  const dx = x1 - x0;
  const dy = y1 - y0;
  let t0 = 0;
  let t1 = 1;
  const edges: [number, number][] = [
    [-dx, x0 - xmin],
    [dx, xmax - 1 - x0],
    [-dy, y0 - ymin],
    [dy, ymax - 1 - y0],
  ];
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q < 0) return undefined;
    } else if (p < 0) t0 = Math.max(t0, q / p);
    else t1 = Math.min(t1, q / p);
  }
  if (t0 > t1) return undefined;
  return [x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy];
}

/** Short label for a number: three significant digits, exponent form outside 1e-3..1e5. */
export function formatNumber(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(2).replace(/\.?0+e/, 'e').replace('e+', 'e');
  return String(Number(value.toPrecision(3)));
}

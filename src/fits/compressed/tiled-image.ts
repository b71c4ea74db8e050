/**
 * Tile-compressed images (FITS 4.0 section 10; the tiled image compression convention): the
 * Z-keywords of the binary table, the tile grid, and reading an image or a section of it by
 * decoding only the tiles (table rows) that intersect it.
 */
import { InvalidInputError, UnsupportedError, VisAgnError, type ErrorLocation } from '../../errors.js';
import { FitsHeader } from '../header.js';
import { bitpixType, checkSection } from '../image.js';
import { openBinaryTable, type BinaryTable } from '../table.js';
import type { ByteSource, HduInfo, HeaderLookup, HeaderValue, ImageData, PixelArray, Section } from '../types.js';
import { pixelConverter, type PixelConverter, type QuantizeMethod, type TileQuantization } from './quantize.js';
import { codecRegistry, type SampleType, type TileCodec, type TileCodecContext, type TileSamples } from './registry.js';

const QUANTIZE_METHODS: ReadonlySet<string> = new Set(['NO_DITHER', 'SUBTRACTIVE_DITHER_1', 'SUBTRACTIVE_DITHER_2']);

/** What `fitsinfo` shows about a compressed HDU, and what the reader works from. */
export interface CompressionInfo {
  /** ZCMPTYPE as written, trimmed (RICE_ONE is kept as such). */
  readonly algorithm: string;
  /** ZBITPIX. */
  readonly bitpix: number;
  /** ZNAXISn, NAXIS1 first. */
  readonly axes: readonly number[];
  /** ZTILEn, defaulting to whole rows (ZTILE1 = ZNAXIS1, the others 1). */
  readonly tile: readonly number[];
  /** Number of tiles, which is the number of table rows. */
  readonly tileCount: number;
  /** Numeric ZNAMEi/ZVALi parameters (BLOCKSIZE, BYTEPIX, SCALE, SMOOTH, NOISEBIT, ...). */
  readonly params: ReadonlyMap<string, number>;
  /** How floating-point pixels were quantised; undefined for lossless (integer or unquantised) images. */
  readonly quantize: QuantizeMethod | undefined;
  /** ZDITHER0 for dithered images. */
  readonly ditherSeed: number | undefined;
}

function locationOf(hdu: HduInfo, file?: string): ErrorLocation {
  return file === undefined ? { hdu: hdu.index } : { file, hdu: hdu.index };
}

function intKeyword(header: HeaderLookup, key: string, at: ErrorLocation, fallback?: number): number {
  const raw = header.get(key);
  if (raw === undefined && fallback !== undefined) return fallback;
  const value = typeof raw === 'bigint' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new InvalidInputError(raw === undefined ? `${key} is missing` : `${key} = ${String(raw)} is not an integer`, at);
  }
  return value;
}

function realKeyword(header: HeaderLookup, key: string, at: ErrorLocation): number | undefined {
  const raw = header.get(key);
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'bigint') return Number(raw);
  if (typeof raw !== 'number') throw new InvalidInputError(`${key} = ${String(raw)} is not a number`, at);
  return raw;
}

/** TTYPEn of the table, upper-cased, from the header alone. */
function columnNames(header: HeaderLookup, at: ErrorLocation): string[] {
  const fields = intKeyword(header, 'TFIELDS', at);
  // The standard's bound, checked before the loop: TFIELDS = 2^31 ran for minutes, then V8 died.
  if (fields < 0 || fields > 999) throw new InvalidInputError(`TFIELDS = ${fields} is outside 0..999`, at);
  const names: string[] = [];
  for (let n = 1; n <= fields; n++) {
    const name = header.get(`TTYPE${n}`);
    names.push(typeof name === 'string' ? name.trim().toUpperCase() : '');
  }
  return names;
}

/** ZNAXIS within the standard's 0..999, checked before the loops over the axes it counts. */
function axisCount(header: HeaderLookup, at: ErrorLocation): number {
  const naxis = intKeyword(header, 'ZNAXIS', at);
  if (naxis < 0 || naxis > 999) throw new InvalidInputError(`ZNAXIS = ${naxis} is outside 0..999`, at);
  return naxis;
}

function parseInfo(hdu: HduInfo, at: ErrorLocation): CompressionInfo {
  const { header } = hdu;
  if (header.get('ZIMAGE') !== true) throw new InvalidInputError('HDU is not a tile-compressed image (ZIMAGE is not T)', at);
  const algorithm = header.get('ZCMPTYPE');
  if (typeof algorithm !== 'string') throw new InvalidInputError('ZCMPTYPE is missing', at);
  const bitpix = bitpixType(intKeyword(header, 'ZBITPIX', at), at).bitpix;
  const naxis = axisCount(header, at);
  const axes: number[] = [];
  const tile: number[] = [];
  let tileCount = naxis === 0 ? 0 : 1;
  for (let n = 1; n <= naxis; n++) {
    const size = intKeyword(header, `ZNAXIS${n}`, at);
    const extent = intKeyword(header, `ZTILE${n}`, at, n === 1 ? size : 1);
    if (size < 0) throw new InvalidInputError(`ZNAXIS${n} = ${size} is negative`, at);
    if (extent < 1) throw new InvalidInputError(`ZTILE${n} = ${extent} is not positive`, at);
    axes.push(size);
    tile.push(extent);
    tileCount *= Math.ceil(size / extent);
  }
  const params = new Map<string, number>();
  for (let i = 1; header.has(`ZNAME${i}`); i++) {
    const name = header.get(`ZNAME${i}`);
    const value = header.get(`ZVAL${i}`);
    if (typeof name === 'string' && (typeof value === 'number' || typeof value === 'bigint')) params.set(name.trim().toUpperCase(), Number(value));
  }
  const quantized = header.has('ZSCALE') || columnNames(header, at).includes('ZSCALE');
  // cfitsio can also scale integer images by ZSCALE/ZZERO, with its own rounding; never met in practice.
  if (quantized && bitpix > 0) throw new UnsupportedError(`ZSCALE/ZZERO on an integer image (ZBITPIX = ${bitpix})`, at);
  let quantize: QuantizeMethod | undefined;
  let ditherSeed: number | undefined;
  if (quantized) {
    const method = header.get('ZQUANTIZ');
    const name = typeof method === 'string' ? method.trim().toUpperCase() : 'NO_DITHER';
    // 'NONE' next to a ZSCALE column can only mean the integers are plain scaled values.
    quantize = (name === 'NONE' ? 'NO_DITHER' : name) as QuantizeMethod;
    if (!QUANTIZE_METHODS.has(quantize)) throw new UnsupportedError(`ZQUANTIZ = '${String(method)}'`, at);
    // Dithered files written before ZDITHER0 existed start at the first entry, as cfitsio assumes.
    if (quantize !== 'NO_DITHER') ditherSeed = intKeyword(header, 'ZDITHER0', at, 1);
  }
  return { algorithm: algorithm.trim(), bitpix, axes, tile, tileCount, params, quantize, ditherSeed };
}

/** The compression parameters of a tile-compressed HDU (checked, with defaults filled in); `file` names it in errors. */
export function compressionInfo(hdu: HduInfo, file?: string): CompressionInfo {
  return parseInfo(hdu, locationOf(hdu, file));
}

/** A box of the image, per axis [lo, hi). */
interface Box {
  readonly lo: readonly number[];
  readonly hi: readonly number[];
}

function isTileSamples(value: unknown): value is TileSamples {
  return (
    value instanceof Uint8Array ||
    value instanceof Int16Array ||
    value instanceof Int32Array ||
    value instanceof BigInt64Array ||
    value instanceof Float32Array ||
    value instanceof Float64Array
  );
}

interface TileBox {
  /** Table row (0-based tile number). */
  readonly row: number;
  readonly lo: readonly number[];
  readonly shape: readonly number[];
}

/** Copies the part of a decoded tile inside `region` into `out` (shaped `shape`), run by run along NAXIS1. */
function copyIntersection(values: PixelArray, tile: TileBox, out: PixelArray, region: Box, shape: readonly number[]): void {
  const lo = tile.lo.map((l, k) => Math.max(l, region.lo[k]!));
  const hi = tile.lo.map((l, k) => Math.min(l + tile.shape[k]!, region.hi[k]!));
  const run = hi[0]! - lo[0]!;
  const p = [...lo];
  for (;;) {
    let src = 0;
    let dst = 0;
    for (let k = p.length - 1; k >= 0; k--) {
      src = src * tile.shape[k]! + (p[k]! - tile.lo[k]!);
      dst = dst * shape[k]! + (p[k]! - region.lo[k]!);
    }
    // `values` has the dtype of `out`; the cast only picks one member of the union for `set`.
    (out as Float64Array).set((values as Float64Array).subarray(src, src + run), dst);
    let k = 1;
    while (k < p.length && p[k] === hi[k]! - 1) p[k] = lo[k++]!;
    if (k >= p.length) break;
    p[k]!++;
  }
}

/** The quantisation of a tile, by table row. */
type Quantizations = (row: number) => TileQuantization | undefined;

/**
 * Where `tile` starts in `out` (shaped `shape`, covering `region`) when its pixels form one run
 * there in their own order, so the tile can be decoded in place: the tile lies inside the region
 * and spans it fully along every axis below its last one longer than 1 (row tiles of a full-width
 * read, a single tile read whole). Undefined otherwise.
 */
function contiguousOffset(tile: TileBox, region: Box, shape: readonly number[]): number | undefined {
  let offset = 0;
  let stride = 1;
  let spansLower = true;
  for (let k = 0; k < shape.length; k++) {
    const lo = tile.lo[k]! - region.lo[k]!;
    const extent = tile.shape[k]!;
    if (lo < 0 || lo + extent > shape[k]! || (extent > 1 && !spansLower)) return undefined;
    spansLower &&= extent === shape[k];
    offset += lo * stride;
    stride *= shape[k]!;
  }
  return offset;
}

class TiledImageReader {
  private readonly table: BinaryTable;
  private readonly codec: TileCodec;
  private readonly converter: PixelConverter;
  private readonly columns: ReadonlySet<string>;
  private readonly header: HeaderLookup;
  /** Tiles along each axis. */
  private readonly grid: number[];

  constructor(
    source: ByteSource,
    hdu: HduInfo,
    private readonly info: CompressionInfo,
    private readonly at: ErrorLocation,
  ) {
    this.header = hdu.header;
    this.table = openBinaryTable(source, hdu);
    if (this.table.nrows !== info.tileCount) {
      throw new InvalidInputError(`the table has ${this.table.nrows} rows for ${info.tileCount} tiles`, at);
    }
    const codec = codecRegistry.get(info.algorithm);
    if (codec === undefined) {
      throw new UnsupportedError(`compression algorithm ZCMPTYPE = '${info.algorithm}' (supported: ${codecRegistry.names().join(', ')})`, at);
    }
    this.codec = codec;
    this.columns = new Set(this.table.columns.map((c) => c.name.trim().toUpperCase()));
    if (!this.columns.has('COMPRESSED_DATA')) throw new InvalidInputError('the table has no COMPRESSED_DATA column', at);
    const blank = realKeyword(this.header, 'ZBLANK', at) ?? realKeyword(this.header, 'BLANK', at);
    this.converter = pixelConverter({
      bitpix: info.bitpix,
      bscale: realKeyword(this.header, 'BSCALE', at) ?? 1,
      bzero: this.bzero(),
      blank,
      quantized: info.quantize !== undefined,
      method: info.quantize ?? 'NO_DITHER',
      ditherSeed: info.ditherSeed ?? 1,
    });
    this.grid = info.axes.map((n, k) => Math.ceil(n / info.tile[k]!));
  }

  /** BZERO stays a bigint when it is 2^63 (unsigned 64-bit), which no double can mark exactly. */
  private bzero(): number | bigint {
    const raw = this.header.get('BZERO');
    if (typeof raw === 'bigint') return Number.isSafeInteger(Number(raw)) ? Number(raw) : raw;
    return realKeyword(this.header, 'BZERO', this.at) ?? 0;
  }

  read(region: Box): ImageData {
    const { info, converter } = this;
    const shape = region.lo.map((lo, k) => region.hi[k]! - lo);
    const size = shape.length === 0 ? 0 : shape.reduce((a, b) => a * b, 1);
    const out = converter.allocate(size);
    if (size === 0) return { axes: shape, dtype: converter.dtype, data: out };
    const first = region.lo.map((lo, k) => Math.floor(lo / info.tile[k]!));
    const last = region.hi.map((hi, k) => Math.floor((hi - 1) / info.tile[k]!));
    // Reused across tiles: the codec's int32 samples, and the pixels of tiles only partly in the region.
    // A tile never holds more than the image along an axis, whatever ZTILEn claims (99999999999 was met).
    const tilePixels = info.tile.reduce((a, b, k) => a * Math.min(b, info.axes[k]!), 1);
    const several = first.some((f, k) => f !== last[k]);
    const scratch = converter.sampleType === 'int32' && several ? new Int32Array(tilePixels) : undefined;
    let partial: PixelArray | undefined;
    const quantization = this.quantization(this.tile(first).row, this.tile(last).row);
    const t = [...first];
    for (;;) {
      const tile = this.tile(t);
      const npix = tile.shape.reduce((a, b) => a * b, 1);
      const offset = contiguousOffset(tile, region, shape);
      if (offset !== undefined) {
        this.decodeTile(tile, npix, scratch, quantization, out.subarray(offset, offset + npix));
      } else {
        partial ??= converter.allocate(tilePixels);
        const pixels = partial.subarray(0, npix);
        this.decodeTile(tile, npix, scratch, quantization, pixels);
        copyIntersection(pixels, tile, out, region, shape);
      }
      let k = 0;
      while (k < t.length && t[k] === last[k]) t[k] = first[k++]!;
      if (k === t.length) break;
      t[k]!++;
    }
    return { axes: shape, dtype: converter.dtype, data: out };
  }

  /** The tile at grid coordinates `t`: its table row and its box, clipped at the image edge. */
  private tile(t: readonly number[]): TileBox {
    const { info } = this;
    let row = 0;
    for (let k = t.length - 1; k >= 0; k--) row = row * this.grid[k]! + t[k]!;
    const lo = t.map((tk, k) => tk * info.tile[k]!);
    const shape = lo.map((l, k) => Math.min(info.tile[k]!, info.axes[k]! - l));
    return { row, lo, shape };
  }

  private decodeTile({ row, shape }: TileBox, npix: number, scratch: Int32Array | undefined, quantization: Quantizations, out: PixelArray): void {
    this.withTile(row, () => {
      const samples = this.tileSamples(row, { npix, shape, sampleType: this.converter.sampleType, params: this.info.params, scratch });
      if (samples.length !== npix) throw new InvalidInputError(`tile decodes to ${samples.length} pixels, expected ${npix}`);
      this.converter.convert(samples, row, quantization(row), out);
    });
  }

  /** Adds the file, HDU and tile to a codec's error. */
  private withTile<T>(row: number, decode: () => T): T {
    try {
      return decode();
    } catch (error) {
      if (error instanceof VisAgnError && error.location.file === undefined) {
        const Kind = error.constructor as new (reason: string, location: ErrorLocation, options: { cause: unknown }) => VisAgnError;
        throw new Kind(`tile ${row + 1} (${this.info.algorithm}): ${error.reason}`, this.at, { cause: error });
      }
      throw error;
    }
  }

  /**
   * A tile whose COMPRESSED_DATA is empty was stored another way by the writer: as the raw pixels
   * (UNCOMPRESSED_DATA) or gzipped raw pixels (GZIP_COMPRESSED_DATA), typically floating-point
   * tiles that could not be quantised.
   */
  private tileSamples(row: number, context: TileCodecContext): TileSamples {
    const compressed = this.table.readVarBytes(row, 'COMPRESSED_DATA');
    if (compressed.length > 0) return this.codec.decode(compressed, context);
    if (this.columns.has('GZIP_COMPRESSED_DATA')) {
      const gzipped = this.table.readVarBytes(row, 'GZIP_COMPRESSED_DATA');
      // These hold the tile's pixels in ZBITPIX's own type, never quantised.
      if (gzipped.length > 0) return codecRegistry.get('GZIP_1')!.decode(gzipped, { ...context, sampleType: bitpixType(this.info.bitpix).dtype as SampleType });
    }
    if (this.columns.has('UNCOMPRESSED_DATA')) {
      const raw = this.table.readCell(row, 'UNCOMPRESSED_DATA');
      if (raw.length > 0) {
        if (!isTileSamples(raw)) throw new InvalidInputError('UNCOMPRESSED_DATA is not a numeric column');
        return raw;
      }
    }
    throw new InvalidInputError('tile has no data in COMPRESSED_DATA or a fallback column');
  }

  /**
   * ZSCALE, ZZERO or ZBLANK of tiles first..last (table rows): a column is read for the whole range
   * at once, not cell by cell, which for thousands of row tiles would be as many small reads.
   */
  private tileScalars(first: number, last: number, key: 'ZSCALE' | 'ZZERO' | 'ZBLANK'): (row: number) => number | undefined {
    if (!this.columns.has(key)) {
      const value = realKeyword(this.header, key, this.at);
      return () => value;
    }
    const data = this.table.readColumn(key, { start: first, end: last + 1 });
    return (row) => {
      const value = data.varying ? data.cells[row - first]![0] : data.values[(row - first) * data.stride];
      if (typeof value !== 'number' && typeof value !== 'bigint') throw new InvalidInputError(`${key} of tile ${row + 1} is not a number`, this.at);
      return Number(value);
    };
  }

  /**
   * The quantisation of each tile in rows first..last; undefined for lossless images, and the
   * converter refuses integer tiles of a floating image without it.
   */
  private quantization(first: number, last: number): Quantizations {
    if (this.info.quantize === undefined) return () => undefined;
    const scale = this.tileScalars(first, last, 'ZSCALE');
    const zero = this.tileScalars(first, last, 'ZZERO');
    const blank = this.tileScalars(first, last, 'ZBLANK');
    return (row) => {
      const s = scale(row);
      const z = zero(row);
      return s === undefined || z === undefined ? undefined : { scale: s, zero: z, blank: blank(row) };
    };
  }
}

/**
 * Reads a tile-compressed image, or with `section` the given window of its first plane (x and y are
 * NAXIS1 and NAXIS2), decoding only the tiles that intersect it. Values and dtype follow astropy's
 * CompImageHDU.
 */
export function readCompressedImage(source: ByteSource, hdu: HduInfo, section?: Section): ImageData {
  const at = locationOf(hdu, source.path);
  const info = parseInfo(hdu, at);
  const reader = new TiledImageReader(source, hdu, info, at);
  if (section === undefined) return reader.read({ lo: info.axes.map(() => 0), hi: info.axes });
  checkSection(info.axes, section, at);
  const lo = info.axes.map((_, k) => (k === 0 ? section.x0 : k === 1 ? section.y0 : 0));
  const hi = info.axes.map((_, k) => (k === 0 ? section.x1 : k === 1 ? section.y1 : 1));
  const image = reader.read({ lo, hi });
  return { ...image, axes: [section.x1 - section.x0, section.y1 - section.y0] };
}

interface EditableCard {
  key: string;
  value: HeaderValue | undefined;
  comment: string;
}

type Position = { readonly before: number | string } | { readonly after: number | string };

const COMMENTARY = new Set(['', 'COMMENT', 'HISTORY']);
const isBlank = (card: EditableCard): boolean => card.key === '' && card.comment.trim() === '';

/**
 * Just enough of astropy's Header editing (`set`, `del`, `append`) to rebuild the image header the
 * way astropy 5.2's CompImageHDU does, card order and count included.
 */
class CardEditor {
  constructor(readonly cards: EditableCard[]) {}

  index(key: string): number {
    return this.cards.findIndex((c) => c.key === key);
  }

  card(key: string): EditableCard | undefined {
    return this.cards.find((c) => c.key === key);
  }

  deleteAll(key: string): void {
    for (let i = this.cards.length - 1; i >= 0; i--) if (this.cards[i]!.key === key) this.cards.splice(i, 1);
  }

  /** Updates the first `key` card (keeping its comment unless one is given) or adds one; moves it to `position`. */
  set(key: string, value: HeaderValue | undefined, comment?: string, position?: Position): void {
    const existing = this.card(key);
    if (existing !== undefined) {
      existing.value = value;
      if (comment !== undefined) existing.comment = comment;
      if (position !== undefined) this.insertAt(existing, position, true);
    } else if (position !== undefined) {
      this.insertAt({ key, value, comment: comment ?? '' }, position, false);
    } else {
      this.append({ key, value, comment: comment ?? '' });
    }
  }

  private insertAt(card: EditableCard, position: Position, move: boolean): void {
    const target = (): number => {
      const ref = 'before' in position ? position.before : position.after;
      const index = typeof ref === 'number' ? ref : this.index(ref);
      return 'before' in position ? index : index + 1;
    };
    if (move) {
      const old = this.cards.indexOf(card);
      const at = target();
      if (at >= this.cards.length && old === this.cards.length - 1) return;
      if ('before' in position ? old === at - 1 : old === at) return;
      this.cards.splice(old, 1);
    }
    this.cards.splice(target(), 0, card);
  }

  /** A new keyword goes after the last card that is not commentary, taking the place of one trailing blank card. */
  private append(card: EditableCard): void {
    let at = this.cards.length - 1;
    while (at >= 0 && isBlank(this.cards[at]!)) at--;
    while (at >= 0 && COMMENTARY.has(this.cards[at]!.key)) at--;
    this.cards.splice(at + 1, 0, card);
    if (this.trailingBlanks() > 0) this.cards.pop();
  }

  trailingBlanks(): number {
    let n = 0;
    while (n < this.cards.length && isBlank(this.cards[this.cards.length - 1 - n]!)) n++;
    return n;
  }
}

const TABLE_KEYWORD_LABELS = new Set([
  'TTYPE', 'TFORM', 'TUNIT', 'TNULL', 'TSCAL', 'TZERO', 'TDISP', 'TBCOL', 'TDIM', 'TCTYP', 'TCUNI', 'TCRPX', 'TCRVL', 'TCDLT', 'TRPOS',
]);
const COMPRESSION_KEYWORDS = new Set([
  'ZSIMPLE', 'ZTENSION', 'ZBITPIX', 'ZNAXIS', 'ZEXTEND', 'ZBLOCKED', 'ZPCOUNT', 'ZGCOUNT', 'ZHECKSUM', 'ZDATASUM',
  'ZIMAGE', 'ZCMPTYPE', 'ZMASKCMP', 'ZQUANTIZ', 'ZDITHER0',
]);
const INDEXED_COMPRESSION_KEYWORDS = new Set(['ZNAXIS', 'ZTILE', 'ZNAME', 'ZVAL']);

/**
 * Keywords of the table or of the compression that astropy keeps out of the image header. Its
 * pattern splits a trailing number off letters only, so ZDITHER0 is not matched and stays (as do
 * ZBLANK, ZSCALE and ZZERO keywords): the header must match astropy's, quirks included.
 */
function isReserved(key: string): boolean {
  if (key === 'TFIELDS') return true;
  const table = /^(T[A-Z]*)[1-9][0-9 ]*$/.exec(key);
  if (table !== null && TABLE_KEYWORD_LABELS.has(table[1]!)) return true;
  const z = /^(Z[A-Z]*)([1-9][0-9 ]*$)?/.exec(key);
  if (z === null) return false;
  return (z[2] !== undefined && INDEXED_COMPRESSION_KEYWORDS.has(z[1]!)) || COMPRESSION_KEYWORDS.has(z[1]!);
}

const DEFAULT_EXTNAME = 'COMPRESSED_IMAGE';

/**
 * The header of the image stored in a tile-compressed HDU, as astropy 5.2's CompImageHDU shows it:
 * ZSIMPLE/ZTENSION, ZBITPIX, ZNAXISn, ZPCOUNT/ZGCOUNT, ZEXTEND, ZHECKSUM/ZDATASUM become their
 * image keywords; table and compression keywords go; a default EXTNAME goes.
 */
export function compressedImageHeader(hdu: HduInfo): FitsHeader {
  const location = hdu.header instanceof FitsHeader ? hdu.header.location : locationOf(hdu);
  const table = hdu.header.cards.map((c): EditableCard => ({ key: c.key, value: c.value, comment: c.comment }));
  const extnames = table.filter((c) => c.key === 'EXTNAME');
  if (extnames.length > 1) {
    // CFHT-style headers carry the default name and the real one: the real one wins.
    const defaults = extnames.filter((c) => c.value === DEFAULT_EXTNAME);
    if (defaults.length === extnames.length) defaults.shift();
    for (const c of defaults) table.splice(table.indexOf(c), 1);
  }
  const z = new CardEditor(table.map((c) => ({ ...c })));
  const image = new CardEditor(table.filter((c) => !isReserved(c.key)).map((c) => ({ ...c })));
  const from = (key: string): EditableCard => {
    const card = z.card(key);
    if (card === undefined) throw new InvalidInputError(`${key} is missing`, location);
    return card;
  };

  if (z.card('ZSIMPLE') !== undefined) {
    image.set('SIMPLE', from('ZSIMPLE').value, from('ZSIMPLE').comment, { before: 0 });
    image.deleteAll('XTENSION');
  } else {
    image.set('XTENSION', 'IMAGE', z.card('ZTENSION')?.comment, { before: 0 });
  }
  image.set('BITPIX', from('ZBITPIX').value, from('ZBITPIX').comment, { before: 1 });
  const n = axisCount(hdu.header, location);
  image.set('NAXIS', n, from('ZNAXIS').comment, { before: 2 });
  let last = 'NAXIS';
  for (let i = 1; i <= n; i++) {
    image.set(`NAXIS${i}`, from(`ZNAXIS${i}`).value, from(`ZNAXIS${i}`).comment, { after: last });
    last = `NAXIS${i}`;
  }
  for (const card of [...image.cards]) {
    const axis = /^NAXIS(\d+)$/.exec(card.key);
    if (axis !== null && Number(axis[1]) > n) image.deleteAll(card.key);
  }
  const zpcount = z.card('ZPCOUNT');
  image.set('PCOUNT', zpcount?.value ?? 0, zpcount?.comment, { after: last });
  const zgcount = z.card('ZGCOUNT');
  image.set('GCOUNT', zgcount?.value ?? 1, zgcount?.comment, { after: 'PCOUNT' });
  for (const [zkey, key] of [['ZEXTEND', 'EXTEND'], ['ZBLOCKED', 'BLOCKED'], ['ZHECKSUM', 'CHECKSUM'], ['ZDATASUM', 'DATASUM']] as const) {
    const card = z.card(zkey);
    if (card !== undefined) image.set(key, card.value, card.comment);
  }
  if (image.card('EXTNAME')?.value === DEFAULT_EXTNAME) image.deleteAll('EXTNAME');
  if (image.card('SIMPLE') !== undefined) {
    image.deleteAll('PCOUNT');
    image.deleteAll('GCOUNT');
  }
  for (let i = image.trailingBlanks(); i < z.trailingBlanks(); i++) image.cards.push({ key: '', value: undefined, comment: '' });
  return new FitsHeader(image.cards, location);
}

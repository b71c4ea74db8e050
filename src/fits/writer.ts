/**
 * Writes FITS files: images of every pixel type, multi-extension files, binary tables, with
 * CHECKSUM/DATASUM on every HDU. Files appear atomically (temporary file in the target directory,
 * renamed when complete), and images can be streamed in chunks so a 1.5 GB MER tile never has to be
 * in memory.
 */

import { endianness } from 'node:os';
import { AtomicFile, asOutputError } from '../atomic-file.js';
import { OutputError } from '../errors.js';
import { formatCard, type CardInput } from './card-format.js';
import { Checksum32, addChecksums, checksumOf, encodeChecksum } from './checksum.js';
import { BLOCK_SIZE, CARD_SIZE } from './header.js';
import { BITPIX_TYPES, type BitpixType } from './image.js';
import type { HeaderValue, PixelArray, PixelDtype } from './types.js';

export type { CardInput } from './card-format.js';

/** Pixels and table rows are converted to big-endian through a scratch buffer of at most this size. */
const SCRATCH_BYTES = 4 * 1024 * 1024;
const HOST_IS_LITTLE_ENDIAN = endianness() === 'LE';

/** Binary-table TFORM letter of each stored type. */
const TFORM_LETTERS: ReadonlyMap<number, string> = new Map([[8, 'B'], [16, 'I'], [32, 'J'], [64, 'K'], [-32, 'E'], [-64, 'D']]);

/** How one pixel type is stored, from image.ts's BITPIX table, the one the reader uses too. */
interface Storage {
  readonly type: BitpixType;
  readonly tform: string;
  /** BZERO/TZERO for the types FITS stores with the other signedness; 0 for the native ones. */
  readonly zero: number | bigint;
}

const STORAGE: ReadonlyMap<PixelDtype, Storage> = new Map(
  [...BITPIX_TYPES.values()].flatMap((type): [PixelDtype, Storage][] => {
    const tform = TFORM_LETTERS.get(type.bitpix)!;
    const native: [PixelDtype, Storage] = [type.dtype, { type, tform, zero: 0 }];
    return type.flipped ? [native, [type.flipped.dtype, { type, tform, zero: type.flipped.bzero }]] : [native];
  }),
);

function storageOf(dtype: PixelDtype): Storage {
  const storage = STORAGE.get(dtype);
  if (storage === undefined) fail(`unknown pixel type '${dtype}'`);
  return storage;
}

function dtypeOf(values: PixelArray): PixelDtype {
  const types = [...BITPIX_TYPES.values()].flatMap((type) => (type.flipped ? [type, type.flipped] : [type]));
  // Buffer and other subclasses of the typed arrays have their own constructor, hence the second pass.
  const found = types.find((type) => values.constructor === type.array) ?? types.find((type) => values instanceof type.array);
  if (found === undefined) fail('pixel data must be a typed array');
  return found.dtype;
}

/**
 * Copies `values` as stored big-endian FITS values into the start of `out`. Subtracting a zero of half
 * the range is the same as flipping the top bit of the two's-complement value, i.e. of the first
 * big-endian byte, so offset types cost one XOR per value.
 */
function encodeBigEndian(values: PixelArray, storage: Storage, out: Buffer): Buffer {
  const width = storage.type.bytes;
  const bytes = out.subarray(0, values.byteLength);
  bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  if (HOST_IS_LITTLE_ENDIAN) {
    if (width === 2) bytes.swap16();
    else if (width === 4) bytes.swap32();
    else if (width === 8) bytes.swap64();
  }
  if (storage.zero !== 0) {
    for (let i = 0; i < bytes.length; i += width) bytes[i]! ^= 0x80;
  }
  return bytes;
}

/** Keywords that describe the data layout or the checksums; only the writer may set them. */
const RESERVED =
  /^(SIMPLE|BITPIX|NAXIS\d*|EXTEND|XTENSION|PCOUNT|GCOUNT|GROUPS|TFIELDS|THEAP|BSCALE|BZERO|EXTNAME|CHECKSUM|DATASUM|(TTYPE|TFORM|TUNIT|TDIM|TZERO|TSCAL)\d+)$/;

/** True for keywords the writer derives itself; filter them out when copying a parsed header. */
export function isReservedKeyword(key: string): boolean {
  return RESERVED.test(key);
}

interface HduCommon {
  /** EXTNAME. */
  readonly name?: string;
  /** Further cards (WCS, provenance, COMMENT/HISTORY); reserved keywords are refused. */
  readonly cards?: readonly CardInput[];
}

export interface ImageSpec extends HduCommon {
  /** FITS order: axes[0] = NAXIS1, the fastest-varying axis. */
  readonly axes: readonly number[];
  readonly dtype: PixelDtype;
}

export interface ImageHduInput extends ImageSpec {
  readonly type: 'image';
  /** Row-major with NAXIS1 fastest; the array type must match `dtype`. */
  readonly data: PixelArray;
}

/** A primary HDU without data, as multi-extension files begin. */
export interface EmptyHduInput {
  readonly type: 'empty';
  readonly cards?: readonly CardInput[];
}

interface ColumnMeta {
  /** TTYPEn. */
  readonly name: string;
  /** TUNITn. */
  readonly unit?: string;
  /** Further per-column keywords by prefix, written with the column number, e.g. `{ TUCD: 'pos.eq.ra' }`. */
  readonly keywords?: Readonly<Record<string, HeaderValue>>;
}

interface ArrayCellMeta extends ColumnMeta {
  /** TDIMn, NAXIS1-style order (fastest first); its product is the number of elements per row. */
  readonly dims?: readonly number[];
}

/** One value per row, or `prod(dims)` values per row laid out row after row. */
export interface NumericColumn extends ArrayCellMeta {
  readonly values: PixelArray;
}

export interface LogicalColumn extends ArrayCellMeta {
  /** `null` is the FITS undefined logical. */
  readonly logicals: readonly (boolean | null)[];
}

export interface StringColumn extends ColumnMeta {
  readonly strings: readonly string[];
  /** Field width in characters; defaults to the longest string. */
  readonly width?: number;
}

export type ColumnInput = NumericColumn | LogicalColumn | StringColumn;

export interface TableHduInput extends HduCommon {
  readonly type: 'bintable';
  readonly columns: readonly ColumnInput[];
}

export type HduInput = ImageHduInput | EmptyHduInput | TableHduInput;

/** A column as laid out in a row: its TFORM, width in bytes and a way to produce its cells. */
interface ColumnLayout {
  readonly tform: string;
  readonly rows: number;
  readonly cellBytes: number;
  readonly cards: CardInput[];
  /** Writes the cells of rows [first, end) contiguously at the start of `out`. */
  encode(first: number, end: number, out: Buffer): void;
}

function fail(reason: string): never {
  throw new OutputError(reason);
}

function product(values: readonly number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

function checkCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) fail(`${what} must be a non-negative integer, not ${value}`);
}

function elementsPerRow(column: ArrayCellMeta): number {
  if (column.dims === undefined) return 1;
  column.dims.forEach((d) => checkCount(d, `TDIM of column '${column.name}'`));
  return product(column.dims);
}

function rowsOf(values: number, perRow: number, name: string): number {
  if (perRow === 0 ? values !== 0 : values % perRow !== 0) {
    fail(`column '${name}' has ${values} values, not a multiple of ${perRow} per row`);
  }
  return perRow === 0 ? 0 : values / perRow;
}

function layoutColumn(column: ColumnInput): ColumnLayout {
  const cards: CardInput[] = [];
  if ('values' in column) {
    const storage = storageOf(dtypeOf(column.values));
    const perRow = elementsPerRow(column);
    if (storage.zero !== 0) cards.push({ key: 'TZERO', value: storage.zero, comment: 'offset for unsigned integers' });
    return {
      tform: `${perRow}${storage.tform}`,
      rows: rowsOf(column.values.length, perRow, column.name),
      cellBytes: perRow * storage.type.bytes,
      cards,
      encode: (first, end, out) => encodeBigEndian(column.values.subarray(first * perRow, end * perRow), storage, out),
    };
  }
  if ('logicals' in column) {
    const perRow = elementsPerRow(column);
    return {
      tform: `${perRow}L`,
      rows: rowsOf(column.logicals.length, perRow, column.name),
      cellBytes: perRow,
      cards,
      encode: (first, end, out) => {
        for (let i = first * perRow; i < end * perRow; i++) {
          const value = column.logicals[i];
          out[i - first * perRow] = value === true ? 0x54 : value === false ? 0x46 : 0; // 'T', 'F', undefined
        }
      },
    };
  }
  const longest = column.strings.reduce((max, s) => Math.max(max, s.length), 0);
  const width = column.width ?? Math.max(1, longest);
  checkCount(width, `width of column '${column.name}'`);
  for (const s of column.strings) {
    if (!/^[\x20-\x7e]*$/.test(s)) fail(`column '${column.name}' holds a string outside printable ASCII`);
    if (s.length > width) fail(`column '${column.name}' holds a string longer than its width ${width}`);
  }
  return {
    tform: `${width}A`,
    rows: column.strings.length,
    cellBytes: width,
    cards,
    // A short string ends at an ASCII NUL (FITS 4.0 section 7.3.3.1), so trailing blanks survive.
    encode: (first, end, out) => {
      out.fill(0, 0, (end - first) * width);
      for (let row = first; row < end; row++) out.write(column.strings[row]!, (row - first) * width, 'latin1');
    },
  };
}

function columnCards(column: ColumnInput, layout: ColumnLayout, n: number): CardInput[] {
  const cards: CardInput[] = [
    { key: `TTYPE${n}`, value: column.name },
    { key: `TFORM${n}`, value: layout.tform },
  ];
  if (column.unit !== undefined) cards.push({ key: `TUNIT${n}`, value: column.unit });
  if ('dims' in column && column.dims !== undefined) cards.push({ key: `TDIM${n}`, value: `(${column.dims.join(',')})` });
  for (const card of layout.cards) cards.push({ ...card, key: `${card.key}${n}` });
  for (const [prefix, value] of Object.entries(column.keywords ?? {})) {
    const key = `${prefix}${n}`;
    if (isReservedKeyword(key)) fail(`column keyword ${prefix} is set by the writer`);
    cards.push({ key, value });
  }
  return cards;
}

function userCards(cards: readonly CardInput[] | undefined, name: string | undefined): CardInput[] {
  for (const card of cards ?? []) {
    if (isReservedKeyword(card.key)) fail(`${card.key} is set by the writer and cannot be given as a card`);
  }
  const named: CardInput[] = name === undefined ? [] : [{ key: 'EXTNAME', value: name, comment: 'extension name' }];
  return [...named, ...(cards ?? [])];
}

/** The cards of an HDU in writing order, up to but not including DATASUM, CHECKSUM and END. */
function imageCards(spec: ImageSpec | EmptyHduInput, primary: boolean): CardInput[] {
  const axes = 'axes' in spec ? spec.axes : [];
  const storage = storageOf('dtype' in spec ? spec.dtype : 'uint8');
  if ('axes' in spec && (axes.length === 0 || axes.length > 999)) fail(`an image needs 1 to 999 axes, not ${axes.length}`);
  axes.forEach((n, i) => checkCount(n, `NAXIS${i + 1}`));
  const cards: CardInput[] = [
    primary
      ? { key: 'SIMPLE', value: true, comment: 'conforms to FITS standard' }
      : { key: 'XTENSION', value: 'IMAGE', comment: 'image extension' },
    { key: 'BITPIX', value: storage.type.bitpix, comment: 'array data type' },
    { key: 'NAXIS', value: axes.length, comment: 'number of array dimensions' },
    ...axes.map((n, i) => ({ key: `NAXIS${i + 1}`, value: n })),
  ];
  if (primary) cards.push({ key: 'EXTEND', value: true, comment: 'extensions may follow' });
  else cards.push({ key: 'PCOUNT', value: 0 }, { key: 'GCOUNT', value: 1 });
  if (storage.zero !== 0) {
    cards.push({ key: 'BSCALE', value: 1 }, { key: 'BZERO', value: storage.zero, comment: 'offset for unsigned integers' });
  }
  return [...cards, ...userCards(spec.cards, 'name' in spec ? spec.name : undefined)];
}

function tableCards(spec: TableHduInput, layouts: readonly ColumnLayout[], rows: number): CardInput[] {
  return [
    { key: 'XTENSION', value: 'BINTABLE', comment: 'binary table extension' },
    { key: 'BITPIX', value: 8, comment: 'array data type' },
    { key: 'NAXIS', value: 2, comment: 'number of array dimensions' },
    { key: 'NAXIS1', value: layouts.reduce((sum, l) => sum + l.cellBytes, 0), comment: 'bytes per row' },
    { key: 'NAXIS2', value: rows, comment: 'number of rows' },
    { key: 'PCOUNT', value: 0, comment: 'size of heap' },
    { key: 'GCOUNT', value: 1 },
    { key: 'TFIELDS', value: layouts.length, comment: 'number of columns' },
    ...spec.columns.flatMap((column, i) => columnCards(column, layouts[i]!, i + 1)),
    ...userCards(spec.cards, spec.name),
  ];
}

/** An HDU whose header is written and whose data unit is being filled. */
interface OpenHdu {
  readonly headerOffset: number;
  readonly header: Buffer;
  /** Index of the DATASUM card; CHECKSUM follows it. */
  readonly datasumCard: number;
  readonly dataBytes: number;
  written: number;
  readonly sum: Checksum32;
  /** Set while an image is streamed through writePixels. */
  readonly dtype?: PixelDtype;
}

const CHECKSUM_PLACEHOLDER = '0000000000000000';

function datasumCard(datasum: number): string {
  return formatCard({ key: 'DATASUM', value: String(datasum), comment: 'data unit checksum' })[0]!;
}

function checksumCard(value: string): string {
  return formatCard({ key: 'CHECKSUM', value, comment: 'HDU checksum' })[0]!;
}

/**
 * Writes one FITS file HDU by HDU. Every method must be awaited before the next call. Any failure
 * removes the temporary file and rejects with an OutputError naming the target; nothing appears at
 * the target until `close()` succeeds.
 *
 *     const writer = await FitsWriter.create('tile.fits');
 *     await writer.beginImage({ axes: [19200, 19200], dtype: 'float32', cards: wcsCards });
 *     for (const rows of chunks) await writer.writePixels(rows);
 *     await writer.close();
 */
export class FitsWriter {
  private offset = 0;
  private hdus = 0;
  private current: OpenHdu | undefined;
  private scratch = Buffer.alloc(0);
  private done = false;

  private constructor(private readonly file: AtomicFile) {}

  get path(): string {
    return this.file.target;
  }

  static async create(target: string): Promise<FitsWriter> {
    return new FitsWriter(await AtomicFile.create(target));
  }

  /** Writes a complete HDU. The first HDU must be an image or empty; tables only follow it. */
  writeHdu(hdu: HduInput): Promise<void> {
    return this.guard(async () => {
      if (hdu.type === 'image') {
        await this.startImage(hdu);
        await this.pixels(hdu.data);
      } else if (hdu.type === 'empty') {
        if (this.hdus > 0) fail('an empty HDU can only be the primary HDU');
        await this.startHdu(imageCards(hdu, true), 0);
      } else {
        await this.writeTable(hdu);
      }
      await this.finishHdu();
    });
  }

  /** Writes an image header; its pixels follow through writePixels, in storage order. */
  beginImage(spec: ImageSpec): Promise<void> {
    return this.guard(() => this.startImage(spec));
  }

  /** The next pixels of the image begun with beginImage, any number at a time, as the same array type. */
  writePixels(pixels: PixelArray): Promise<void> {
    return this.guard(() => this.pixels(pixels));
  }

  /** Completes the last HDU and moves the file into place. */
  close(): Promise<void> {
    return this.guard(async () => {
      if (this.hdus === 0) fail('a FITS file needs at least one HDU');
      await this.finishHdu();
      this.done = true;
      await this.file.commit();
    });
  }

  /** Gives up: removes the temporary file. Safe to call more than once. */
  async abort(): Promise<void> {
    this.done = true;
    await this.file.abort();
  }

  private async guard(step: () => Promise<void>): Promise<void> {
    if (this.done) throw new OutputError('the writer is already closed or failed', { file: this.path });
    try {
      await step();
    } catch (error) {
      await this.abort();
      throw asOutputError(error, this.path);
    }
  }

  private async startImage(spec: ImageSpec): Promise<void> {
    const { bytes } = storageOf(spec.dtype).type;
    await this.startHdu(imageCards(spec, this.hdus === 0), bytes * product(spec.axes), spec.dtype);
  }

  private async pixels(pixels: PixelArray): Promise<void> {
    const dtype = this.current?.dtype;
    if (dtype === undefined) fail('writePixels needs an image begun with beginImage');
    if (dtypeOf(pixels) !== dtype) fail(`pixels of type ${dtypeOf(pixels)} given for a ${dtype} image`);
    const storage = storageOf(dtype);
    const perChunk = Math.max(1, Math.floor(SCRATCH_BYTES / storage.type.bytes));
    for (let start = 0; start < pixels.length; start += perChunk) {
      const chunk = pixels.subarray(start, start + perChunk);
      await this.data(encodeBigEndian(chunk, storage, this.scratchOf(chunk.byteLength)));
    }
  }

  private async writeTable(spec: TableHduInput): Promise<void> {
    if (this.hdus === 0) fail('a binary table cannot be the primary HDU; write an empty HDU first');
    const layouts = spec.columns.map(layoutColumn);
    const rows = layouts[0]?.rows ?? 0;
    layouts.forEach((layout, i) => {
      if (layout.rows !== rows) fail(`column '${spec.columns[i]!.name}' has ${layout.rows} rows, not ${rows}`);
    });
    const rowBytes = layouts.reduce((sum, l) => sum + l.cellBytes, 0);
    await this.startHdu(tableCards(spec, layouts, rows), rowBytes * rows);
    if (rowBytes === 0) return;

    const rowsPerChunk = Math.max(1, Math.floor(SCRATCH_BYTES / 2 / rowBytes));
    const table = Buffer.alloc(Math.min(rows, rowsPerChunk) * rowBytes);
    for (let first = 0; first < rows; first += rowsPerChunk) {
      const end = Math.min(rows, first + rowsPerChunk);
      let columnOffset = 0;
      for (const layout of layouts) {
        const cells = this.scratchOf((end - first) * layout.cellBytes);
        layout.encode(first, end, cells);
        for (let row = 0; row < end - first; row++) {
          cells.copy(table, row * rowBytes + columnOffset, row * layout.cellBytes, (row + 1) * layout.cellBytes);
        }
        columnOffset += layout.cellBytes;
      }
      await this.data(table.subarray(0, (end - first) * rowBytes));
    }
  }

  private scratchOf(bytes: number): Buffer {
    if (this.scratch.length < bytes) this.scratch = Buffer.allocUnsafe(Math.max(bytes, Math.min(SCRATCH_BYTES, 2 * this.scratch.length)));
    return this.scratch;
  }

  private async startHdu(cards: readonly CardInput[], dataBytes: number, dtype?: PixelDtype): Promise<void> {
    await this.finishHdu();
    const images = cards.flatMap(formatCard);
    const firstContinue = images.findIndex((image) => image.startsWith('CONTINUE'));
    if (firstContinue > 0 && !cards.some((card) => card.key === 'LONGSTRN')) {
      // fitsverify warns about CONTINUE cards unless the header declares the convention.
      images.splice(firstContinue - 1, 0, ...formatCard({ key: 'LONGSTRN', value: 'OGIP 1.0', comment: 'CONTINUE cards may follow' }));
    }
    const datasumIndex = images.length;
    images.push(datasumCard(0), checksumCard(CHECKSUM_PLACEHOLDER), 'END'.padEnd(CARD_SIZE));
    const header = Buffer.alloc(Math.ceil((images.length * CARD_SIZE) / BLOCK_SIZE) * BLOCK_SIZE, ' ', 'latin1');
    header.write(images.join(''), 0, 'latin1');
    const headerOffset = this.offset;
    await this.put(header);
    this.current = { headerOffset, header, datasumCard: datasumIndex, dataBytes, written: 0, sum: new Checksum32(), dtype };
    this.hdus++;
  }

  private async data(bytes: Uint8Array): Promise<void> {
    const hdu = this.current!;
    if (hdu.written + bytes.length > hdu.dataBytes) fail(`more data than the header's ${hdu.dataBytes} bytes`);
    hdu.sum.update(bytes);
    hdu.written += bytes.length;
    await this.put(bytes);
  }

  /** Pads the data unit, then rewrites the header in place with its DATASUM and CHECKSUM. */
  private async finishHdu(): Promise<void> {
    const hdu = this.current;
    if (hdu === undefined) return;
    if (hdu.written !== hdu.dataBytes) fail(`the data unit got ${hdu.written} of ${hdu.dataBytes} bytes`);
    this.current = undefined;
    const padding = (BLOCK_SIZE - (hdu.dataBytes % BLOCK_SIZE)) % BLOCK_SIZE;
    if (padding > 0) await this.put(Buffer.alloc(padding));

    const datasum = hdu.sum.value;
    const at = hdu.datasumCard * CARD_SIZE;
    hdu.header.write(datasumCard(datasum), at, 'latin1');
    const checksum = encodeChecksum(addChecksums(checksumOf(hdu.header), datasum));
    hdu.header.write(checksumCard(checksum), at + CARD_SIZE, 'latin1');
    await this.writeAt(hdu.header, hdu.headerOffset);
  }

  private async put(bytes: Uint8Array): Promise<void> {
    await this.writeAt(bytes, this.offset);
    this.offset += bytes.length;
  }

  private writeAt(bytes: Uint8Array, position: number): Promise<void> {
    return this.file.writeAt(bytes, position);
  }
}


/** Writes `hdus` to `target` atomically; `hdus[0]` is the primary HDU (an image or `{ type: 'empty' }`). */
export async function writeFits(target: string, hdus: readonly HduInput[]): Promise<void> {
  const writer = await FitsWriter.create(target);
  for (const hdu of hdus) await writer.writeHdu(hdu);
  await writer.close();
}

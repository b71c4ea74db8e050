/**
 * Contracts shared by the FITS modules (header, file/HDU scanning, images, tables, compressed images,
 * writer, WCS). Kept in one small file so each layer can be built and tested on its own.
 */

/** A header value as FITS defines it; `null` is a keyword present with an undefined (empty) value. */
export type HeaderValue = string | number | bigint | boolean | null;

export interface HeaderCard {
  /** Keyword, upper case; for HIERARCH cards the dotted/spaced name after `HIERARCH ` (e.g. `ESO DET CHIP`). */
  readonly key: string;
  /** Parsed value; `undefined` for commentary cards (COMMENT, HISTORY, blank). */
  readonly value: HeaderValue | undefined;
  readonly comment: string;
}

/** Read-only keyword lookup: everything WCS and the image/table layers need from a header. */
export interface HeaderLookup {
  /** The last occurrence of a repeated keyword wins (astropy returns the first; see FitsHeader.getAll). */
  get(key: string): HeaderValue | undefined;
  has(key: string): boolean;
}

/** Random-access bytes: a file opened by path (read on demand) or an in-memory buffer (gunzipped). */
export interface ByteSource {
  /** Used in error messages. */
  readonly path: string;
  readonly size: number;
  /** Returns exactly `length` bytes at `offset`, or throws InvalidInputError if the source is shorter. */
  read(offset: number, length: number): Uint8Array;
  /** Fills `target` with the bytes at `offset`: no allocation, for the many small reads of sections. */
  readInto(offset: number, target: Uint8Array): void;
  close(): void;
}

export type HduKind = 'image' | 'compressed-image' | 'bintable' | 'ascii-table' | 'random-groups';

export interface HduInfo {
  readonly index: number;
  /**
   * EXTNAME (ZEXTNAME is not used here), or 'PRIMARY' for HDU 0 without EXTNAME, else ''. Tile-compressed
   * images are named as astropy names them: the first EXTNAME other than its default 'COMPRESSED_IMAGE',
   * else 'COMPRESSED_IMAGE'.
   */
  readonly name: string;
  readonly kind: HduKind;
  readonly header: HeaderLookup & { readonly cards: readonly HeaderCard[] };
  /** Byte offset of the first header block. */
  readonly headerOffset: number;
  /** Byte offset of the data unit (a multiple of 2880). */
  readonly dataOffset: number;
  /** Size of the data unit in bytes before padding: |BITPIX|/8 * GCOUNT * (PCOUNT + prod(NAXISn)). */
  readonly dataSize: number;
}

/** Pixel storage after BSCALE/BZERO as astropy would give it. */
export type PixelArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

export type PixelDtype =
  | 'uint8'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64';

export interface ImageData {
  /** FITS axis order: axes[0] = NAXIS1 (fastest varying, x), axes[1] = NAXIS2 (y), ... */
  readonly axes: readonly number[];
  readonly dtype: PixelDtype;
  /** Row-major with NAXIS1 fastest, as stored in FITS. */
  readonly data: PixelArray;
}

/** A rectangular region in 0-based pixel indices, half-open: x in [x0, x1), y in [y0, y1). */
export interface Section {
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
}

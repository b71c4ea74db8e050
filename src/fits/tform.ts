/**
 * TFORMn of binary and ASCII tables (FITS 4.0 sections 7.2.2, 7.3.1, 7.3.5): parsing, field widths,
 * and the one table of binary element types saying how each decodes from its big-endian bytes, so the
 * table reader never switches on a type code itself.
 */

import { Buffer } from 'node:buffer';
import { InvalidInputError, UnsupportedError, type ErrorLocation } from '../errors.js';
import type { PixelArray, PixelDtype } from './types.js';

/** What one decoded array slot holds: numbers by pixel dtype, complex as interleaved (re, im) parts. */
export type ValueDtype = PixelDtype | 'complex64' | 'complex128' | 'logical' | 'bit' | 'string';

/**
 * Decoded values, flat. Typed arrays for numbers (complex: re, im interleaved), `boolean | null` for L
 * (null where the byte is neither 'T' nor 'F', e.g. 0), `boolean` for X bits (first bit = most significant
 * bit of the first byte), strings for A.
 */
export type ElementArray = PixelArray | readonly (boolean | null)[] | readonly string[];

/** The writable form decoders fill; every `ElementArray` is one. */
type SlotArray = { [slot: number]: number | bigint | boolean | null | string; readonly length: number };

/** TSCALn, TZEROn and TNULLn of one column, already read from the header. */
export interface ColumnScaling {
  readonly scale: number;
  /** A bigint when the header gives an integer beyond 2^53 (the unsigned 64-bit TZERO = 2^63). */
  readonly zero: number | bigint;
  readonly nullValue?: number | bigint | undefined;
}

/** The bytes of one read with a view on them, built once per read rather than once per cell. */
export interface ByteBlock {
  readonly bytes: Uint8Array;
  readonly view: DataView;
}

export function byteBlock(bytes: Uint8Array): ByteBlock {
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** Turns the stored elements of one column into values; built once per column for its scaling. */
export interface ElementDecoder {
  readonly dtype: ValueDtype;
  /** Array slots that `count` stored elements (characters for A, bits for X) decode to. */
  slots(count: number): number;
  alloc(slots: number): ElementArray;
  /**
   * Decodes `count` stored elements at `offset` of `block` into `out` from slot `at`; where TNULLn is set,
   * marks `nulls[slot] = 1` for each element stored as that value.
   */
  decode(block: ByteBlock, offset: number, count: number, out: ElementArray, at: number, nulls?: Uint8Array): void;
}

export type BinaryTypeCode = 'L' | 'X' | 'B' | 'I' | 'J' | 'K' | 'A' | 'E' | 'D' | 'C' | 'M';

export interface BinaryElementType {
  readonly code: BinaryTypeCode;
  /** Bytes that `count` elements occupy (X packs 8 bits a byte). */
  bytes(count: number): number;
  /** Whether TNULLn applies (B, I, J, K); TSCALn/TZEROn apply to these and to E, D, C, M. */
  readonly integer: boolean;
  /** `stringLength` is the A width from TDIMn or `rAw`; without it a cell is one string. */
  decoder(scaling: ColumnScaling, stringLength?: number): ElementDecoder;
}

interface NumericLayout {
  readonly partBytes: number;
  /** 2 for complex: real part first, as stored. */
  readonly parts: 1 | 2;
  readonly dtype: PixelDtype;
  readonly complexDtype?: ValueDtype;
  readonly read: (view: DataView, offset: number) => number | bigint;
  readonly alloc: (length: number) => PixelArray;
  /** FITS 4.0 Table 7.7: the TZERO that, with TSCAL 1, stores the other signedness of the same width. */
  readonly offsetType?: { readonly zero: bigint; readonly dtype: PixelDtype; readonly alloc: (n: number) => PixelArray };
}

function isExactly(value: number | bigint, target: bigint): boolean {
  return typeof value === 'bigint' ? value === target : Number.isSafeInteger(value) ? BigInt(value) === target : value === Number(target);
}

function numericDecoder(layout: NumericLayout, scaling: ColumnScaling): ElementDecoder {
  const { partBytes, parts, read } = layout;
  const identity = scaling.scale === 1 && isExactly(scaling.zero, 0n);
  const offsetType =
    layout.offsetType !== undefined && scaling.scale === 1 && isExactly(scaling.zero, layout.offsetType.zero)
      ? layout.offsetType
      : undefined;
  const nullValue = scaling.nullValue;
  const nullTest =
    nullValue === undefined
      ? undefined
      : layout.dtype === 'int64'
        ? (raw: number | bigint) => raw === BigInt(nullValue)
        : (raw: number | bigint) => raw === Number(nullValue);

  let dtype: ValueDtype;
  let alloc: (length: number) => PixelArray;
  let convert: (raw: number | bigint, part: number) => number | bigint;
  if (identity) {
    dtype = layout.complexDtype ?? layout.dtype;
    alloc = layout.alloc;
    convert = (raw) => raw;
  } else if (offsetType !== undefined) {
    dtype = offsetType.dtype;
    alloc = offsetType.alloc;
    const bigZero = offsetType.zero;
    const zero = Number(bigZero);
    convert = (raw) => (typeof raw === 'bigint' ? raw + bigZero : raw + zero);
  } else {
    // Scaled values are physical quantities; float64 as astropy gives them. TZERO shifts only the real part.
    dtype = parts === 2 ? 'complex128' : 'float64';
    alloc = (length) => new Float64Array(length);
    const { scale } = scaling;
    const zero = Number(scaling.zero);
    convert = (raw, part) => Number(raw) * scale + (part === 0 ? zero : 0);
  }
  return {
    dtype,
    slots: (count) => count * parts,
    alloc,
    decode(block, offset, count, out, at, nulls) {
      const target = out as SlotArray;
      const { view } = block;
      const slots = count * parts;
      for (let slot = 0; slot < slots; slot++) {
        const raw = read(view, offset + slot * partBytes);
        target[at + slot] = convert(raw, slot % parts);
        if (nulls !== undefined && nullTest !== undefined) nulls[at + slot] = nullTest(raw) ? 1 : 0;
      }
    },
  };
}

const T = 0x54;
const F = 0x46;

const logicalDecoder: ElementDecoder = {
  dtype: 'logical',
  slots: (count) => count,
  alloc: (slots) => new Array<boolean | null>(slots).fill(null),
  decode(block, offset, count, out, at) {
    const target = out as SlotArray;
    for (let i = 0; i < count; i++) {
      const byte = block.bytes[offset + i];
      target[at + i] = byte === T ? true : byte === F ? false : null;
    }
  },
};

const bitDecoder: ElementDecoder = {
  dtype: 'bit',
  slots: (count) => count,
  alloc: (slots) => new Array<boolean>(slots).fill(false),
  decode(block, offset, count, out, at) {
    const target = out as SlotArray;
    for (let i = 0; i < count; i++) target[at + i] = (block.bytes[offset + (i >> 3)]! & (0x80 >> (i & 7))) !== 0;
  },
};

/** FITS 4.0 7.3.3.1: characters after the first NUL are undefined; trailing spaces carry no meaning. */
function fitsString(bytes: Uint8Array, start: number, length: number): string {
  let end = start;
  const limit = start + length;
  while (end < limit && bytes[end] !== 0) end++;
  while (end > start && bytes[end - 1] === 0x20) end--;
  if (end === start) return '';
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

function stringDecoder(stringLength: number | undefined): ElementDecoder {
  const strings = (count: number) => (stringLength === undefined ? 1 : stringLength === 0 ? 0 : Math.floor(count / stringLength));
  return {
    dtype: 'string',
    slots: strings,
    alloc: (slots) => new Array<string>(slots).fill(''),
    decode(block, offset, count, out, at) {
      const target = out as SlotArray;
      const width = stringLength ?? count;
      for (let i = 0; i < strings(count); i++) target[at + i] = fitsString(block.bytes, offset + i * width, width);
    },
  };
}

function numericType(code: BinaryTypeCode, integer: boolean, layout: NumericLayout): BinaryElementType {
  const elementBytes = layout.partBytes * layout.parts;
  return { code, integer, bytes: (count) => count * elementBytes, decoder: (scaling) => numericDecoder(layout, scaling) };
}

/** Every binary-table element type, indexed by its TFORM letter. */
export const BINARY_TYPES: Readonly<Record<BinaryTypeCode, BinaryElementType>> = {
  L: { code: 'L', integer: false, bytes: (count) => count, decoder: () => logicalDecoder },
  X: { code: 'X', integer: false, bytes: (count) => Math.ceil(count / 8), decoder: () => bitDecoder },
  A: { code: 'A', integer: false, bytes: (count) => count, decoder: (_scaling, length) => stringDecoder(length) },
  B: numericType('B', true, {
    partBytes: 1,
    parts: 1,
    dtype: 'uint8',
    read: (view, offset) => view.getUint8(offset),
    alloc: (n) => new Uint8Array(n),
    offsetType: { zero: -128n, dtype: 'int8', alloc: (n) => new Int8Array(n) },
  }),
  I: numericType('I', true, {
    partBytes: 2,
    parts: 1,
    dtype: 'int16',
    read: (view, offset) => view.getInt16(offset),
    alloc: (n) => new Int16Array(n),
    offsetType: { zero: 32768n, dtype: 'uint16', alloc: (n) => new Uint16Array(n) },
  }),
  J: numericType('J', true, {
    partBytes: 4,
    parts: 1,
    dtype: 'int32',
    read: (view, offset) => view.getInt32(offset),
    alloc: (n) => new Int32Array(n),
    offsetType: { zero: 2147483648n, dtype: 'uint32', alloc: (n) => new Uint32Array(n) },
  }),
  K: numericType('K', true, {
    partBytes: 8,
    parts: 1,
    dtype: 'int64',
    read: (view, offset) => view.getBigInt64(offset),
    alloc: (n) => new BigInt64Array(n),
    offsetType: { zero: 9223372036854775808n, dtype: 'uint64', alloc: (n) => new BigUint64Array(n) },
  }),
  E: numericType('E', false, {
    partBytes: 4,
    parts: 1,
    dtype: 'float32',
    read: (view, offset) => view.getFloat32(offset),
    alloc: (n) => new Float32Array(n),
  }),
  D: numericType('D', false, {
    partBytes: 8,
    parts: 1,
    dtype: 'float64',
    read: (view, offset) => view.getFloat64(offset),
    alloc: (n) => new Float64Array(n),
  }),
  C: numericType('C', false, {
    partBytes: 4,
    parts: 2,
    dtype: 'float32',
    complexDtype: 'complex64',
    read: (view, offset) => view.getFloat32(offset),
    alloc: (n) => new Float32Array(n),
  }),
  M: numericType('M', false, {
    partBytes: 8,
    parts: 2,
    dtype: 'float64',
    complexDtype: 'complex128',
    read: (view, offset) => view.getFloat64(offset),
    alloc: (n) => new Float64Array(n),
  }),
};

/** A variable-length array descriptor: P holds two int32 (count, heap offset), Q two int64. */
export interface ArrayDescriptor {
  readonly code: 'P' | 'Q';
  readonly bytes: 8 | 16;
  /** The `(emax)` of the TFORM: a writer's declared maximum, not enforced. */
  readonly maxLength?: number | undefined;
}

export interface BinaryTform {
  /** Elements in the row: characters for A, bits for X; 0 or 1 descriptors for P/Q. */
  readonly repeat: number;
  /** The type of the values: the array elements for P/Q. */
  readonly type: BinaryElementType;
  readonly descriptor?: ArrayDescriptor | undefined;
  /** The `w` of the `rAw` substring convention (strings of w characters), when given. */
  readonly substringLength?: number | undefined;
  /** Bytes the field occupies in the row. */
  readonly byteWidth: number;
}

function isBinaryTypeCode(code: string): code is BinaryTypeCode {
  return Object.hasOwn(BINARY_TYPES, code);
}

const BINARY_TFORM = /^(\d*)([A-Z])(.*)$/;
const DESCRIPTOR_TAIL = /^([A-Z])(?:\((\d+)\))?$/;
const SUBSTRING_TAIL = /^(\d+)$/;

/** `column` names the field in messages, e.g. `column 3 (FLUX)`. */
export function parseBinaryTform(text: string, column: string, where: ErrorLocation): BinaryTform {
  const trimmed = text.trim().toUpperCase();
  const match = BINARY_TFORM.exec(trimmed);
  if (match === null) throw new InvalidInputError(`${column}: TFORM '${text}' is not of the form rTa`, where);
  const [, repeatText, code, tail] = match as unknown as [string, string, string, string];
  const repeat = repeatText === '' ? 1 : Number(repeatText);
  if (!Number.isSafeInteger(repeat)) throw new InvalidInputError(`${column}: TFORM '${text}' repeat count is too large`, where);

  if (code === 'P' || code === 'Q') {
    const tailMatch = DESCRIPTOR_TAIL.exec(tail);
    if (tailMatch === null) {
      throw new InvalidInputError(`${column}: TFORM '${text}' is not a descriptor of the form rPt(emax)`, where);
    }
    const [, elementCode, max] = tailMatch as unknown as [string, string, string | undefined];
    if (!isBinaryTypeCode(elementCode)) {
      throw new UnsupportedError(`${column}: TFORM '${text}' has array element type '${elementCode}', not one of FITS 4.0`, where);
    }
    if (repeat > 1) throw new InvalidInputError(`${column}: TFORM '${text}' repeats a descriptor ${repeat} times (0 or 1 allowed)`, where);
    const descriptor: ArrayDescriptor = { code, bytes: code === 'P' ? 8 : 16, maxLength: max === undefined ? undefined : Number(max) };
    return { repeat, type: BINARY_TYPES[elementCode], descriptor, byteWidth: repeat * descriptor.bytes };
  }

  if (!isBinaryTypeCode(code)) {
    throw new UnsupportedError(`${column}: TFORM '${text}' has type code '${code}', not one of FITS 4.0`, where);
  }
  const type = BINARY_TYPES[code];
  const substring = code === 'A' ? SUBSTRING_TAIL.exec(tail) : null;
  const substringLength = substring === null ? undefined : Number(substring[1]);
  return { repeat, type, substringLength, byteWidth: type.bytes(repeat) };
}

export type AsciiCode = 'A' | 'I' | 'F' | 'E' | 'D';

export interface AsciiTform {
  readonly code: AsciiCode;
  /** Characters of the field. */
  readonly width: number;
  /** The `d` of Fw.d, Ew.d, Dw.d: digits after an implicit decimal point. */
  readonly decimals: number;
}

const ASCII_TFORM = /^([AIFED])(\d+)(?:\.(\d+))?$/;

export function parseAsciiTform(text: string, column: string, where: ErrorLocation): AsciiTform {
  const trimmed = text.trim().toUpperCase();
  const match = ASCII_TFORM.exec(trimmed);
  if (match === null) {
    const code = trimmed.charAt(0);
    if (/^[A-Z]\d/.test(trimmed) && !'AIFED'.includes(code)) {
      throw new UnsupportedError(`${column}: ASCII-table TFORM '${text}' has code '${code}', not one of Aw Iw Fw.d Ew.d Dw.d`, where);
    }
    throw new InvalidInputError(`${column}: ASCII-table TFORM '${text}' is not one of Aw Iw Fw.d Ew.d Dw.d`, where);
  }
  const [, code, width, decimals] = match as unknown as [string, AsciiCode, string, string | undefined];
  if ((code === 'A' || code === 'I') !== (decimals === undefined)) {
    throw new InvalidInputError(`${column}: ASCII-table TFORM '${text}': ${code} ${code === 'A' || code === 'I' ? 'takes no' : 'needs a'} .d`, where);
  }
  const w = Number(width);
  if (w === 0) throw new InvalidInputError(`${column}: ASCII-table TFORM '${text}' has zero width`, where);
  return { code, width: w, decimals: decimals === undefined ? 0 : Number(decimals) };
}

/** Builds FITS files byte by byte for tests, including deliberately broken ones. */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BLOCK = 2880;

/** A fixed-format card: numbers and logicals right-aligned to column 30, strings quoted. */
export function card(key: string, value: string | number | boolean | bigint, comment?: string): string {
  const text =
    typeof value === 'string' ? `'${value.replace(/'/g, "''").padEnd(8)}'` : typeof value === 'boolean' ? (value ? 'T' : 'F') : String(value);
  const field = typeof value === 'string' ? text : text.padStart(20);
  return `${key.padEnd(8)}= ${field}${comment === undefined ? '' : ` / ${comment}`}`.padEnd(80).slice(0, 80);
}

export function padTo(bytes: Uint8Array, multiple: number, fill: number): Buffer {
  const out = Buffer.alloc(Math.ceil(bytes.length / multiple) * multiple, fill);
  out.set(bytes);
  return out;
}

/** Header blocks: the cards, END unless `end` is false, padded with spaces. */
export function headerBlocks(cards: readonly string[], { end = true } = {}): Buffer {
  const text = [...cards, ...(end ? ['END'] : [])].map((c) => c.padEnd(80)).join('');
  return padTo(Buffer.from(text, 'latin1'), BLOCK, 0x20);
}

/** Cards for an image HDU: SIMPLE (primary) or XTENSION = 'IMAGE', BITPIX, NAXIS, NAXISn, then `extra`. */
export function imageCards(bitpix: number, axes: readonly number[], { primary = true, extra = [] as string[] } = {}): string[] {
  return [
    primary ? card('SIMPLE', true) : card('XTENSION', 'IMAGE'),
    card('BITPIX', bitpix),
    card('NAXIS', axes.length),
    ...axes.map((n, i) => card(`NAXIS${i + 1}`, n)),
    ...(primary ? [] : [card('PCOUNT', 0), card('GCOUNT', 1)]),
    ...extra,
  ];
}

export interface HduBytes {
  readonly cards: readonly string[];
  readonly data?: Uint8Array;
}

/** HDUs one after the other, data padded with zeros to whole blocks. */
export function fitsBytes(hdus: readonly HduBytes[]): Buffer {
  return Buffer.concat(hdus.flatMap((h) => [headerBlocks(h.cards), ...(h.data && h.data.length > 0 ? [padTo(h.data, BLOCK, 0)] : [])]));
}

/** Big-endian bytes of numbers (or bigints for 64-bit integers) stored with BITPIX `bitpix`. */
export function bigEndian(bitpix: number, values: readonly (number | bigint)[]): Uint8Array {
  const size = Math.abs(bitpix) / 8;
  const view = new DataView(new ArrayBuffer(values.length * size));
  values.forEach((v, i) => {
    const at = i * size;
    switch (bitpix) {
      case 8:
        view.setUint8(at, Number(v));
        break;
      case 16:
        view.setInt16(at, Number(v));
        break;
      case 32:
        view.setInt32(at, Number(v));
        break;
      case 64:
        view.setBigInt64(at, BigInt(v));
        break;
      case -32:
        view.setFloat32(at, Number(v));
        break;
      default:
        view.setFloat64(at, Number(v));
    }
  });
  return new Uint8Array(view.buffer);
}

/** A temporary folder removed by `cleanup`. */
export function tempDir(prefix: string): { dir: string; write(name: string, bytes: Uint8Array): string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `vis-agn-${prefix}-`));
  return {
    dir,
    write(name, bytes) {
      const file = path.join(dir, name);
      writeFileSync(file, bytes);
      return file;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

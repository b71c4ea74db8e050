/**
 * FITS CHECKSUM/DATASUM (the Seaman, Pence & Rots convention, FITS 4.0 appendix J): a 32-bit ones'
 * complement sum over the big-endian 4-byte words of an HDU, with CHECKSUM chosen so that the sum of
 * the whole HDU is negative zero (all ones).
 */

import { BLOCK_SIZE } from './header.js';
import type { ByteSource, HduInfo } from './types.js';

const ALL_ONES = 0xffffffff;
/** Large enough to keep reads few, small enough that verifying a 1.5 GB tile stays within a few MB. */
const VERIFY_CHUNK = BLOCK_SIZE * 1024;

/**
 * Incremental ones'-complement sum. Bytes may arrive in chunks of any length: each byte is added to the
 * 16-bit half it occupies in its 4-byte word, judged by its position in the whole stream.
 */
export class Checksum32 {
  /** Uncarried sums of the high and low 16-bit halves of every word; doubles stay exact for 2^37 words. */
  private high = 0;
  private low = 0;
  private position = 0;

  update(bytes: Uint8Array): this {
    const n = bytes.length;
    let i = 0;
    // Bytes until the next word boundary, then whole words, then the tail that starts the next word.
    for (; i < n && (this.position + i) % 4 !== 0; i++) this.addByte(bytes[i]!, (this.position + i) % 4);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const wordsEnd = i + ((n - i) & ~3);
    let high = this.high;
    let low = this.low;
    for (; i < wordsEnd; i += 4) {
      const word = view.getUint32(i);
      high += word >>> 16;
      low += word & 0xffff;
    }
    this.high = high;
    this.low = low;
    for (; i < n; i++) this.addByte(bytes[i]!, i - wordsEnd);
    this.position += n;
    this.fold();
    return this;
  }

  /** The sum as an unsigned 32-bit integer. */
  get value(): number {
    return this.high * 0x10000 + this.low;
  }

  private addByte(byte: number, lane: number): void {
    const shifted = lane % 2 === 0 ? byte << 8 : byte;
    if (lane < 2) this.high += shifted;
    else this.low += shifted;
  }

  /** End-around carry: what overflows one half is added into the other, until both fit in 16 bits. */
  private fold(): void {
    while (this.high > 0xffff || this.low > 0xffff) {
      const highCarry = Math.floor(this.high / 0x10000);
      const lowCarry = Math.floor(this.low / 0x10000);
      this.high = (this.high % 0x10000) + lowCarry;
      this.low = (this.low % 0x10000) + highCarry;
    }
  }
}

export function checksumOf(bytes: Uint8Array): number {
  return new Checksum32().update(bytes).value;
}

/** Ones'-complement addition of two 32-bit sums, e.g. a header's and its data unit's. */
export function addChecksums(a: number, b: number): number {
  const sum = a + b;
  return sum > ALL_ONES ? sum - ALL_ONES : sum;
}

/** Characters the encoding must avoid: the punctuation between the digits and letters of ASCII. */
function isPunctuation(code: number): boolean {
  return (code >= 0x3a && code <= 0x40) || (code >= 0x5b && code <= 0x60);
}

/**
 * The 16-character CHECKSUM value for an HDU whose sum (with CHECKSUM = '0000000000000000') is `sum`.
 * Each byte of the complement is split over four characters offset from '0' (so the placeholder's
 * zeros cancel), nudged in pairs off punctuation without changing their total, interleaved so that
 * character j of byte k lands in word column k, then rotated by one because the value starts at
 * byte 11 of its card, one byte before a word boundary.
 */
export function encodeChecksum(sum: number): string {
  const complement = (ALL_ONES - sum) >>> 0;
  const chars = new Array<number>(16);
  for (let k = 0; k < 4; k++) {
    const byte = (complement >>> (24 - 8 * k)) & 0xff;
    const quarter = 0x30 + (byte >> 2);
    const spread = [quarter + (byte & 3), quarter, quarter, quarter];
    for (let pair = 0; pair < 4; pair += 2) {
      while (isPunctuation(spread[pair]!) || isPunctuation(spread[pair + 1]!)) {
        spread[pair]!++;
        spread[pair + 1]!--;
      }
    }
    for (let j = 0; j < 4; j++) chars[4 * j + k] = spread[j]!;
  }
  return String.fromCharCode(...chars.map((_, i) => chars[(i + 15) % 16]!));
}

export type ChecksumStatus = 'ok' | 'bad' | 'absent';

export interface ChecksumReport {
  readonly datasum: ChecksumStatus;
  readonly checksum: ChecksumStatus;
}

function sumRange(source: ByteSource, offset: number, length: number): number {
  const sum = new Checksum32();
  for (let done = 0; done < length; done += VERIFY_CHUNK) {
    sum.update(source.read(offset + done, Math.min(VERIFY_CHUNK, length - done)));
  }
  return sum.value;
}

/**
 * Checks DATASUM and CHECKSUM of one HDU against its bytes. Reports rather than throws, so listing
 * tools can show a damaged HDU; a data unit cut short of its last block is summed as far as it goes
 * (the missing fill counts as zeros, and for anything else the sums will not match).
 */
export function verifyChecksums(source: ByteSource, hdu: HduInfo): ChecksumReport {
  const datasumValue = hdu.header.get('DATASUM');
  const checksumValue = hdu.header.get('CHECKSUM');
  if (datasumValue === undefined && checksumValue === undefined) return { datasum: 'absent', checksum: 'absent' };

  const paddedSize = Math.ceil(hdu.dataSize / BLOCK_SIZE) * BLOCK_SIZE;
  const dataSum = sumRange(source, hdu.dataOffset, Math.max(0, Math.min(paddedSize, source.size - hdu.dataOffset)));

  let datasum: ChecksumStatus = 'absent';
  if (datasumValue !== undefined) {
    const text = String(datasumValue).trim();
    datasum = /^\d+$/.test(text) && Number(text) === dataSum ? 'ok' : 'bad';
  }
  let checksum: ChecksumStatus = 'absent';
  if (checksumValue !== undefined) {
    const headerSum = sumRange(source, hdu.headerOffset, hdu.dataOffset - hdu.headerOffset);
    checksum = addChecksums(headerSum, dataSum) === ALL_ONES ? 'ok' : 'bad';
  }
  return { datasum, checksum };
}

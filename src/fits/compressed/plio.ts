/**
 * PLIO_1: IRAF's pixel-list ("line list") run-length code for non-negative integer masks
 * (values below 2^24), stored as big-endian 16-bit words in a 1PI column.
 *
 * The list starts with a header: in the original 3-word form word 2 is the list length; in the
 * extended form (what cfitsio writes, flagged by word 2 <= 0, normally -100) word 1 is the header
 * length and words 3-4 the list length as two 15-bit halves. Each following word is a 4-bit opcode
 * over 12 bits of data. A running "high value" starts at 1 and is changed by the
 * set/increment/decrement opcodes; the run opcodes emit zeros or the high value.
 */
import { InvalidInputError } from '../../errors.js';
import type { TileCodec, TileCodecContext } from './registry.js';

const ZERO_RUN = 0;
const SET_HIGH = 1;
const INC_HIGH = 2;
const DEC_HIGH = 3;
const HIGH_RUN = 4;
const ZEROS_THEN_HIGH = 5;
const INC_HIGH_EMIT = 6;
const DEC_HIGH_EMIT = 7;

/** Expands a line list (already as signed 16-bit words) into `npix` pixels. */
export function plioDecode(words: Int16Array, npix: number): Int32Array {
  const out = new Int32Array(npix);
  const extended = words.length >= 5 && words[2]! <= 0;
  if (words.length < 3 || (words[2]! <= 0 && !extended)) {
    throw new InvalidInputError(`PLIO_1 tile of ${words.length} words has no line-list header`);
  }
  const listLength = extended ? (words[4]! << 15) + words[3]! : words[2]!;
  const first = extended ? words[1]! : 3;
  if (listLength > words.length || first < 3) {
    throw new InvalidInputError(`PLIO_1 line list header (length ${listLength}, first word ${first}) does not fit the tile's ${words.length} words`);
  }
  let high = 1;
  let op = 0;
  for (let ip = first; ip < listLength && op < npix; ip++) {
    const word = words[ip]!;
    const opcode = (word >> 12) & 15;
    const data = word & 4095;
    switch (opcode) {
      case ZERO_RUN:
      case HIGH_RUN:
      case ZEROS_THEN_HIGH: {
        const end = Math.min(op + data, npix);
        out.fill(opcode === HIGH_RUN ? high : 0, op, end);
        // The high value closes the run only if the run fits in the tile.
        if (opcode === ZEROS_THEN_HIGH && op + data <= npix && data > 0) out[end - 1] = high;
        op = end;
        break;
      }
      case SET_HIGH:
        if (ip + 1 >= listLength) throw new InvalidInputError('PLIO_1 line list ends inside a set-high-value instruction');
        high = (words[++ip]! << 12) + data;
        break;
      case INC_HIGH:
        high += data;
        break;
      case DEC_HIGH:
        high -= data;
        break;
      case INC_HIGH_EMIT:
        high += data;
        out[op++] = high;
        break;
      case DEC_HIGH_EMIT:
        high -= data;
        out[op++] = high;
        break;
      default:
        throw new InvalidInputError(`PLIO_1 line list has unknown opcode ${opcode}`);
    }
  }
  return out;
}

export const plioCodec: TileCodec = {
  decode(compressed: Uint8Array, context: TileCodecContext): Int32Array {
    if (compressed.length % 2 !== 0) throw new InvalidInputError(`PLIO_1 tile of ${compressed.length} bytes is not a list of 16-bit words`);
    const words = new Int16Array(compressed.length / 2);
    for (let i = 0; i < words.length; i++) words[i] = (compressed[2 * i]! << 8) | compressed[2 * i + 1]!;
    return plioDecode(words, context.npix);
  },
};

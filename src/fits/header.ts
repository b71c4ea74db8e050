/**
 * FITS headers: 80-character cards in 2880-byte blocks (FITS 4.0 section 4), parsed the way astropy
 * reads them, so values agree with the reference reader used in the conformance tests.
 */

import { InvalidInputError, type ErrorLocation } from '../errors.js';
import type { ByteSource, HeaderCard, HeaderLookup, HeaderValue } from './types.js';

export const BLOCK_SIZE = 2880;
export const CARD_SIZE = 80;
const CARDS_PER_BLOCK = BLOCK_SIZE / CARD_SIZE;

/** Keywords whose text is free commentary even when followed by `= `. */
const COMMENTARY_KEYWORDS = new Set(['COMMENT', 'HISTORY', '']);

/** Free-format numbers as astropy accepts them: spaces after the sign, D exponents, lower case. */
const REAL = String.raw`[+-]? *(?:\d+\.?\d*|\.\d+)(?:[EeDd] *[+-]? *\d+)?`;
const INTEGER_RE = /^[+-]? *\d+$/;
const REAL_RE = new RegExp(`^${REAL}$`);
const COMPLEX_RE = new RegExp(String.raw`^\( *${REAL} *, *${REAL} *\)$`);

/** Lookups ignore case (HIERARCH keywords keep theirs, as astropy does) and a leading `HIERARCH `. */
function normalizeKey(key: string): string {
  const upper = key.trim().toUpperCase();
  return upper.startsWith('HIERARCH ') ? upper.slice(9).trim() : upper;
}

/** A card whose value field cannot be parsed: like astropy, the header still opens and only reading that value fails. */
class UnparsableCard implements HeaderCard {
  constructor(
    readonly key: string,
    readonly comment: string,
    private readonly error: InvalidInputError,
  ) {}

  get value(): HeaderValue {
    throw this.error;
  }
}

export class FitsHeader implements HeaderLookup {
  readonly cards: readonly HeaderCard[];
  readonly location: ErrorLocation;
  private readonly positions = new Map<string, number[]>();

  constructor(cards: readonly HeaderCard[], location: ErrorLocation = {}) {
    this.cards = cards;
    this.location = location;
    cards.forEach((card, i) => {
      const key = normalizeKey(card.key);
      const list = this.positions.get(key);
      if (list) list.push(i);
      else this.positions.set(key, [i]);
    });
  }

  /**
   * The last occurrence of a repeated keyword wins: a later card is an update of an earlier one (the
   * Euclid MER cutouts repeat FILTER, generic name first, e.g. 'DECAM_g' then 'DES_G'). astropy's
   * `header[key]` returns the first instead; `getAll` gives every occurrence.
   */
  get(key: string): HeaderValue | undefined {
    const last = this.positions.get(normalizeKey(key))?.at(-1);
    return last === undefined ? undefined : this.cards[last]!.value;
  }

  has(key: string): boolean {
    return this.positions.has(normalizeKey(key));
  }

  /** Every card with this keyword, in header order (COMMENT/HISTORY text is in `comment`). */
  getAll(key: string): HeaderCard[] {
    return (this.positions.get(normalizeKey(key)) ?? []).map((i) => this.cards[i]!);
  }

  getNumber(key: string, fallback?: number): number {
    return this.typed(key, fallback, 'a number', (v) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined));
  }

  /** An integer that fits a JavaScript number exactly (NAXISn, BITPIX, PCOUNT, ...). */
  getInt(key: string, fallback?: number): number {
    return this.typed(key, fallback, 'an integer', (v) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined));
  }

  getString(key: string, fallback?: string): string {
    return this.typed(key, fallback, 'a string', (v) => (typeof v === 'string' ? v : undefined));
  }

  getBool(key: string, fallback?: boolean): boolean {
    return this.typed(key, fallback, 'a logical', (v) => (typeof v === 'boolean' ? v : undefined));
  }

  /** A present keyword of the wrong type is an error even when a fallback is given; an undefined value counts as absent. */
  private typed<T>(key: string, fallback: T | undefined, what: string, convert: (v: HeaderValue) => T | undefined): T {
    const value = this.get(key);
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback;
      const state = value === null ? 'has no value' : 'is missing';
      throw new InvalidInputError(`keyword ${normalizeKey(key)} ${state} (expected ${what})`, this.location);
    }
    const converted = convert(value);
    if (converted === undefined) {
      throw new InvalidInputError(`keyword ${normalizeKey(key)} = ${String(value)} is not ${what}`, this.location);
    }
    return converted;
  }
}

/** Splits `/ comment` off what follows a value; anything else there makes the card unparsable. */
function trailingComment(rest: string): string | undefined {
  const text = rest.trimStart();
  if (text === '') return '';
  return text.startsWith('/') ? text.slice(1).trim() : undefined;
}

/**
 * A quoted string at the start of `text` and its comment: `''` is a quote. The content is returned
 * untrimmed (callers trim the end: trailing spaces are not significant, leading ones are).
 */
function stringField(text: string): { content: string; comment: string } | undefined {
  if (!text.startsWith("'")) return undefined;
  let content = '';
  for (let i = 1; i < text.length; i++) {
    if (text[i] !== "'") {
      content += text[i];
    } else if (text[i + 1] === "'") {
      content += "'";
      i++;
    } else {
      const comment = trailingComment(text.slice(i + 1));
      return comment === undefined ? undefined : { content, comment };
    }
  }
  return undefined;
}

function parseNumber(token: string): number | bigint | undefined {
  if (INTEGER_RE.test(token)) {
    const digits = token.replace(/ /g, '');
    const n = Number(digits);
    if (Number.isSafeInteger(n)) return n === 0 ? 0 : n;
    return BigInt(digits.replace(/^\+/, ''));
  }
  if (REAL_RE.test(token)) return Number(token.replace(/ /g, '').replace(/[Dd]/, 'e'));
  return undefined;
}

/** A value field that is not a string: logical, number, complex or empty; undefined when unparsable. */
function scalarField(text: string): { value: HeaderValue; comment: string } | undefined {
  const slash = text.indexOf('/');
  const token = (slash < 0 ? text : text.slice(0, slash)).trim();
  const comment = slash < 0 ? '' : text.slice(slash + 1).trim();
  if (token === '') return { value: null, comment };
  if (token === 'T' || token === 'F') return { value: token === 'T', comment };
  const number = parseNumber(token);
  if (number !== undefined) return { value: number, comment };
  // Complex values stay as written: nothing in vis-agn computes with them.
  if (COMPLEX_RE.test(token)) return { value: token, comment };
  return undefined;
}

interface RawCard {
  readonly key: string;
  /** The value field after `= `; undefined for commentary cards. */
  readonly field: string | undefined;
  readonly text: string;
}

function splitCard(text: string): RawCard {
  if (text.startsWith('HIERARCH ')) {
    const eq = text.indexOf('=');
    if (eq > 9) return { key: text.slice(9, eq).trim(), field: text.slice(eq + 1), text };
  }
  const key = text.slice(0, 8).trimEnd().toUpperCase();
  const isValue = text[8] === '=' && text[9] === ' ' && !COMMENTARY_KEYWORDS.has(key);
  return { key, field: isValue ? text.slice(10) : undefined, text };
}

/** The segments of a long string (`&` continuation): each is trimmed at the end and loses its final `&`. */
function continuedSegment(content: string): { segment: string; continues: boolean } {
  const trimmed = content.trimEnd();
  const continues = trimmed.endsWith('&');
  return { segment: continues ? trimmed.slice(0, -1) : trimmed, continues };
}

function commentaryCard(raw: RawCard): HeaderCard {
  const comment = raw.key === 'COMMENT' || raw.key === 'HISTORY' || raw.key === '' ? raw.text.slice(8) : raw.text.slice(8).trim();
  return { key: raw.key, value: undefined, comment: comment.trimEnd() };
}

/**
 * Parses one value card and the CONTINUE cards that follow it; returns the card and how many raw
 * cards it used.
 */
function parseValueCard(raws: readonly RawCard[], start: number, location: ErrorLocation): { card: HeaderCard; used: number } {
  const raw = raws[start]!;
  const field = raw.field!;
  const unparsable = (): { card: HeaderCard; used: number } => {
    const error = new InvalidInputError(`cannot parse the value of keyword ${raw.key} (card ${start + 1}): ${field.trim()}`, location);
    const slash = field.lastIndexOf('/');
    return { card: new UnparsableCard(raw.key, slash < 0 ? '' : field.slice(slash + 1).trim(), error), used: 1 };
  };

  const text = field.trimStart();
  if (!text.startsWith("'")) {
    const parsed = scalarField(text);
    return parsed ? { card: { key: raw.key, value: parsed.value, comment: parsed.comment }, used: 1 } : unparsable();
  }
  const first = stringField(text);
  if (!first) return unparsable();

  let { segment, continues } = continuedSegment(first.content);
  const segments = [segment];
  const comments = first.comment === '' ? [] : [first.comment];
  let used = 1;
  while (continues && raws[start + used]?.key === 'CONTINUE') {
    const next = stringField(raws[start + used]!.text.slice(8).trimStart());
    if (!next) break;
    ({ segment, continues } = continuedSegment(next.content));
    segments.push(segment);
    if (next.comment !== '') comments.push(next.comment);
    used++;
  }
  // A lone string keeps a final '&': only CONTINUE cards make it a continuation mark.
  if (used === 1) return { card: { key: raw.key, value: first.content.trimEnd(), comment: first.comment }, used };
  return { card: { key: raw.key, value: segments.join('').trimEnd(), comment: comments.join(' ') }, used };
}

/** Index of the END card among the cards of `bytes`, or -1. */
function findEndCard(bytes: Uint8Array): number {
  for (let i = 0; i + CARD_SIZE <= bytes.length; i += CARD_SIZE) {
    // 'END' followed by spaces to the end of the card.
    if (bytes[i] === 0x45 && bytes[i + 1] === 0x4e && bytes[i + 2] === 0x44) {
      let blank = true;
      for (let j = i + 3; j < i + CARD_SIZE && blank; j++) blank = bytes[j] === 0x20;
      if (blank) return i / CARD_SIZE;
    }
  }
  return -1;
}

/**
 * Parses header blocks up to their END card. Bytes outside printable ASCII are refused rather than
 * replaced (as astropy does with a warning): it also stops quickly on a file that is not FITS at all.
 */
export function parseHeader(bytes: Uint8Array, location: ErrorLocation = {}): FitsHeader {
  const endIndex = findEndCard(bytes);
  if (endIndex < 0) throw new InvalidInputError('header has no END card', location);
  assertHeaderText(bytes.subarray(0, endIndex * CARD_SIZE), 0, location);
  // Printable ASCII (checked above), so one latin1 decode of the whole header is exact.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, endIndex * CARD_SIZE).toString('latin1');
  const raws: RawCard[] = [];
  for (let offset = 0; offset < text.length; offset += CARD_SIZE) raws.push(splitCard(text.slice(offset, offset + CARD_SIZE)));
  const cards: HeaderCard[] = [];
  for (let i = 0; i < raws.length; ) {
    const raw = raws[i]!;
    if (raw.field === undefined) {
      cards.push(commentaryCard(raw));
      i++;
    } else {
      const { card, used } = parseValueCard(raws, i, location);
      cards.push(card);
      i += used;
    }
  }
  return new FitsHeader(cards, location);
}

/**
 * Reads the header that starts at `offset` block by block until its END card, so a header is never
 * read beyond its last block. Returns the header and the offset of the data unit after it.
 */
export function readHeader(source: ByteSource, offset: number, location: ErrorLocation = {}): { header: FitsHeader; dataOffset: number } {
  const blocks: Uint8Array[] = [];
  for (let at = offset; ; at += BLOCK_SIZE) {
    if (at + BLOCK_SIZE > source.size) {
      throw new InvalidInputError(`header is truncated: no END card before the end of the file (${source.size} bytes)`, location);
    }
    const block = source.read(at, BLOCK_SIZE);
    blocks.push(block);
    const end = findEndCard(block);
    if (end >= 0) {
      const bytes = blocks.length === 1 ? block : Buffer.concat(blocks);
      return { header: parseHeader(bytes, location), dataOffset: at + BLOCK_SIZE };
    }
    // A non-ASCII byte in a block without END means this is not header text: fail now, not at EOF.
    assertHeaderText(block, (blocks.length - 1) * CARDS_PER_BLOCK, location);
  }
}

/** Header bytes must be printable ASCII (FITS 4.0 section 4.1.1); `firstCard` numbers the cards in messages. */
function assertHeaderText(bytes: Uint8Array, firstCard: number, location: ErrorLocation): void {
  for (let j = 0; j < bytes.length; j++) {
    const byte = bytes[j]!;
    if (byte < 0x20 || byte > 0x7e) {
      const card = firstCard + Math.floor(j / CARD_SIZE) + 1;
      throw new InvalidInputError(`header card ${card} contains a byte (0x${byte.toString(16).padStart(2, '0')}) that is not printable ASCII`, location);
    }
  }
}

/**
 * 80-character header card images as FITS 4.0 section 4 defines them. Values use the fixed format
 * (strings from column 11, other values right-justified to column 30), which mandatory keywords
 * require and every reader accepts.
 */

import { OutputError } from '../errors.js';
import { CARD_SIZE } from './header.js';
import type { HeaderValue } from './types.js';

/** A card to write; a parsed `HeaderCard` is one too, so headers can be copied across. */
export interface CardInput {
  readonly key: string;
  /** Omitted or `undefined` for COMMENT, HISTORY and blank-keyword cards; `null` writes an undefined value. */
  readonly value?: HeaderValue | undefined;
  readonly comment?: string;
}

const COMMENTARY_KEYS = new Set(['COMMENT', 'HISTORY', '']);
const KEYWORD = /^[A-Z0-9_-]{0,8}$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/** Columns 11-80 hold the value and comment. */
const VALUE_FIELD = CARD_SIZE - 10;
/** Longest escaped string piece on a continued card: the field less two quotes and the '&'. */
const CONTINUED_PIECE = VALUE_FIELD - 3;
/** Right-justifying non-string values to column 30 makes the value field 20 wide. */
const FIXED_WIDTH = 20;

function fail(reason: string): never {
  throw new OutputError(reason);
}

function checkText(text: string, what: string): void {
  if (!PRINTABLE_ASCII.test(text)) fail(`${what} holds characters outside printable ASCII: ${JSON.stringify(text)}`);
}

/** Shortest decimal that reads back to the same double, with the '.' or 'E' that marks a FITS real. */
function formatReal(value: number): string {
  if (!Number.isFinite(value)) fail(`a header cannot hold the number ${value}`);
  const [mantissa, exponent] = String(value).toUpperCase().split('E') as [string, string | undefined];
  const withPoint = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return exponent === undefined ? withPoint : `${withPoint}E${exponent}`;
}

function formatScalar(value: Exclude<HeaderValue, string>): string {
  if (value === null) return '';
  if (typeof value === 'boolean') return value ? 'T' : 'F';
  if (typeof value === 'bigint') return value.toString();
  return Number.isSafeInteger(value) ? String(value) : formatReal(value);
}

/** Appends ` / comment`, cut at the card's end as cfitsio and astropy do: a comment never blocks a value. */
function finishCard(start: string, comment: string | undefined): string {
  const withComment = comment ? `${start} / ${comment}` : start;
  return withComment.slice(0, CARD_SIZE).padEnd(CARD_SIZE);
}

function commentaryCards(key: string, text: string): string[] {
  const width = CARD_SIZE - 8;
  const cards: string[] = [];
  for (let at = 0; at === 0 || at < text.length; at += width) {
    cards.push(key.padEnd(8) + text.slice(at, at + width).padEnd(width));
  }
  return cards;
}

/**
 * Splits an escaped string so that no piece ends inside a doubled quote, and so that a doubled quote
 * followed by a space ends its piece: astropy (5.2) takes a quote and a space inside a continued piece
 * for the string's end and drops the rest of the value ("regenerations' PSF" read back as
 * "regenerations'"). It also ends any string at a quote followed by " /", which no split avoids.
 */
function continuedPieces(value: string): string[] {
  const pieces: string[] = [];
  let piece = '';
  const chars = [...value];
  chars.forEach((char, i) => {
    const escaped = char === "'" ? "''" : char;
    if (piece.length + escaped.length > CONTINUED_PIECE) {
      pieces.push(piece);
      piece = '';
    }
    piece += escaped;
    if (char === "'" && chars[i + 1] === ' ') {
      pieces.push(piece);
      piece = '';
    }
  });
  pieces.push(piece);
  return pieces;
}

/** A string too long for one card, spread over CONTINUE cards (FITS 4.0 section 4.2.1.2). */
function continuedStringCards(key: string, value: string, comment: string | undefined): string[] {
  const pieces = continuedPieces(value);
  const lastCard = (piece: string): string => `CONTINUE  '${piece}'`;
  if (comment && `${lastCard(pieces[pieces.length - 1]!)} / ${comment}`.length > CARD_SIZE) pieces.push('');
  return pieces.map((piece, i) => {
    const prefix = i === 0 ? `${key.padEnd(8)}= ` : 'CONTINUE  ';
    const isLast = i === pieces.length - 1;
    return isLast ? finishCard(`${prefix}'${piece}'`, comment) : finishCard(`${prefix}'${piece}&'`, undefined);
  });
}

/** The card images for one keyword: one card, or several for long strings and long commentary. */
export function formatCard(card: CardInput): string[] {
  const { key, value, comment } = card;
  if (!KEYWORD.test(key)) fail(`'${key}' is not a FITS keyword (up to 8 of A-Z, 0-9, '-', '_')`);
  if (key === 'CONTINUE' || key === 'END') fail(`the writer emits ${key} cards itself`);
  if (comment !== undefined) checkText(comment, `the comment of ${key}`);

  if (COMMENTARY_KEYS.has(key)) {
    if (value !== undefined) fail(`${key || 'a blank keyword'} card takes text, not a value`);
    return commentaryCards(key, comment ?? '');
  }
  if (key === '') fail('a card with a value needs a keyword');

  const prefix = `${key.padEnd(8)}= `;
  if (typeof value === 'string') {
    checkText(value, `the value of ${key}`);
    const escaped = value.replaceAll("'", "''");
    if (escaped.length + 2 > VALUE_FIELD) return continuedStringCards(key, value, comment);
    // The closing quote no earlier than column 20 is what the fixed format asks of strings; the comment
    // then starts where other values put it, as cfitsio and astropy lay it out. astropy verifies a
    // CHECKSUM by re-serialising that card, so any other layout of it would read as a bad checksum.
    return [finishCard(prefix + `'${escaped.padEnd(8)}'`.padEnd(FIXED_WIDTH), comment)];
  }
  return [finishCard(prefix + formatScalar(value ?? null).padStart(FIXED_WIDTH), comment)];
}

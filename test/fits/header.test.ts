import { execFileSync } from 'node:child_process';

import { InvalidInputError } from '../../src/errors.js';
import { BLOCK_SIZE, CARD_SIZE, FitsHeader, parseHeader, readHeader } from '../../src/fits/header.js';
import { MemoryByteSource } from '../../src/fits/source.js';
import { astropyPython, describeIf, hasAstropy } from '../helpers/shared.js';

/** Cards padded to 80 characters, END appended, padded to whole blocks. */
function headerBytes(cards: string[], { end = true } = {}): Uint8Array {
  const text = [...cards, ...(end ? ['END'] : [])].map((c) => c.padEnd(CARD_SIZE)).join('');
  return Buffer.from(text.padEnd(Math.ceil(text.length / BLOCK_SIZE) * BLOCK_SIZE), 'latin1');
}

const CARDS = [
  'SIMPLE  =                    T / conforms',
  'BITPIX  =                  -32',
  'NAXIS   =                    0',
  "S1      = '  lead  '           / c1",
  "S2      = 'it''s'",
  "S3      = '    '",
  "S4      = ''",
  "LONG    = 'abc &'",
  "CONTINUE  'def  &'  / part2",
  "CONTINUE  'ghi' / part3",
  'F1      =   1.5D3',
  'F2      = -.5e-2',
  'F3      =                 1.E2 / free format, no digits after the point',
  'I1      = 12345678901234567890',
  'I2      = -42',
  'C1      = (1.5, -2)',
  'U1      =                      / undefined',
  "HIERARCH ESO DET CHIP = 'x' / hier",
  'HIERARCH lower case kw = 3',
  'L1      = F',
  "SFREE   =  'free'/nospace",
  "FILTER  = 'first'",
  'COMMENT hello there',
  "FILTER  = 'second'",
  'HISTORY step 1',
  'NOEQ    this is not a value',
  '        blank keyword card',
];

describe('parseHeader', () => {
  const header = parseHeader(headerBytes(CARDS), { file: 'x.fits', hdu: 0 });

  it('parses fixed and free format values, strings as astropy trims them, and CONTINUE long strings', () => {
    expect(header.get('SIMPLE')).toBe(true);
    expect(header.getInt('BITPIX')).toBe(-32);
    expect(header.get('S1')).toBe('  lead');
    expect(header.get('S2')).toBe("it's");
    expect(header.get('S3')).toBe('');
    expect(header.get('S4')).toBe('');
    expect(header.get('LONG')).toBe('abc def  ghi');
    expect(header.getAll('LONG')[0]!.comment).toBe('part2 part3');
    expect(header.get('F1')).toBe(1500);
    expect(header.get('F2')).toBe(-0.005);
    expect(header.get('F3')).toBe(100);
    expect(header.get('I1')).toBe(12345678901234567890n);
    expect(header.get('I2')).toBe(-42);
    expect(header.get('C1')).toBe('(1.5, -2)');
    expect(header.get('U1')).toBeNull();
    expect(header.get('L1')).toBe(false);
    expect(header.get('SFREE')).toBe('free');
    expect(header.getAll('SFREE')[0]!.comment).toBe('nospace');
  });

  it('keeps HIERARCH keywords (with their case) and finds them case-insensitively, with or without the prefix', () => {
    expect(header.get('ESO DET CHIP')).toBe('x');
    expect(header.get('HIERARCH ESO DET CHIP')).toBe('x');
    expect(header.get('LOWER CASE KW')).toBe(3);
    expect(header.cards.map((c) => c.key)).toContain('lower case kw');
  });

  it('keeps repeated keywords; lookups return the last (an update of the earlier card)', () => {
    expect(header.getAll('FILTER').map((c) => c.value)).toEqual(['first', 'second']);
    expect(header.get('FILTER')).toBe('second');
  });

  it('keeps commentary cards with their text and no value', () => {
    const comment = header.getAll('COMMENT')[0]!;
    expect(comment.value).toBeUndefined();
    expect(comment.comment).toBe('hello there');
    expect(header.getAll('HISTORY')[0]!.comment).toBe('step 1');
    expect(header.getAll('')[0]!.comment).toBe('blank keyword card');
    expect(header.getAll('NOEQ')[0]!.comment).toBe('this is not a value');
    // CONTINUE cards are folded into LONG: one card per logical keyword, as astropy counts them.
    expect(header.cards).toHaveLength(CARDS.length - 2);
  });

  it('typed getters name the keyword when it is missing or of the wrong type, and use defaults only for absent keys', () => {
    expect(header.getNumber('NOPE', 2.5)).toBe(2.5);
    expect(header.getNumber('I1')).toBe(12345678901234567890);
    expect(header.getString('S2')).toBe("it's");
    expect(header.getBool('SIMPLE')).toBe(true);
    expect(() => header.getInt('NOPE')).toThrow(/x\.fits, HDU 0: keyword NOPE is missing/);
    expect(() => header.getInt('F2')).toThrow(InvalidInputError);
    expect(() => header.getInt('I1')).toThrow(/I1 = 12345678901234567890 is not an integer/);
    expect(() => header.getString('I2', 'fallback')).toThrow(/I2 = -42 is not a string/);
    expect(() => header.getBool('U1')).toThrow(/U1 has no value/);
    expect(header.getBool('U1', true)).toBe(true);
  });

  it('makes an unparsable value an error when it is read, not when the header is parsed (as astropy)', () => {
    const bad = parseHeader(headerBytes(['SIMPLE  =                    T', 'JUNK    = abc / what', "OPEN    = 'never closed"]), { file: 'y.fits' });
    expect(bad.get('SIMPLE')).toBe(true);
    expect(bad.has('JUNK')).toBe(true);
    expect(() => bad.get('JUNK')).toThrow(InvalidInputError);
    expect(() => bad.get('JUNK')).toThrow(/y\.fits: cannot parse the value of keyword JUNK/);
    expect(() => bad.getString('OPEN')).toThrow(/OPEN/);
  });

  it('refuses a header without END and one with non-ASCII bytes', () => {
    expect(() => parseHeader(headerBytes(['SIMPLE  =                    T'], { end: false }), { file: 'z.fits', hdu: 3 })).toThrow(
      /z\.fits, HDU 3: header has no END card/,
    );
    const binary = headerBytes(['SIMPLE  =                    T', 'BITPIX  =                    8']);
    binary[100] = 0x00;
    expect(() => parseHeader(binary)).toThrow(/card 2 contains a byte \(0x00\)/);
  });

  it('a FitsHeader can be built from cards directly', () => {
    const h = new FitsHeader([{ key: 'A', value: 1, comment: '' }]);
    expect(h.getInt('a')).toBe(1);
    expect(h.has('B')).toBe(false);
  });
});

describe('readHeader', () => {
  it('reads block by block up to END and returns where the data start', () => {
    const cards = ['SIMPLE  =                    T', ...Array.from({ length: 40 }, (_, i) => `${`KEY${i}`.padEnd(8)}= ${i}`)];
    const bytes = new Uint8Array(3 * BLOCK_SIZE);
    bytes.set(headerBytes(cards));
    const { header, dataOffset } = readHeader(new MemoryByteSource(bytes, 'm.fits'), 0);
    expect(dataOffset).toBe(2 * BLOCK_SIZE);
    expect(header.getInt('KEY39')).toBe(39);
  });

  it('reports a header cut short by the end of the file', () => {
    const bytes = headerBytes(Array.from({ length: 36 }, (_, i) => `${`KEY${i}`.padEnd(8)}= ${i}`), { end: false });
    expect(() => readHeader(new MemoryByteSource(bytes, 'cut.fits'), 0, { file: 'cut.fits', hdu: 1 })).toThrow(
      /cut\.fits, HDU 1: header is truncated/,
    );
  });
});

describeIf(hasAstropy, `astropy not importable by ${astropyPython}`, 'parseHeader agrees with astropy', () => {
  it('gives the values and comments astropy gives for the same cards', () => {
    const script = `
import sys, json
from astropy.io import fits
h = fits.Header.fromstring(sys.stdin.read())
out = []
for c in h.cards:
    v = c.value
    if isinstance(v, complex) or type(v).__name__ == 'Undefined' or c.keyword in ('COMMENT', 'HISTORY', '', 'NOEQ'):
        continue
    out.append([c.keyword, v if not isinstance(v, int) or isinstance(v, bool) or abs(v) < 2**53 else str(v), c.comment])
print(json.dumps({'n': len(h), 'cards': out}))
`;
    const bytes = headerBytes(CARDS);
    const expected = JSON.parse(
      execFileSync(astropyPython, ['-W', 'ignore', '-c', script], { input: Buffer.from(bytes), encoding: 'utf8' }),
    ) as { n: number; cards: [string, unknown, string][] };
    const header = parseHeader(bytes);
    expect(header.cards).toHaveLength(expected.n);
    const ours = header.cards
      .filter((c) => c.value !== undefined && c.value !== null && !/^\(/.test(String(c.value)))
      .map((c) => [c.key, typeof c.value === 'bigint' ? String(c.value) : c.value, c.comment]);
    expect(ours).toEqual(expected.cards);
  });
});

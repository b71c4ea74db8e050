import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Checksum32, addChecksums, checksumOf, encodeChecksum, verifyChecksums, type ChecksumReport } from '../../src/fits/checksum.js';
import { openFits } from '../../src/fits/file.js';
import { writeFits } from '../../src/fits/writer.js';
import { astropyPython, conformanceDir, describeIf, describeWithShared, hasAstropy, hasShared } from '../helpers/shared.js';

function reports(file: string): ChecksumReport[] {
  const fits = openFits(file);
  try {
    return fits.hdus.map((hdu) => verifyChecksums(fits.source, hdu));
  } finally {
    fits.close();
  }
}

/** Deterministic pseudo-random bytes (mulberry32), so failures reproduce. */
function randomBytes(length: number, seed: number): Uint8Array {
  let state = seed >>> 0;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = (t ^ (t >>> 14)) >>> 24;
  }
  return out;
}

/** The convention's definition, literally: add big-endian words in wide integers, fold the carries back. */
function referenceSum(bytes: Uint8Array): number {
  let sum = 0n;
  for (let i = 0; i < bytes.length; i += 4) {
    sum += BigInt((bytes[i]! << 24) >>> 0) + BigInt(bytes[i + 1]! << 16) + BigInt(bytes[i + 2]! << 8) + BigInt(bytes[i + 3]!);
  }
  while (sum > 0xffffffffn) sum = (sum & 0xffffffffn) + (sum >> 32n);
  return Number(sum);
}

describe('ones-complement sum', () => {
  it('matches the definition, for data that overflows many times', () => {
    const bytes = randomBytes(2880 * 50, 1);
    expect(checksumOf(bytes)).toBe(referenceSum(bytes));
    const ones = new Uint8Array(2880).fill(0xff);
    expect(checksumOf(ones)).toBe(referenceSum(ones));
  });

  it('gives the same sum whatever the chunking, including chunks that split words', () => {
    const bytes = randomBytes(2880 * 3, 2);
    const expected = referenceSum(bytes);
    for (const seed of [3, 4, 5]) {
      const cuts = [...randomBytes(20, seed)].map((b) => Math.floor((b / 256) * bytes.length)).sort((a, b) => a - b);
      const sum = new Checksum32();
      let at = 0;
      for (const cut of [...cuts, bytes.length]) {
        sum.update(bytes.subarray(at, cut));
        at = cut;
      }
      expect(sum.value).toBe(expected);
    }
  });

  it('adds the sums of two parts to the sum of the whole', () => {
    const bytes = randomBytes(2880 * 4, 6);
    expect(addChecksums(checksumOf(bytes.subarray(0, 2880)), checksumOf(bytes.subarray(2880)))).toBe(referenceSum(bytes));
  });
});

describe('CHECKSUM encoding', () => {
  /** A block with a CHECKSUM card at card `index`, value placeholder at byte 11 of the card. */
  function blockWithChecksumCard(seed: number, index: number): Uint8Array {
    const block = randomBytes(2880, seed).map((b) => 0x20 + (b % 95));
    block.set(new TextEncoder().encode("CHECKSUM= '0000000000000000'"), index * 80);
    return block;
  }

  it('makes the sum of the HDU all ones, with only letters and digits', () => {
    for (let seed = 10; seed < 60; seed++) {
      const block = blockWithChecksumCard(seed, seed % 36);
      const data = randomBytes(2880, seed + 1000);
      const hduSum = addChecksums(checksumOf(block), checksumOf(data));
      const encoded = encodeChecksum(hduSum);
      expect(encoded).toMatch(/^[0-9A-Za-z]{16}$/);
      block.set(new TextEncoder().encode(encoded), (seed % 36) * 80 + 11);
      expect(addChecksums(checksumOf(block), checksumOf(data))).toBe(0xffffffff);
    }
  });
});

describeWithShared('verifyChecksums on the conformance files', () => {
  const astropyDir = path.join(conformanceDir, 'astropy');

  it('accepts the CHECKSUM and DATASUM of checksum.fits', () => {
    expect(reports(path.join(astropyDir, 'checksum.fits'))).toEqual([
      { datasum: 'ok', checksum: 'ok' },
      { datasum: 'ok', checksum: 'ok' },
    ]);
  });

  it('reports, without throwing, the tampered sums of checksum_false.fits', () => {
    expect(reports(path.join(astropyDir, 'checksum_false.fits'))).toEqual([
      { datasum: 'bad', checksum: 'bad' },
      { datasum: 'bad', checksum: 'bad' },
    ]);
  });

  it('reports absent keywords as absent', () => {
    expect(reports(path.join(astropyDir, 'arange.fits'))).toEqual([{ datasum: 'absent', checksum: 'absent' }]);
  });
});

/** astropy's verdict per HDU, reading tile-compressed HDUs as the tables they are stored as. */
const ASTROPY_VERDICTS = String.raw`
import sys, json, warnings
from astropy.io import fits
warnings.simplefilter('ignore')
def verdict(hdu, key, valid):
    return 'absent' if key not in hdu.header else ('ok' if getattr(hdu, valid) else 'bad')
out = {}
for name in sys.argv[1:]:
    with fits.open(name, checksum=True, disable_image_compression=True) as hdul:
        out[name] = [{'datasum': verdict(h, 'DATASUM', '_datasum_valid'), 'checksum': verdict(h, 'CHECKSUM', '_checksum_valid')} for h in hdul]
print(json.dumps(out))
`;

describeIf(hasShared && hasAstropy, 'needs the shared conformance files and astropy', 'verifyChecksums agrees with astropy', () => {
  it('on every conformance file that carries checksums (fpack, galsim, astropy)', () => {
    const files = readdirSync(conformanceDir, { recursive: true, encoding: 'utf8' })
      .filter((name) => /\.(fits|fz|fit)$/.test(name))
      .map((name) => path.join(conformanceDir, name))
      .filter((file) => readFileSync(file).includes('CHECKSUM='));
    expect(files.length).toBeGreaterThan(10);
    const astropy = JSON.parse(execFileSync(astropyPython, ['-c', ASTROPY_VERDICTS, ...files], { encoding: 'utf8' })) as Record<string, ChecksumReport[]>;
    for (const file of files) expect({ file, verdicts: reports(file) }).toEqual({ file, verdicts: astropy[file] });
  });
});

describe('verifyChecksums on files we write', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-checksum-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'written.fits');

  beforeAll(async () => {
    await writeFits(file, [
      { type: 'empty', cards: [{ key: 'OBJECT', value: 'checksum test' }] },
      { type: 'image', axes: [50, 40], dtype: 'float32', data: new Float32Array(2000).map((_, i) => Math.sin(i)), name: 'SCI' },
      { type: 'bintable', name: 'CAT', columns: [{ name: 'ID', values: new Int32Array([1, 2, 3]) }] },
    ]);
  });

  /** A copy of the written file with the byte at `at` changed. */
  function tampered(at: number): string {
    const bytes = readFileSync(file);
    bytes[at] = bytes[at]! ^ 0x01;
    const out = path.join(dir, `tampered-${at}.fits`);
    writeFileSync(out, bytes);
    return out;
  }

  it('finds every HDU ok', () => {
    expect(reports(file)).toEqual(Array(3).fill({ datasum: 'ok', checksum: 'ok' }));
  });

  it('flags a changed data byte in both sums of that HDU only', () => {
    const fits = openFits(file);
    const imageData = fits.hdus[1]!.dataOffset;
    fits.close();
    expect(reports(tampered(imageData + 1234))).toEqual([
      { datasum: 'ok', checksum: 'ok' },
      { datasum: 'bad', checksum: 'bad' },
      { datasum: 'ok', checksum: 'ok' },
    ]);
  });

  it('flags a changed header byte in CHECKSUM only', () => {
    // Inside the OBJECT value, so the header still parses.
    const objectValue = readFileSync(file).indexOf("OBJECT  = 'checksum") + 12;
    expect(reports(tampered(objectValue))[0]).toEqual({ datasum: 'ok', checksum: 'bad' });
  });
});

import { gzipSync } from 'node:zlib';
import path from 'node:path';

import { InputNotFoundError, InvalidInputError, LimitExceededError, UnsupportedError } from '../../src/errors.js';
import { FitsFile, openFits } from '../../src/fits/file.js';
import { FileByteSource, MemoryByteSource, openByteSource } from '../../src/fits/source.js';
import { euclidQ1Dir, describeWithShared } from '../helpers/shared.js';
import { bigEndian, card, fitsBytes, imageCards, tempDir } from './fits-bytes.js';

const tmp = tempDir('file');
afterAll(() => tmp.cleanup());

const sci = (extver: number, values: number[]) => ({
  cards: imageCards(-32, [values.length], { primary: false, extra: [card('EXTNAME', 'SCI'), card('EXTVER', extver)] }),
  data: bigEndian(-32, values),
});

const table = {
  cards: [
    card('XTENSION', 'BINTABLE'),
    card('BITPIX', 8),
    card('NAXIS', 2),
    card('NAXIS1', 4),
    card('NAXIS2', 3),
    card('PCOUNT', 5),
    card('GCOUNT', 1),
    card('TFIELDS', 1),
    card('TTYPE1', 'N'),
    card('TFORM1', 'J'),
  ],
  data: new Uint8Array(17),
};

/** Primary without data, two SCI images (EXTVER 1 and 2), a binary table with a 5-byte heap. */
const mef = fitsBytes([{ cards: imageCards(8, []) }, sci(1, [1, 2, 3]), sci(2, [4, 5]), table]);

describe('openFits', () => {
  const file = tmp.write('mef.fits', mef);

  it('lists HDUs from their headers with offsets, kinds, names and data sizes', () => {
    const fits = openFits(file);
    try {
      expect(fits.path).toBe(file);
      expect(fits.hdus.map((h) => [h.index, h.name, h.kind, h.headerOffset, h.dataOffset, h.dataSize])).toEqual([
        [0, 'PRIMARY', 'image', 0, 2880, 0],
        [1, 'SCI', 'image', 2880, 5760, 12],
        [2, 'SCI', 'image', 8640, 11520, 8],
        [3, '', 'bintable', 14400, 17280, 17],
      ]);
    } finally {
      fits.close();
    }
  });

  it('finds HDUs by index, EXTNAME (any case) and EXTVER, and names what exists when it cannot', () => {
    const fits = openFits(file);
    try {
      expect(fits.hdu('sci').index).toBe(1);
      expect(fits.hdu('SCI', 2).index).toBe(2);
      expect(fits.hdu(fits.hdus[3]!).kind).toBe('bintable');
      expect(() => fits.hdu('ERR')).toThrow(/mef\.fits: no HDU named ERR \(the file has 4: PRIMARY, SCI, SCI, #3\)/);
      expect(() => fits.hdu(9)).toThrow(InvalidInputError);
      expect(() => fits.hdu('SCI', 3)).toThrow(/EXTVER 3/);
    } finally {
      fits.close();
    }
  });

  it('reads images by reference and refuses non-images with a typed error', () => {
    const fits = openFits(file);
    try {
      expect(Array.from(fits.readImage('SCI').data as Float32Array)).toEqual([1, 2, 3]);
      expect(Array.from(fits.readImage(2).data as Float32Array)).toEqual([4, 5]);
      expect(() => fits.readImage(3)).toThrow(/HDU 3: HDU is a bintable, not an image/);
      expect(() => fits.readImage(0)).toThrow(/HDU 0: HDU has no image data/);
    } finally {
      fits.close();
    }
  });

  it('streams an image in chunks that add up to the whole', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i * 0.25);
    const fits = new FitsFile(new MemoryByteSource(fitsBytes([{ cards: imageCards(-64, [10, 100]), data: bigEndian(-64, values) }])));
    const chunks = [...fits.imageChunks(0, 300)];
    expect(chunks.map((c) => c.length)).toEqual([300, 300, 300, 100]);
    expect(chunks.flatMap((c) => Array.from(c as Float64Array))).toEqual(values);
  });

  it('reads whole-file gzip the same as the plain file, whatever the name', () => {
    const gz = tmp.write('mef.fits.gz', gzipSync(mef));
    const renamed = tmp.write('looks-plain.fits', gzipSync(mef));
    for (const name of [gz, renamed]) {
      const fits = openFits(name);
      try {
        expect(fits.hdus).toHaveLength(4);
        expect(Array.from(fits.readImage('SCI').data as Float32Array)).toEqual([1, 2, 3]);
      } finally {
        fits.close();
      }
    }
  });

  it('refuses a gzip file that would inflate beyond the configured limit', () => {
    const gz = tmp.write('big.fits.gz', gzipSync(mef));
    expect(() => openFits(gz, { maxGunzipBytes: 1000 })).toThrow(LimitExceededError);
  });

  it('sizes random-groups data without NAXIS1 and with PCOUNT and GCOUNT', () => {
    const cards = [
      card('SIMPLE', true),
      card('BITPIX', -32),
      card('NAXIS', 3),
      card('NAXIS1', 0),
      card('NAXIS2', 3),
      card('NAXIS3', 2),
      card('GROUPS', true),
      card('PCOUNT', 4),
      card('GCOUNT', 5),
    ];
    const fits = new FitsFile(new MemoryByteSource(fitsBytes([{ cards, data: new Uint8Array(4 * 5 * (4 + 6)) }])));
    expect(fits.hdus[0]!.kind).toBe('random-groups');
    expect(fits.hdus[0]!.dataSize).toBe(200);
    expect(() => fits.readImage(0)).toThrow(UnsupportedError);
  });

  it('tolerates a missing final padding block and trailing zeros or junk after the last HDU, as astropy does', () => {
    const unpadded = Buffer.concat([fitsBytes([{ cards: imageCards(16, [3]) }]), Buffer.from(bigEndian(16, [7, 8, 9]))]);
    const withZeros = Buffer.concat([fitsBytes([{ cards: imageCards(16, [3]), data: bigEndian(16, [7, 8, 9]) }]), Buffer.alloc(2880 * 2)]);
    const withJunk = Buffer.concat([withZeros, Buffer.from('some trailing bytes that are not an extension')]);
    for (const bytes of [unpadded, withZeros, withJunk]) {
      const fits = new FitsFile(new MemoryByteSource(bytes));
      expect(fits.hdus).toHaveLength(1);
      expect(Array.from(fits.readImage(0).data as Int16Array)).toEqual([7, 8, 9]);
    }
  });

  it('reads only what it needs from a file source, at offsets', () => {
    const source = new FileByteSource(file);
    try {
      expect(source.size).toBe(mef.length);
      expect(Buffer.from(source.read(2880, 8)).toString('latin1')).toBe('XTENSION');
      expect(() => source.read(mef.length - 4, 8)).toThrow(InvalidInputError);
    } finally {
      source.close();
    }
  });

  it('reports a missing file as InputNotFoundError', () => {
    const missing = path.join(tmp.dir, 'nope.fits');
    expect(() => openByteSource(missing)).toThrow(InputNotFoundError);
    expect(() => openFits(missing)).toThrow(/nope\.fits: cannot open/);
  });
});

describeWithShared('a real Euclid Q1 MER cutout', () => {
  it('lists 25 image HDUs and reads VIS_BGSUB by name', () => {
    const fits = openFits(path.join(euclidQ1Dir, 'q1_mer_cutout_102018665_NEG570040238507752998.fits'));
    try {
      expect(fits.hdus).toHaveLength(25);
      expect(fits.hdus.every((h) => h.kind === 'image')).toBe(true);
      const vis = fits.hdu('vis_bgsub');
      expect(vis.header.getString('FILTER')).toBe(vis.header.getAll('FILTER').at(-1)!.value);
      const image = fits.readImage(vis);
      expect(image.axes).toEqual([100, 100]);
      expect(image.dtype).toBe('float32');
      const section = fits.readImage(vis, { x0: 40, x1: 60, y0: 45, y1: 55 });
      expect(section.data[0]).toBe(image.data[45 * 100 + 40]);
      expect(section.data[199]).toBe(image.data[54 * 100 + 59]);
    } finally {
      fits.close();
    }
  });
});

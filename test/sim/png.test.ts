import { inflateSync } from 'node:zlib';

import { crc32, encodePng } from '../../src/inspect/png.js';

/** Splits a PNG into its chunks, checking each CRC. */
function chunks(png: Buffer): { type: string; data: Buffer }[] {
  const out: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    expect(png.readUInt32BE(at + 8 + length)).toBe(crc32(png.subarray(at + 4, at + 8 + length)));
    out.push({ type, data });
    at += 12 + length;
  }
  return out;
}

describe('PNG encoder', () => {
  test('CRC-32 matches the reference value of the PNG specification (IEND)', () => {
    expect(crc32(Buffer.from('IEND', 'latin1'))).toBe(0xae426082);
    expect(crc32(Buffer.from('123456789', 'latin1'))).toBe(0xcbf43926);
  });

  test('grey and RGB images round-trip through the IDAT scanlines', () => {
    const grey = { width: 3, height: 2, channels: 1 as const, data: Uint8Array.from([0, 10, 20, 30, 40, 255]) };
    const png = encodePng(grey);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const parts = chunks(png);
    expect(parts.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const header = parts[0]!.data;
    expect([header.readUInt32BE(0), header.readUInt32BE(4), header[8], header[9]]).toEqual([3, 2, 8, 0]);
    expect([...inflateSync(parts[1]!.data)]).toEqual([0, 0, 10, 20, 0, 30, 40, 255]);

    const rgb = encodePng({ width: 1, height: 1, channels: 3, data: Uint8Array.from([1, 2, 3]) });
    expect(chunks(rgb)[0]!.data[9]).toBe(2);
    expect([...inflateSync(chunks(rgb)[1]!.data)]).toEqual([0, 1, 2, 3]);
    expect(() => encodePng({ ...grey, data: new Uint8Array(5) })).toThrow(RangeError);
  });
});

import { decodeFlags, encodeFlags, FLAGS, flagValue, hasFlag, type FlagName } from '../../src/ground/flags.js';

const NAMES = FLAGS.map((flag) => flag.name);

describe('flags', () => {
  it('gives every flag its own name and its own bit within 32 bits', () => {
    expect(new Set(NAMES).size).toBe(FLAGS.length);
    expect(new Set(FLAGS.map((flag) => flag.bit)).size).toBe(FLAGS.length);
    for (const flag of FLAGS) {
      expect(Number.isInteger(flag.bit) && flag.bit >= 0 && flag.bit < 32).toBe(true);
      expect(flag.name).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(flag.description.length).toBeGreaterThan(10);
    }
  });

  it('defines the flags issue 5 asks for', () => {
    expect(NAMES).toEqual(
      expect.arrayContaining(['off_tile_edge', 'zero_pixels_in_core', 'nan_pixels_in_core', 'core_near_edge', 'no_rms_map', 'no_psf_hdu', 'saturated_or_blank', 'corrupt_input', 'inference_failed']),
    );
  });

  it('decodes every combination of flags back to the same names, lowest bit first', () => {
    for (let mask = 0; mask < 2 ** FLAGS.length; mask++) {
      const names = FLAGS.filter((_, i) => (mask >> i) & 1).map((flag) => flag.name);
      const value = encodeFlags(names);
      expect(value).toBe(names.reduce((sum, name) => sum + 2 ** FLAGS.find((f) => f.name === name)!.bit, 0));
      const sorted = [...names].sort((a, b) => flagValue(a) - flagValue(b));
      expect(decodeFlags(value)).toEqual(sorted);
      for (const name of NAMES) expect(hasFlag(value, name)).toBe(names.includes(name));
    }
  });

  it('encodes a repeated flag once', () => {
    const name: FlagName = 'no_rms_map';
    expect(encodeFlags([name, name])).toBe(flagValue(name));
  });

  it('names bits this version does not define instead of hiding them', () => {
    const defined = encodeFlags(['corrupt_input']);
    expect(decodeFlags((defined | 0x80000000) >>> 0)).toEqual(['corrupt_input', 'bit_31']);
    expect(decodeFlags(0)).toEqual([]);
  });

  it('refuses values that are not unsigned 32-bit integers', () => {
    for (const bad of [-1, 2 ** 32, 1.5, NaN]) expect(() => decodeFlags(bad)).toThrow(RangeError);
  });
});

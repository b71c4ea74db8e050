import { readdirSync } from 'node:fs';
import { InvalidInputError } from '../../src/errors.js';
import { parseEuclidObjectId, parseIauDesignation } from '../../src/cutout/object-id.js';
import { describeWithShared, euclidQ1Dir } from '../helpers/shared.js';

describe('parseEuclidObjectId', () => {
  it('splits the 19-digit form into RA x 1e7 and |Dec| x 1e7, the sign going to Dec', () => {
    expect(parseEuclidObjectId('NEG570040238507752998')).toEqual({
      objectId: -570040238507752998n,
      ra: 57.0040238,
      dec: -50.7752998,
    });
    expect(parseEuclidObjectId('-570040238507752998')).toEqual(parseEuclidObjectId('NEG570040238507752998'));
    expect(parseEuclidObjectId(-570040238507752998n)).toEqual(parseEuclidObjectId('NEG570040238507752998'));
  });

  it('reads RA of 100 degrees and more, and a positive Dec', () => {
    expect(parseEuclidObjectId('2663231250659368062')).toEqual({
      objectId: 2663231250659368062n,
      ra: 266.323125,
      dec: 65.9368062,
    });
  });

  it('restores the leading zeros a small RA drops from the integer', () => {
    expect(parseEuclidObjectId('51234567012345678')).toMatchObject({ ra: 5.1234567, dec: 1.2345678 });
    expect(parseEuclidObjectId('NEG123456899999999')).toMatchObject({ ra: 0.0123456, dec: -89.9999999 });
    expect(parseEuclidObjectId(7000000005)).toMatchObject({ ra: 0.0000007, dec: 0.0000005 });
  });

  it('keeps Dec near 0 and at exactly 0 (no negative zero)', () => {
    expect(parseEuclidObjectId('1234567890000000123')).toMatchObject({ ra: 123.456789, dec: 0.0000123 });
    expect(parseEuclidObjectId('NEG1234567890000000123')).toMatchObject({ ra: 123.456789, dec: -0.0000123 });
    expect(Object.is(parseEuclidObjectId('NEG1234567890000000000').dec, 0)).toBe(true);
    expect(parseEuclidObjectId('NEG3599999999900000000')).toMatchObject({ ra: 359.9999999, dec: -90 });
  });

  it('finds the id after the tile id in a cutout file name or path', () => {
    expect(parseEuclidObjectId('/data/q1_mer_cutout_102018665_NEG570040238507752998.fits').objectId).toBe(
      -570040238507752998n,
    );
    expect(parseEuclidObjectId('q1_mer_cutout_102020064_NEG635872258496841682_300px.fits')).toMatchObject({
      ra: 63.5872258,
      dec: -49.6841682,
    });
    expect(parseEuclidObjectId('102018665_2663231250659368062').ra).toBe(266.323125);
  });

  it('rejects malformed ids with InvalidInputError', () => {
    for (const bad of [
      '',
      'NEG',
      '-',
      '12a4',
      'NEG-5',
      '99999999999999999999', // beyond 64 bits
      '3600000000000000000', // RA 360
      '1000000000900000001', // Dec beyond 90
      'q1_mer_cutout_102018665.fits', // no object id after the tile id
      'q1_mer_cutout_EUCLJ174517.55+655612.5.fits',
      '1_2_3_4', // two '<tile>_<id>' pairs
    ]) {
      expect(() => parseEuclidObjectId(bad)).toThrow(InvalidInputError);
    }
    expect(() => parseEuclidObjectId(570040238507752998)).toThrow(/string or bigint/);
    expect(() => parseEuclidObjectId(1.5)).toThrow(InvalidInputError);
  });
});

describe('parseIauDesignation', () => {
  it('reads JHHMMSS.ss+DDMMSS.s with any acronym in front', () => {
    const expected = { ra: (17 + 45 / 60 + 17.55 / 3600) * 15, dec: 65 + 56 / 60 + 12.5 / 3600 };
    expect(parseIauDesignation('EUCLJ174517.55+655612.5')).toEqual(expected);
    expect(parseIauDesignation('EUCL J174517.55+655612.5')).toEqual(expected);
    expect(parseIauDesignation('J174517.55+655612.5')).toEqual(expected);
    expect(parseIauDesignation('q1_mer_cutout_EUCLJ174517.55+655612.5.fits')).toEqual(expected);
  });

  it('handles negative and near-zero declinations and RA near 0', () => {
    expect(parseIauDesignation('EUCLJ000000.01-000000.1')).toEqual({ ra: (0.01 / 3600) * 15, dec: -0.1 / 3600 });
    expect(Object.is(parseIauDesignation('EUCLJ120000.00-000000.0').dec, 0)).toBe(true);
    expect(parseIauDesignation('EUCLJ235959.99-895959.9').dec).toBeCloseTo(-(89 + 59 / 60 + 59.9 / 3600), 12);
  });

  it('rejects malformed designations with InvalidInputError', () => {
    for (const bad of [
      '',
      'EUCLJ174517.55',
      'EUCLJ1745.5+6556.2',
      'EUCLJ246000.00+000000.0',
      'EUCLJ176017.55+655612.5',
      'EUCLJ174517.55+656012.5',
      'EUCLJ174517.55+905612.5',
      'EUCLJ174517.55+655612.5_EUCLJ174517.55+655612.5',
      'q1_mer_cutout_102018665_NEG570040238507752998.fits',
    ]) {
      expect(() => parseIauDesignation(bad)).toThrow(InvalidInputError);
    }
  });
});

describeWithShared('names of the Euclid Q1 cutouts in the shared data', () => {
  it('each carries either an object id or a designation, never both', () => {
    const names = readdirSync(euclidQ1Dir).filter((f) => f.endsWith('.fits'));
    expect(names.length).toBe(3);
    for (const name of names) {
      const byId = tryParse(() => parseEuclidObjectId(name));
      const byDesignation = tryParse(() => parseIauDesignation(name));
      expect(Number(byId !== undefined) + Number(byDesignation !== undefined)).toBe(1);
    }
  });
});

function tryParse<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InvalidInputError) return undefined;
    throw error;
  }
}

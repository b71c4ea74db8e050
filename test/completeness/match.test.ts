import { describe, expect, test } from '@jest/globals';

import { angularSeparationArcsec, crossMatch, type SkyMatch, type SkyPositions } from '../../src/completeness/match.js';
import { UsageError } from '../../src/errors.js';
import { expectThrows } from '../helpers/errors.js';
import { seededRandom } from '../helpers/random.js';

const positions = (points: readonly (readonly [number, number])[]): SkyPositions => ({ ra: points.map((p) => p[0]), dec: points.map((p) => p[1]) });

describe('angular separation', () => {
  test('one arcsecond along a meridian, and across RA = 0/360 on the equator', () => {
    expect(angularSeparationArcsec(10, 0, 10, 1 / 3600)).toBeCloseTo(1, 9);
    expect(angularSeparationArcsec(359.9999, 0, 0.0001, 0)).toBeCloseTo(0.72, 9);
  });

  test('RA differences shrink by cos(dec)', () => {
    expect(angularSeparationArcsec(0, 60, 2 / 3600, 60)).toBeCloseTo(1, 6);
    // Through the pole: two points 0.036" from it on opposite meridians.
    expect(angularSeparationArcsec(0, 90 - 1e-5, 180, 90 - 1e-5)).toBeCloseTo(0.072, 6);
  });
});

/** The nearest catalogue index within the radius by brute force, lowest index on ties. */
function bruteForce(references: SkyPositions, catalogue: SkyPositions, radius: number): (SkyMatch | null)[] {
  return Array.from({ length: references.ra.length }, (_, q) => {
    let best: SkyMatch | null = null;
    for (let i = 0; i < catalogue.ra.length; i++) {
      if (!Number.isFinite(catalogue.dec[i]!)) continue;
      const separationArcsec = angularSeparationArcsec(references.ra[q]!, references.dec[q]!, catalogue.ra[i]!, catalogue.dec[i]!);
      if (separationArcsec <= radius && (best === null || separationArcsec < best.separationArcsec)) best = { index: i, separationArcsec };
    }
    return best;
  });
}

describe('crossMatch', () => {
  test('matches across RA = 0/360 in both directions', () => {
    const catalogue = positions([
      [359.99995, 10],
      [0.00004, -20],
    ]);
    const references = positions([
      [0.00005, 10],
      [359.99997, -20],
      [-0.00005, 10],
    ]);
    const matches = crossMatch(references, catalogue, 0.5);
    expect(matches.map((m) => m?.index)).toEqual([0, 1, 0]);
    expect(matches[0]!.separationArcsec).toBeCloseTo(0.0001 * Math.cos(10 * (Math.PI / 180)) * 3600, 6);
  });

  test('at high declination a source many radii away in RA is still within the radius', () => {
    // 0.0005 deg of RA at dec 80 is 0.31", though 3.6 times the radius in RA.
    const catalogue = positions([
      [100.0005, 80],
      [200, 90 - 1e-5],
    ]);
    const references = positions([
      [100, 80],
      [20, 90 - 1e-5],
    ]);
    const matches = crossMatch(references, catalogue, 0.5);
    expect(matches.map((m) => m?.index)).toEqual([0, 1]);
    expect(matches[0]!.separationArcsec).toBeCloseTo(0.3126, 3);
  });

  test('takes the nearest within the radius, the lower index on a tie, and nothing beyond it', () => {
    const catalogue = positions([
      [50, 0.4 / 3600],
      [50, 0.2 / 3600],
      [50, -0.2 / 3600],
      [50, 1 / 3600],
      [Number.NaN, Number.NaN],
    ]);
    const matches = crossMatch(positions([[50, 0]]), catalogue, 0.5);
    expect(matches).toEqual([{ index: 1, separationArcsec: expect.closeTo(0.2, 9) }]);
    expect(crossMatch(positions([[50, 1.6 / 3600]]), catalogue, 0.5)).toEqual([null]);
    expect(crossMatch(positions([[50, 1.4 / 3600]]), catalogue, 0.5)[0]?.index).toBe(3);
  });

  test('references without a position match nothing, and catalogue rows without one are never matched', () => {
    expect(crossMatch(positions([[Number.NaN, 0]]), positions([[0, 0]]))).toEqual([null]);
    expect(crossMatch(positions([[0, 0]]), positions([[0, Number.NaN]]))).toEqual([null]);
  });

  test('agrees with a brute-force search across the RA wrap and around the pole', () => {
    const next = seededRandom(42);
    const radius = 2;
    // A 72" square straddling RA = 0 and a cap of radius 18" around the north pole, each dense enough
    // (about 2 sources per match circle) that most references have several sources to choose from.
    const square = (n: number): [number, number][] => Array.from({ length: n }, () => [(360 + (next() - 0.5) * 0.02) % 360, -30 + (next() - 0.5) * 0.02]);
    const cap = (n: number): [number, number][] => Array.from({ length: n }, () => [next() * 360, 90 - next() * 0.005]);
    const catalogue = positions([...square(1000), ...cap(400)]);
    const references = positions([...square(300), ...cap(150)]);
    const expected = bruteForce(references, catalogue, radius);
    expect(expected.filter((m) => m !== null).length).toBeGreaterThan(300);
    expect(crossMatch(references, catalogue, radius)).toEqual(expected);
  });

  test('refuses a radius that is not positive or beyond a degree', () => {
    expectThrows(() => crossMatch(positions([]), positions([]), 0), UsageError, 'match radius');
    expectThrows(() => crossMatch(positions([]), positions([]), 7200), UsageError, 'match radius');
  });
});

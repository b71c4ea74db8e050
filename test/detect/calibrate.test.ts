import { describe, expect, test } from '@jest/globals';

import { fitSignificance } from '../../src/detect/calibrate.js';
import { applySignificanceCalibration } from '../../src/detect/detect.js';
import { seededRandom } from '../helpers/random.js';

function heavyTailed(n: number, seed: number): number[] {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  // Student t with 4 dof, shifted and widened: a miscalibrated significance with heavy tails.
  return Array.from({ length: n }, () => {
    const chi2 = normal() ** 2 + normal() ** 2 + normal() ** 2 + normal() ** 2;
    return 0.3 + 1.4 * (normal() / Math.sqrt(chi2 / 4));
  });
}

describe('the significance calibration', () => {
  test('takes a heavy-tailed, shifted z to N(0, 1) quantiles, tails included, on fresh data', () => {
    const fit = fitSignificance(heavyTailed(20000, 1));
    const fresh = heavyTailed(200000, 2).map((z) => applySignificanceCalibration(z, fit));
    const above = (c: number) => fresh.filter((z) => z > c).length / fresh.length;
    // The fit's own sampling noise (20,000 galaxies) allows about a per cent here.
    expect(Math.abs(above(0) - 0.5)).toBeLessThan(0.015);
    expect(Math.abs(above(1) - 0.1587)).toBeLessThan(0.012);
    expect(above(2)).toBeGreaterThan(0.018);
    expect(above(2)).toBeLessThan(0.028);
    // Without the knots (the affine map alone) the tail would be several times too heavy.
    const affine = heavyTailed(200000, 2).map((z) => (z - fit.offset) / fit.scale);
    expect(affine.filter((z) => z > 3).length / affine.length).toBeGreaterThan(0.006);
    expect(above(3)).toBeGreaterThan(0.0005);
    expect(above(3)).toBeLessThan(0.0025);
  });

  test('is monotone and continues with slope 1 / scale beyond its knots', () => {
    const fit = fitSignificance(heavyTailed(2000, 3));
    const grid = Array.from({ length: 400 }, (_, i) => -20 + i * 0.1).map((z) => applySignificanceCalibration(z, fit));
    for (let i = 1; i < grid.length; i++) expect(grid[i]!).toBeGreaterThan(grid[i - 1]!);
    const last = fit.knots!.from.at(-1)!;
    expect(applySignificanceCalibration(last + 2 * fit.scale, fit) - applySignificanceCalibration(last, fit)).toBeCloseTo(2, 10);
    expect(applySignificanceCalibration(5, { offset: 1, scale: 2 })).toBe(2);
  });

  test('needs enough galaxies', () => {
    expect(() => fitSignificance([1, 2, 3])).toThrow(RangeError);
  });
});

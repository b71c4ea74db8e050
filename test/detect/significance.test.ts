import { describe, expect, test } from '@jest/globals';

import { upperTailPValue } from '../../src/detect/core-scores.js';
import { gaussianisedZ, gaussianUpperQuantile, incompleteBeta, studentUpperTail } from '../../src/detect/significance.js';

describe('Student t and Gaussian tails', () => {
  test('incomplete beta at known values', () => {
    expect(incompleteBeta(0.5, 1, 1)).toBeCloseTo(0.5, 12);
    expect(incompleteBeta(0.3, 2, 3)).toBeCloseTo(0.3483, 4);
    expect(incompleteBeta(0.5, 5, 5)).toBeCloseTo(0.5, 12);
  });

  test.each([
    [2.131, 15, 0.025],
    [2.947, 15, 0.005],
    [1.753, 15, 0.05],
    [12.706, 1, 0.025],
    [1.96, 1e7, 0.025],
  ])('P(t > %p | %p dof) = %p (tables)', (t, dof, p) => {
    expect(studentUpperTail(t, dof)).toBeCloseTo(p, 4);
    expect(studentUpperTail(-t, dof)).toBeCloseTo(1 - p, 4);
  });

  test('the Gaussian quantile inverts the tail', () => {
    expect(gaussianUpperQuantile(0.025)).toBeCloseTo(1.959964, 5);
    expect(gaussianUpperQuantile(0.5)).toBeCloseTo(0, 6);
    for (const z of [-3, 0.3, 5, 20]) expect(gaussianUpperQuantile(upperTailPValue(z))).toBeCloseTo(z, 5);
  });

  test('a raw z against 16 samples maps to the Gaussian z of the same t tail, monotonically', () => {
    // t = 2.947 with 15 dof has a 0.5% tail: the Gaussian z of 0.5% is 2.5758.
    expect(gaussianisedZ(2.947 * Math.sqrt(1 + 1 / 16), 16)).toBeCloseTo(2.5758, 3);
    expect(gaussianisedZ(0, 16)).toBeCloseTo(0, 6);
    const zs = [-50, -5, -1, 0, 0.5, 2, 4, 8, 30, 1e6].map((z) => gaussianisedZ(z, 16));
    for (let i = 1; i < zs.length; i++) expect(zs[i]!).toBeGreaterThanOrEqual(zs[i - 1]!);
    expect(zs.at(-1)).toBeGreaterThan(19);
    // Beyond what double precision resolves, the significance saturates instead of becoming NaN.
    expect(gaussianisedZ(1e30, 16)).toBe(37);
    expect(Math.abs(gaussianisedZ(3, 1e6) - 3)).toBeLessThan(1e-4);
  });
});

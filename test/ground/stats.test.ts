import { describe, expect, test } from '@jest/globals';

import { median } from '../../src/ground/stats.js';
import { seededRandom } from '../helpers/random.js';

/** The definition: the middle of a full ascending sort (NaN last, as typed-array sort puts it). */
function sortedMedian(values: readonly number[]): number {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : 0.5 * (sorted[n / 2 - 1]! + sorted[n / 2]!);
}

describe('median', () => {
  test('equals the middle of a full sort, for odd and even lengths, ties, infinities and NaN', () => {
    const random = seededRandom(11);
    for (let trial = 0; trial < 2000; trial++) {
      const n = Math.floor(random() * 40);
      const values = Array.from({ length: n }, () => {
        const u = random();
        if (u < 0.05) return Number.NaN;
        if (u < 0.07) return u < 0.06 ? Infinity : -Infinity;
        // Few distinct values half of the time, so ties are common.
        return trial % 2 === 0 ? Math.floor(random() * 5) : random() * 100 - 50;
      });
      expect(Object.is(median(values), sortedMedian(values)) || median(values) === sortedMedian(values)).toBe(true);
    }
  });

  test('small cases', () => {
    expect(median([])).toBeNaN();
    expect(median([3])).toBe(3);
    expect(median([4, 1])).toBe(2.5);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([1, Number.NaN])).toBeNaN();
    expect(median([1, 2, Number.NaN])).toBe(2);
  });

  test('does not change its input', () => {
    const values = Float32Array.of(5, 3, 9, 1);
    median(values);
    expect(Array.from(values)).toEqual([5, 3, 9, 1]);
  });
});

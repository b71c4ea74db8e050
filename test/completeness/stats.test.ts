import { describe, expect, test } from '@jest/globals';

import { binOf, checkEdges, errorSummary, formatProportion, moments, rocAuc, thresholdAtFpr, wilsonInterval } from '../../src/completeness/stats.js';
import { UsageError } from '../../src/errors.js';
import { expectThrows } from '../helpers/errors.js';

describe('Wilson score interval', () => {
  test('5/10 at 68% (z = 1): centre 0.5, half-width sqrt(0.0275)/1.1', () => {
    const p = wilsonInterval(5, 10);
    expect(p).toMatchObject({ successes: 5, trials: 10, value: 0.5 });
    expect(p.lower).toBeCloseTo(0.5 - Math.sqrt(0.0275) / 1.1, 12);
    expect(p.upper).toBeCloseTo(0.5 + Math.sqrt(0.0275) / 1.1, 12);
    expect(p.lower).toBeCloseTo(0.349244, 6);
  });

  test('0/10 and 10/10 at 68% reach exactly 1/11 from the edge, and never leave [0, 1]', () => {
    const none = wilsonInterval(0, 10);
    expect(none.lower).toBe(0);
    expect(none.upper).toBeCloseTo(1 / 11, 12);
    const all = wilsonInterval(10, 10);
    expect(all.lower).toBeCloseTo(10 / 11, 12);
    expect(all.upper).toBe(1);
  });

  test('0/10 at 95% gives the tabulated upper limit z²/(n + z²) = 0.2775', () => {
    expect(wilsonInterval(0, 10, 0.95).upper).toBeCloseTo(1.959964 ** 2 / (10 + 1.959964 ** 2), 6);
    expect(wilsonInterval(0, 10, 0.95).upper).toBeCloseTo(0.2775, 4);
    expect(wilsonInterval(5, 10, 0.95).upper - wilsonInterval(5, 10, 0.95).lower).toBeGreaterThan(wilsonInterval(5, 10).upper - wilsonInterval(5, 10).lower);
  });

  test('no trials: no value and the whole of [0, 1]; impossible counts are refused', () => {
    expect(wilsonInterval(0, 0)).toEqual({ successes: 0, trials: 0, value: null, lower: 0, upper: 1 });
    expect(() => wilsonInterval(11, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(1.5, 10)).toThrow(RangeError);
  });

  test('formats as counts, percentage and interval', () => {
    expect(formatProportion(wilsonInterval(5, 10))).toBe('5/10 = 50.0% [34.9%, 65.1%]');
    expect(formatProportion(wilsonInterval(0, 0))).toBe('0/0');
  });
});

describe('ROC AUC (Mann–Whitney)', () => {
  test('perfect separation is 1, the reverse 0, identical scores 0.5', () => {
    expect(rocAuc([3, 4], [1, 2])).toBe(1);
    expect(rocAuc([1, 2], [3, 4])).toBe(0);
    expect(rocAuc([1, 1, 1], [1, 1])).toBe(0.5);
  });

  test('ties count one half: [3, 2, 1] against [2, 0] wins 4.5 of 6 pairs', () => {
    expect(rocAuc([3, 2, 1], [2, 0])).toBe(0.75);
    // Order of the inputs does not matter.
    expect(rocAuc([1, 3, 2], [0, 2])).toBe(0.75);
  });

  test('missing scores as -Infinity tie with each other and lose to everything else', () => {
    // -inf vs -inf: 0.5, -inf vs 0: 0, 5 vs both: 2; 2.5 of 4.
    expect(rocAuc([-Infinity, 5], [-Infinity, 0])).toBe(0.625);
  });

  test('is null with an empty side and refuses NaN', () => {
    expect(rocAuc([], [1])).toBeNull();
    expect(rocAuc([1], [])).toBeNull();
    expect(() => rocAuc([Number.NaN], [1])).toThrow(RangeError);
  });
});

describe('threshold at a false-positive rate', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  test('1% of 1..100 leaves only 100 above: the threshold is 99', () => {
    expect(thresholdAtFpr(hundred, 0.01)).toBe(99);
  });

  test('29% of 100 allows 29 above although 0.29 * 100 < 29 in floating point', () => {
    expect(0.29 * 100).toBeLessThan(29);
    const threshold = thresholdAtFpr(hundred, 0.29)!;
    expect(threshold).toBe(71);
    expect(hundred.filter((v) => v > threshold)).toHaveLength(29);
  });

  test('ties at the threshold make the realised rate lower, never higher', () => {
    // 5 is the lowest threshold with at most 1 of 4 above; 1 would let 3 through.
    expect(thresholdAtFpr([5, 1, 5, 5], 0.25)).toBe(5);
    expect(thresholdAtFpr([4, 3, 2, 1], 0.5)).toBe(2);
  });

  test('rate 0 gives the largest score; no negatives give null; rates outside [0, 1) are refused', () => {
    expect(thresholdAtFpr([2, 7, 3], 0)).toBe(7);
    expect(thresholdAtFpr([], 0.01)).toBeNull();
    expect(() => thresholdAtFpr([1], 1)).toThrow(RangeError);
  });
});

describe('bins and summaries', () => {
  test('bins are half-open [lo, hi); outside and NaN give -1', () => {
    const edges = [0, 1, 2, 4];
    expect([0, 0.999, 1, 3.9, 4, -0.1, Number.NaN].map((v) => binOf(edges, v))).toEqual([0, 0, 1, 2, -1, -1, -1]);
  });

  test('edges must increase strictly', () => {
    expectThrows(() => checkEdges([1, 1, 2], 'edges'), UsageError, 'strictly increasing');
    expectThrows(() => checkEdges([1], 'edges'), UsageError, 'at least two');
    expect(() => checkEdges([1, 2], 'edges')).not.toThrow();
  });

  test('moments use the sample standard deviation', () => {
    const m = moments([1, 2, 3, 4]);
    expect(m.mean).toBe(2.5);
    expect(m.sd).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(moments([7])).toEqual({ n: 1, mean: 7, sd: null });
  });

  test('bias and RMSE of estimates', () => {
    const s = errorSummary([
      [1, 0],
      [0, 1],
      [2, 1],
    ]);
    expect(s.bias).toBeCloseTo(1 / 3, 12);
    expect(s.rmse).toBe(1);
    expect(errorSummary([])).toEqual({ n: 0, bias: null, rmse: null });
  });
});

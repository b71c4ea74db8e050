import { describe, expect, test } from '@jest/globals';

import { completenessAgainstReference, formatReferenceReport, type MatchableRow } from '../../src/completeness/reference-completeness.js';
import { UsageError } from '../../src/errors.js';
import { expectThrows } from '../helpers/errors.js';

const ARCSEC = 1 / 3600;

/** Five catalogue rows near RA 0 (one without a position); candidates are rows 0 and 3. */
const catalogue: MatchableRow[] = [
  { object_id: 9_223_372_036_854_775_807n, ra: 359.9999, dec: 1, is_candidate: true },
  { object_id: 2n, ra: 0.01, dec: 1, is_candidate: false },
  { object_id: 3n, ra: null, dec: null, is_candidate: false },
  { object_id: 4n, ra: 0.02, dec: 1, is_candidate: true },
  { object_id: 5n, ra: 0.02, dec: 1 + 0.3 * ARCSEC, is_candidate: false },
];

/**
 * Reference 0 matches the candidate across RA = 0; 1 the non-candidate; 2 nothing; 3 lies 0.2" from
 * the candidate 4 and 0.1" from the non-candidate 5, so the nearest (5) makes it not recovered.
 */
const reference = {
  ra: [0.0000001, 0.01, 0.1, 0.02],
  dec: [1, 1 + 0.4 * ARCSEC, 1, 1 + 0.2 * ARCSEC],
  mag: [19.5, 19.7, 21.2, Number.NaN],
  id: ['q0', null, 'q2', 'q3'],
};

describe('completenessAgainstReference', () => {
  const report = completenessAgainstReference(catalogue, reference);

  test('records per reference its match and whether that match is a candidate', () => {
    expect(report.sources.map(({ objectId, recovered }) => [objectId, recovered])).toEqual([
      ['9223372036854775807', true],
      ['2', false],
      [null, false],
      ['5', false],
    ]);
    expect(report.sources[1]!.separationArcsec).toBeCloseTo(0.4, 6);
    expect(report.sources[3]).toMatchObject({ index: 3, id: 'q3', mag: null, ra: 0.02 });
  });

  test('totals: 1 of 4 references recovered, 1 of 3 matched', () => {
    expect(report.radiusArcsec).toBe(0.5);
    expect(report.totals).toMatchObject({ references: 4, matched: 3, recovered: 1 });
    expect(report.totals.completeness).toMatchObject({ successes: 1, trials: 4 });
    expect(report.totals.completenessOfMatched).toMatchObject({ successes: 1, trials: 3 });
    expect(report.totals.matchedFraction).toMatchObject({ successes: 3, trials: 4 });
  });

  test('the selected fraction of the whole catalogue', () => {
    expect(report.catalogue).toMatchObject({ rows: 5, withoutPosition: 1, candidates: 2, selected: { successes: 2, trials: 5 } });
  });

  test('magnitude bins by the reference magnitude; a missing one falls outside', () => {
    const bins = report.magBins!;
    expect(bins.outside).toBe(1);
    expect(bins.bins.map(({ lo, references, matched, recovered }) => [lo, references, matched, recovered])).toEqual([
      [19, 2, 2, 1],
      [20, 0, 0, 0],
      [21, 1, 0, 0],
      [22, 0, 0, 0],
      [23, 0, 0, 0],
      [24, 0, 0, 0],
    ]);
    const custom = completenessAgainstReference(catalogue, reference, { magBins: [19, 25] }).magBins!;
    expect(custom.bins).toHaveLength(1);
    expect(custom.bins[0]!.completeness).toMatchObject({ successes: 1, trials: 3 });
  });

  test('a larger radius reaches further; without magnitudes there are no bins', () => {
    const wide = completenessAgainstReference(catalogue, { ...reference, mag: null }, { radiusArcsec: 300 });
    expect(wide.totals.matched).toBe(4);
    expect(wide.magBins).toBeNull();
    expect(formatReferenceReport(wide)).toContain('no magnitude bins');
  });

  test('is plain JSON and formats as Markdown', () => {
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    const text = formatReferenceReport(report);
    expect(text).toContain('| all | 1/4 = 25.0% [');
    expect(text).toContain('| 19–20 | 2 | 2 | 1 | 1/2 = 50.0% [');
    expect(text).toContain('2 candidates: 2/5 = 40.0%');
  });

  test('refuses bad bins and radii', () => {
    expectThrows(() => completenessAgainstReference(catalogue, reference, { magBins: [20] }), UsageError, 'magnitude bin edges');
    expectThrows(() => completenessAgainstReference(catalogue, reference, { radiusArcsec: -1 }), UsageError, 'match radius');
  });
});

import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterAll, describe, expect, test } from '@jest/globals';

import { evaluateAgainstTruth, formatTruthReport, readTruthTable, type ScoredObject, type TruthObject, type TruthClass } from '../../src/completeness/truth.js';
import { InvalidInputError, UsageError } from '../../src/errors.js';
import { TARGET_COLUMNS, writeTruth } from '../../src/sim/truth.js';
import { tempDir } from '../catalog/fixtures.js';
import { expectThrows } from '../helpers/errors.js';

const { dir, remove } = tempDir('truth');
afterAll(remove);

interface Case {
  cls: TruthClass;
  fps: number;
  mag: number;
  score: number | null;
  selected: boolean;
  fpsEstimate?: number;
  flags?: number;
}

/**
 * A population small enough to evaluate by hand (see each expectation):
 * 11 galaxies (one unscored, one selected), 4 AGN at f_PS 0.02, 1 AGN at 0.005 (outside the default
 * bins), 2 QSOs at 0.8, 2 stars; plus one truth AGN missing from the catalogue and one catalogue row
 * without truth.
 */
const CASES: Case[] = [
  ...[0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4].map((score): Case => ({ cls: 'galaxy', fps: 0, mag: 21, score, selected: false })),
  { cls: 'galaxy', fps: 0, mag: 21, score: 10, selected: true, fpsEstimate: 0.01, flags: 1 },
  { cls: 'galaxy', fps: 0, mag: 21, score: null, selected: false, flags: 256 },
  { cls: 'agn', fps: 0.02, mag: 22, score: 5, selected: true, fpsEstimate: 0.03 },
  { cls: 'agn', fps: 0.02, mag: 22, score: 4, selected: true, fpsEstimate: 0.01 },
  { cls: 'agn', fps: 0.02, mag: 22, score: 3, selected: false },
  // Selected but unscored: a null score never counts as selected.
  { cls: 'agn', fps: 0.02, mag: 22, score: null, selected: true },
  { cls: 'agn', fps: 0.005, mag: 22, score: 1, selected: false },
  { cls: 'qso', fps: 0.8, mag: 20.5, score: 20, selected: true, fpsEstimate: 0.7 },
  { cls: 'qso', fps: 0.8, mag: 26, score: 30, selected: true, fpsEstimate: 0.9 },
  { cls: 'star', fps: 1, mag: 19, score: 50, selected: true, fpsEstimate: 1 },
  { cls: 'star', fps: 1, mag: 19, score: 0, selected: false, fpsEstimate: 0.5 },
];

const truth: TruthObject[] = [
  ...CASES.map(({ cls, fps, mag }, i): TruthObject => ({ objectId: BigInt(i) * 1000n, cls, fps, mag })),
  { objectId: 999_999n, cls: 'agn', fps: 0.5, mag: 22 },
];
const scored: ScoredObject[] = [
  ...CASES.map(({ score, selected, fpsEstimate, flags }, i): ScoredObject => ({ objectId: BigInt(i) * 1000n, score, selected, fpsEstimate: fpsEstimate ?? null, flags: flags ?? 0 })),
  { objectId: -5n, score: 100, selected: true, fpsEstimate: null, flags: 0 },
];

describe('evaluateAgainstTruth', () => {
  const report = evaluateAgainstTruth(scored, truth, { fprs: [0.1, 0.5] });

  test('joins by object_id and counts what did not join and what has no score', () => {
    expect(report.objects).toEqual({ truth: 21, catalogue: 21, joined: 20, missingFromCatalogue: 1, notInTruth: 1, nullScores: 2 });
    expect(report.confidence).toBe(0.68);
  });

  test('normal galaxies: selection FPR 1/11, P(score > 3) = 3/10 of those scored, score moments, flags', () => {
    const { galaxies } = report;
    expect(galaxies).toMatchObject({ n: 11, nullScores: 1, flagged: 2, scoreCut: 3 });
    expect(galaxies.selected).toMatchObject({ successes: 1, trials: 11 });
    expect(galaxies.aboveCut).toMatchObject({ successes: 3, trials: 10 });
    expect(galaxies.gaussianAboveCut).toBeCloseTo(0.0013499, 6);
    expect(galaxies.score.mean).toBeCloseTo(28 / 10, 12);
    expect(galaxies.score.n).toBe(10);
  });

  test('stars are counted apart', () => {
    expect(report.stars).toMatchObject({ n: 2, nullScores: 0, selected: { successes: 1, trials: 2 } });
  });

  test('thresholds come from the galaxies, the unscored one lowest: 1 of 11 allowed above at 10% gives 4', () => {
    expect(report.thresholds.map(({ fpr, threshold }) => [fpr, threshold])).toEqual([
      [0.1, 4],
      [0.5, 2],
    ]);
    expect(report.thresholds[0]!.galaxiesAbove).toMatchObject({ successes: 1, trials: 11 });
    expect(report.thresholds[1]!.galaxiesAbove).toMatchObject({ successes: 5, trials: 11 });
  });

  test('per f_PS bin: completeness, completeness at each FPR, AUC against the galaxies, f_PS errors', () => {
    const { bins, outside, binning } = report.fpsBins;
    expect(binning).toBe('edges');
    expect(outside).toBe(1);
    expect(bins.map((bin) => [bin.lo, bin.hi, bin.n])).toEqual([
      [0.01, 0.03, 4],
      [0.03, 0.07, 0],
      [0.07, 0.15, 0],
      [0.15, 0.25, 0],
      [0.25, 0.4, 0],
      [0.4, 0.6, 0],
      [0.6, 1.0001, 2],
    ]);
    const agn = bins[0]!;
    expect(agn.nullScores).toBe(1);
    expect(agn.completeness).toMatchObject({ successes: 2, trials: 4 });
    // Above 4: only the 5. Above 2: 5, 4 and 3.
    expect(agn.atFpr.map((cell) => cell.completeness?.successes)).toEqual([1, 3]);
    // Against 11 galaxy ranks [-inf, 0, ..., 4, 10]: 5 beats 10, 4 beats 9 and ties 1, 3 beats 7 and ties 1, -inf ties 1: 27.5 of 44.
    expect(agn.auc).toBe(27.5 / 44);
    expect(agn.fpsEstimate.n).toBe(2);
    expect(agn.fpsEstimate.bias).toBeCloseTo(0, 12);
    expect(agn.fpsEstimate.rmse).toBeCloseTo(0.01, 12);

    const qso = bins[6]!;
    expect(qso.completeness).toMatchObject({ successes: 2, trials: 2 });
    expect(qso.auc).toBe(1);
    expect(qso.fpsEstimate.rmse).toBeCloseTo(0.1, 12);
    expect(bins[1]!.completeness.value).toBeNull();
    expect(bins[1]!.auc).toBeNull();
  });

  test('purity: 4 AGN/QSO among 6 selected, 4 of 5 without the star', () => {
    expect(report.purity).toMatchObject({ selected: 6, agnQso: 4, galaxies: 1, stars: 1 });
    expect(report.purity.all).toMatchObject({ successes: 4, trials: 6 });
    expect(report.purity.withoutStars).toMatchObject({ successes: 4, trials: 5 });
  });

  test('f_PS estimate over galaxies, AGN and QSOs, stars left out', () => {
    // Errors 0.01, 0.01, -0.01, -0.1, 0.1.
    expect(report.fpsEstimate.n).toBe(5);
    expect(report.fpsEstimate.bias).toBeCloseTo(0.002, 12);
    expect(report.fpsEstimate.rmse).toBeCloseTo(Math.sqrt(0.0203 / 5), 12);
  });

  test('magnitude bins hold the AGN/QSOs from f_PS 0.2: the QSO at 20.5 in 20-21, the one at 26 outside', () => {
    expect(report.magBins.minFps).toBe(0.2);
    expect(report.magBins.outside).toBe(1);
    expect(report.magBins.bins.map((bin) => bin.n)).toEqual([0, 1, 0, 0, 0, 0]);
    expect(report.magBins.bins[1]!.completeness).toMatchObject({ successes: 1, trials: 1 });
  });

  test("'exact' f_PS bins: one per distinct value", () => {
    const exact = evaluateAgainstTruth(scored, truth, { fpsBins: 'exact' });
    expect(exact.fpsBins.binning).toBe('exact');
    expect(exact.fpsBins.outside).toBe(0);
    expect(exact.fpsBins.bins.map((bin) => [bin.lo, bin.hi, bin.n])).toEqual([
      [0.005, 0.005, 1],
      [0.02, 0.02, 4],
      [0.8, 0.8, 2],
    ]);
  });

  test('the report is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  test('the Markdown report has a row per bin', () => {
    const text = formatTruthReport(report);
    expect(text).toContain('| 0.01–0.03 | 4 | 2/4 = 50.0% [');
    expect(text).toContain('| true f_PS (AGN+QSO) | n | completeness (is_candidate) | at FPR 10% | at FPR 50% | AUC vs galaxies |');
    expect(text).toContain('Threshold for FPR 10%: z > 4.000');
    expect(text).toContain('20 objects joined by object_id');
    expect(text).toContain('1 AGN/QSO outside the f_PS bins');
    expect(text.split('\n').filter((line) => line.startsWith('| 20–21 |'))).toHaveLength(1);
  });

  test('refuses duplicate ids and bad options', () => {
    expectThrows(() => evaluateAgainstTruth([...scored, scored[0]!], truth), InvalidInputError, 'object_id 0 appears more than once in the catalogue');
    expectThrows(() => evaluateAgainstTruth(scored, [...truth, truth[3]!]), InvalidInputError, 'object_id 3000 appears more than once in the truth');
    expectThrows(() => evaluateAgainstTruth(scored, truth, { fprs: [0] }), UsageError, 'false-positive rate');
    expectThrows(() => evaluateAgainstTruth(scored, truth, { fpsBins: [0.5, 0.1] }), UsageError, 'f_PS bin edges');
  });
});

describe('readTruthTable', () => {
  test('reads a simulator truth table', async () => {
    const target = path.join(dir, 'truth.arrow');
    const rows = [
      { index: 0, object_id: 102018665, class: 'agn', f_ps: 0.1, mag_total: 21.5 },
      { index: 1, object_id: -7, class: 'galaxy', f_ps: 0, mag_total: 23 },
    ];
    await writeTruth(target, TARGET_COLUMNS, rows, {});
    expect(await readTruthTable(target)).toEqual([
      { objectId: 102018665n, cls: 'agn', fps: 0.1, mag: 21.5 },
      { objectId: -7n, cls: 'galaxy', fps: 0, mag: 23 },
    ]);
  });

  test('reads other formats, class names in any case; refuses an unknown class with its row', async () => {
    const target = path.join(dir, 'truth.csv');
    writeFileSync(target, 'object_id,class,f_ps,mag\n12345678901234567,QSO,0.7,20\n');
    expect(await readTruthTable(target)).toEqual([{ objectId: 12345678901234567n, cls: 'qso', fps: 0.7, mag: 20 }]);
    writeFileSync(target, 'object_id,class,f_ps,mag\n1,agn,0.1,20\n2,blazar,0.7,20\n');
    await expect(readTruthTable(target)).rejects.toThrow(/truth\.csv: column class row 2: "blazar" is not one of galaxy, agn, qso, star/);
  });
});

import { existsSync } from 'node:fs';
import path from 'node:path';

import { decodeFloat32LE, moffatPsf, peakFraction } from '../../src/ground/psf.js';
import { Q1_VIS_PSF_STAMPS } from '../../src/ground/q1-psf-stamps.js';
import { Q1_MEASUREMENTS, type CutoutMeasurement } from '../../src/ground/vis.js';
import { Q1_NOISE, calibrate, cutoutFiles, measureCutout, measurePlanes, type MeasuredCutout } from '../../src/sim/calibration.js';
import { simulateObject } from '../../src/sim/products.js';
import { DEFAULT_RECIPE } from '../../src/sim/recipe.js';
import type { SourceMeasure } from '../../src/sim/stats.js';
import { describeIf, euclidQ1Dir } from '../helpers/shared.js';

const SIMULATED = 30;

function median(values: readonly number[]): number {
  const s = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Largest gap between the two empirical distribution functions. */
function ksDistance(a: readonly number[], b: readonly number[]): number {
  const xs = [...a, ...b].sort((x, y) => x - y);
  const cdf = (sample: readonly number[], x: number): number => sample.filter((v) => v <= x).length / sample.length;
  return Math.max(...xs.map((x) => Math.abs(cdf(a, x) - cdf(b, x))));
}

/** The real cutouts' range of a statistic, widened by `margin` (absolute) on both sides. */
function expectWithinRealRange(simulated: number, real: readonly number[], margin: number): void {
  expect(simulated).toBeGreaterThanOrEqual(Math.min(...real) - margin);
  expect(simulated).toBeLessThanOrEqual(Math.max(...real) + margin);
}

describeIf(existsSync(euclidQ1Dir), `${euclidQ1Dir} not found; set VIS_AGN_SHARED`, 'calibration against the real Q1 cutouts', () => {
  let real: MeasuredCutout[];
  let sims: Omit<MeasuredCutout, 'psf'>[];
  const realOf = (pick: (m: CutoutMeasurement) => number): number[] => real.map((r) => pick(r.measurement));
  const simMedian = (pick: (m: CutoutMeasurement) => number): number => median(sims.map((s) => pick(s.measurement)));

  beforeAll(() => {
    real = cutoutFiles(euclidQ1Dir).map(measureCutout);
    sims = Array.from({ length: SIMULATED }, (_, k) => {
      const p = simulateObject(DEFAULT_RECIPE, 2025, k + 1, k, 100);
      return measurePlanes('sim', { width: 100, height: 100, data: p.image }, { width: 100, height: 100, data: p.rms }, p.psf);
    });
  });

  test('the recorded measurements are what the estimators give on the files today', () => {
    expect(real.map((r) => r.measurement.file)).toEqual(Q1_MEASUREMENTS.map((m) => m.file));
    real.forEach((r, i) => {
      const recorded = Q1_MEASUREMENTS[i]!;
      for (const [key, value] of Object.entries(r.measurement)) {
        if (typeof value === 'number') expect(value).toBeCloseTo(recorded[key as keyof CutoutMeasurement] as number, 9);
      }
      for (const [key, value] of Object.entries(r.measurement.autocorrelation)) expect(value).toBeCloseTo(recorded.autocorrelation[key as 'x1'], 9);
    });
    expect(Q1_NOISE).toEqual(calibrate(real.map((r) => r.measurement)));
  });

  test('the embedded PSF stamps are the VIS_PSF extensions of the files, bit for bit', () => {
    real.forEach((r, i) => {
      expect(path.basename(cutoutFiles(euclidQ1Dir)[i]!)).toBe(Q1_VIS_PSF_STAMPS[i]!.file);
      expect(Array.from(decodeFloat32LE(Q1_VIS_PSF_STAMPS[i]!.base64))).toEqual(Array.from(r.psf.data as Float32Array));
    });
  });

  test('PSF: simulated cutouts carry stamps whose peak pixel holds 17-21% of the flux, as the real ones; Moffat 0.16"-0.20" spans that', () => {
    const realPeaks = realOf((m) => m.psfPeakFraction);
    for (const s of sims) expectWithinRealRange(s.measurement.psfPeakFraction, realPeaks, 1e-6);
    expect(peakFraction(moffatPsf(0.16).data)).toBeGreaterThan(Math.max(...realPeaks));
    expect(peakFraction(moffatPsf(0.2).data)).toBeLessThan(Math.min(...realPeaks));
  });

  test('blank-sky noise: MAD, RMS-map level and their ratio as in the real cutouts', () => {
    expectWithinRealRange(simMedian((m) => m.mad), realOf((m) => m.mad), 0.0002);
    expectWithinRealRange(simMedian((m) => m.rmsLevel), realOf((m) => m.rmsLevel), 0.0002);
    expectWithinRealRange(simMedian((m) => m.madToRms), realOf((m) => m.madToRms), 0.02);
    expectWithinRealRange(simMedian((m) => m.madAll), realOf((m) => m.madAll), 0.0003);
  });

  test('noise autocorrelation at lags 1 and 2 (x, y) and on the diagonal as in the real cutouts', () => {
    expectWithinRealRange(simMedian((m) => m.autocorrelation.x1), realOf((m) => m.autocorrelation.x1), 0.02);
    expectWithinRealRange(simMedian((m) => m.autocorrelation.y1), realOf((m) => m.autocorrelation.y1), 0.02);
    expectWithinRealRange(simMedian((m) => m.autocorrelation.x2), realOf((m) => m.autocorrelation.x2), 0.02);
    expectWithinRealRange(simMedian((m) => m.autocorrelation.y2), realOf((m) => m.autocorrelation.y2), 0.02);
    expectWithinRealRange(simMedian((m) => m.autocorrelation.d11), realOf((m) => m.autocorrelation.d11), 0.015);
  });

  test('RMS map: coverage holes and the shot-noise term as in the real cutouts', () => {
    expectWithinRealRange(simMedian((m) => m.holeFraction), realOf((m) => m.holeFraction), 0.02);
    expectWithinRealRange(simMedian((m) => m.holeFactor), realOf((m) => m.holeFactor), 0.03);
    expectWithinRealRange(simMedian((m) => m.gain), realOf((m) => m.gain), 400);
  });

  test('sources: detection rate, sizes and concentrations within reason of the real cutouts', () => {
    const realSources: SourceMeasure[] = real.flatMap((r) => r.sources);
    const simSources: SourceMeasure[] = sims.flatMap((s) => s.sources);
    const realRate = realSources.length / real.reduce((a, r) => a + r.image.width * r.image.height, 0);
    const simRate = simSources.length / (SIMULATED * 100 * 100);
    expect(simRate / realRate).toBeGreaterThan(0.5);
    expect(simRate / realRate).toBeLessThan(2.5);
    for (const key of ['r50', 'concentration'] as const) {
      const a = realSources.map((s) => s[key]);
      const b = simSources.map((s) => s[key]);
      expect(median(b) / median(a)).toBeGreaterThan(0.75);
      expect(median(b) / median(a)).toBeLessThan(1.33);
      // Two-sample Kolmogorov-Smirnov at the 1% level.
      expect(ksDistance(a, b)).toBeLessThan(1.63 * Math.sqrt((a.length + b.length) / (a.length * b.length)));
    }
  });
});

import { describe, expect, test } from '@jest/globals';

import { estimateFps, fitFps, fpsFeatures, psFluxBaseError, psFluxError, type FpsSample } from '../../src/detect/fps-estimate.js';
import { FPS_FEATURE_COUNT, FPS_FEATURES } from '../../src/model/card.js';
import { seededRandom } from '../helpers/random.js';

/**
 * Sources whose generative ratio is biased as the regeneration makes it: a share `loss(m)` of the
 * point source taken for host, growing with magnitude, plus noise; a point-dominated profile has a
 * SPREAD_MODEL near 0, an extended one about 0.02.
 */
function simulated(n: number, seed: number, loss: (magnitude: number) => number, errorScale: (magnitude: number) => number = () => 1): FpsSample[] {
  const next = seededRandom(seed);
  const grid = [0, 0, 0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1];
  return Array.from({ length: n }, () => {
    const trueFps = grid[Math.floor(next() * grid.length)]!;
    const magnitude = 20 + 5 * next();
    const gaussian = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    const truePsFlux = trueFps * 10 ** (-0.4 * (magnitude - 24.6));
    const psFluxBaseError = 0.5 + next();
    return {
      trueFps,
      magnitude,
      generativeFps: trueFps * (1 - loss(magnitude)) + 0.03 * gaussian(),
      spread: 0.02 * (1 - trueFps) + 0.002 * gaussian(),
      truePsFlux,
      psFluxBaseError,
      psFlux: truePsFlux + errorScale(magnitude) * psFluxBaseError * gaussian(),
    };
  });
}

const rmse = (samples: readonly FpsSample[], estimate: (s: FpsSample) => number) =>
  Math.sqrt(samples.reduce((sum, s) => sum + (estimate(s) - s.trueFps) ** 2, 0) / samples.length);

describe('the f_PS regression', () => {
  test('has as many features as the card format declares', () => {
    expect(fpsFeatures(0.3, 0.01)).toHaveLength(FPS_FEATURE_COUNT);
  });

  test('undoes a magnitude-dependent bias of the generative ratio on sources it was not fitted on', () => {
    const loss = (m: number) => 0.1 + 0.1 * (m - 20);
    const fit = fitFps(simulated(20000, 1, loss), 2000);
    expect(fit.calibration.features).toBe(FPS_FEATURES);
    expect(fit.calibration.magnitudes).toHaveLength(10);
    expect(fit.binSources.reduce((a, b) => a + b, 0)).toBe(20000);
    const fresh = simulated(4000, 2, loss);
    const regressed = rmse(fresh, (s) => estimateFps(fit.calibration, s.generativeFps, s.spread, s.magnitude).fPs);
    const generative = rmse(fresh, (s) => s.generativeFps);
    expect(generative).toBeGreaterThan(0.15);
    expect(regressed).toBeLessThan(generative / 3);
    // Its errors say how far off it is.
    const errors = fresh.map((s) => estimateFps(fit.calibration, s.generativeFps, s.spread, s.magnitude).fPsErr);
    const meanError = Math.sqrt(errors.reduce((a, e) => a + e * e, 0) / errors.length);
    expect(meanError).toBeGreaterThan(regressed / 2);
    expect(meanError).toBeLessThan(regressed * 2);
  });

  test('scales ps_flux_err so that the pulls of sources it was not fitted on have unit width at every magnitude', () => {
    // The base error is too small by a factor growing with magnitude, as the regenerations' spread is for bright AGN.
    const errorScale = (m: number) => 1 + 0.3 * (m - 20);
    const fit = fitFps(simulated(20000, 3, () => 0.1, errorScale), 2000);
    const scales = fit.calibration.ps_flux_err_scale;
    expect(scales).toHaveLength(fit.calibration.magnitudes.length);
    fit.calibration.magnitudes.forEach((m, b) => expect(scales[b]! / errorScale(m)).toBeCloseTo(1, 1));
    for (const [lo, hi] of [[20, 21], [22, 23], [24, 25]] as const) {
      const fresh = simulated(4000, 4, () => 0.1, errorScale).filter((s) => s.magnitude >= lo && s.magnitude < hi);
      const pulls = fresh.map((s) => (s.psFlux - s.truePsFlux) / psFluxError(fit.calibration, { psFluxErr: s.psFluxBaseError, residualScale: 1 }, s.magnitude));
      const rms = Math.sqrt(pulls.reduce((a, p) => a + p * p, 0) / pulls.length);
      expect(rms).toBeGreaterThan(0.9);
      expect(rms).toBeLessThan(1.1);
    }
  });

  test("ps_flux_err: the regenerations' spread widened by a residual scale above 1 only, then the card's factor; the spread alone without one", () => {
    const calibration = { features: FPS_FEATURES, magnitudes: [21, 23], mean: [new Array(8).fill(0), new Array(8).fill(0)], variance: [new Array(8).fill(0), new Array(8).fill(0)], ps_flux_err_scale: [1.5, 2.5] };
    expect(psFluxBaseError({ psFluxErr: 2, residualScale: 0.6 })).toBe(2);
    expect(psFluxBaseError({ psFluxErr: 2, residualScale: 1.8 })).toBeCloseTo(3.6, 12);
    expect(psFluxError(calibration, { psFluxErr: 2, residualScale: 1.8 }, 22)).toBeCloseTo(3.6 * 2, 12);
    expect(psFluxError(calibration, { psFluxErr: 2, residualScale: 0.6 }, 20)).toBeCloseTo(3, 12);
    const { ps_flux_err_scale: _, ...older } = calibration;
    expect(psFluxError(older, { psFluxErr: 2, residualScale: 1.8 }, 22)).toBe(2);
    expect(psFluxError(undefined, { psFluxErr: 2, residualScale: 1.8 }, 22)).toBe(2);
  });

  test('interpolates between magnitude bins and holds at the ends; stays within 0-1', () => {
    const calibration = { features: FPS_FEATURES, magnitudes: [21, 23], mean: [[0.2, 0, 0, 0, 0, 0, 0, 0], [0.6, 0, 0, 0, 0, 0, 0, 0]], variance: [[0.01, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]] };
    expect(estimateFps(calibration, 0.5, 0.01, 22).fPs).toBeCloseTo(0.4, 12);
    expect(estimateFps(calibration, 0.5, 0.01, 19).fPs).toBeCloseTo(0.2, 12);
    expect(estimateFps(calibration, 0.5, 0.01, 26).fPs).toBeCloseTo(0.6, 12);
    expect(estimateFps(calibration, 0.5, 0.01, 21).fPsErr).toBeCloseTo(0.1, 12);
    // A variance fitted at 0 (or below) still leaves the floor.
    expect(estimateFps(calibration, 0.5, 0.01, 23).fPsErr).toBeCloseTo(0.01, 12);
    const beyond = { ...calibration, mean: [[1.4, 0, 0, 0, 0, 0, 0, 0], [-0.3, 0, 0, 0, 0, 0, 0, 0]] };
    expect(estimateFps(beyond, 0.5, 0.01, 20).fPs).toBe(1);
    expect(estimateFps(beyond, 0.5, 0.01, 24).fPs).toBe(0);
  });

  test('refuses bins too small to fit', () => {
    expect(() => fitFps(simulated(500, 3, () => 0.2), 50)).toThrow(/at least 100 sources/);
    expect(() => fitFps(simulated(500, 3, () => 0.2), 1000)).toThrow(/at least 1000 sources/);
  });
});

import { describe, expect, test } from '@jest/globals';

import { upperTailPValue } from '../../src/detect/core-scores.js';
import { calibrate, classify, DEFAULT_THRESHOLDS, pointSourcePlusHostFlux, selectionZ } from '../../src/detect/detect.js';
import { kronFlux } from '../../src/detect/prepare.js';
import { subtractPointSource } from '../../src/detect/joint-fit.js';
import { q1Psfs } from '../../src/ground/psf.js';
import { gaussianisedZ } from '../../src/detect/significance.js';
import type { PreparedSource } from '../../src/detect/prepare.js';
import { FPS_FEATURES } from '../../src/model/card.js';

describe('classify', () => {
  const t = DEFAULT_THRESHOLDS;
  test.each([
    [null, 0.3, 'none', false],
    [2.9, 0.3, 'none', false],
    [3.1, 0.3, 'agn', true],
    [3.1, null, 'agn', true],
    [8, 0.6, 'qso', true],
    [8, 0.95, 'point_like', false],
  ] as const)('agn_z %p, f_ps %p -> %s', (z, fps, cls, candidate) => {
    expect(classify(z, fps, t)).toEqual({ candidateClass: cls, isCandidate: candidate });
  });

  test('thresholds are the ones given', () => {
    expect(classify(2.5, 0.3, { ...t, z: 2 }).isCandidate).toBe(true);
    expect(classify(5, 0.3, { ...t, qsoFps: 0.25 }).candidateClass).toBe('qso');
  });
});

describe('calibrate', () => {
  test('maps z through the calibration and divides the PSF flux by the total flux', () => {
    const raw = { reconError: 0.1, chi2: 30, dof: 25, psFlux: 2, psFluxErr: 0.5, z: 4, matchedZ: 7, studentisedZ: 5, residualScale: 1.4, matchedZPerFlux: 2 };
    const prepared = { totalFlux: 10, observedCore: new Float32Array(25) } as PreparedSource;
    const scores = calibrate(raw, prepared, { offset: 1, scale: 1.5 }, new Float32Array(16 * 25));
    const gaussian = gaussianisedZ(4, 16);
    expect(gaussian).toBeLessThan(4);
    expect(scores.agnZ).toBeCloseTo((gaussian - 1) / 1.5, 12);
    expect(scores.agnPValue).toBeCloseTo(upperTailPValue(scores.agnZ), 12);
    expect(scores.fPs).toBeCloseTo(0.2, 12);
    expect(scores.fPsErr).toBeCloseTo(0.05, 12);
    expect(calibrate(raw, { totalFlux: -1, observedCore: new Float32Array(25) } as PreparedSource, { offset: 0, scale: 1 }, new Float32Array(50)).fPs).toBeNull();
    // A total below ps_flux_err (0.5): the ratio is undefined, not a number to publish.
    const faint = calibrate(raw, { totalFlux: 0.4, observedCore: new Float32Array(25) } as PreparedSource, { offset: 0, scale: 1 }, new Float32Array(50));
    expect([faint.fPs, faint.fPsErr]).toEqual([null, null]);
  });

  test('calibrates the matched filter, studentised or not, instead where the card was fitted on it', () => {
    const raw = { reconError: 0.1, chi2: 30, dof: 25, psFlux: 2, psFluxErr: 0.5, z: 4, matchedZ: 7, studentisedZ: 5, residualScale: 1.4, matchedZPerFlux: 2 };
    const prepared = { totalFlux: 10, observedCore: new Float32Array(25) } as PreparedSource;
    const matched = calibrate(raw, prepared, { offset: 1, scale: 1.5, generative_statistic: 'matched_filter' }, new Float32Array(16 * 25));
    expect(matched.agnZ).toBeCloseTo((7 - 1) / 1.5, 12);
    const studentised = calibrate(raw, prepared, { offset: 1, scale: 1.5, generative_statistic: 'studentised_matched_filter' }, new Float32Array(16 * 25));
    expect(studentised.agnZ).toBeCloseTo((5 - 1) / 1.5, 12);
    const projection = calibrate(raw, prepared, { offset: 1, scale: 1.5, generative_statistic: 'projection' }, new Float32Array(16 * 25));
    expect(projection.agnZ).toBeCloseTo((gaussianisedZ(4, 16) - 1) / 1.5, 12);
    // A null that allows a nucleus of 5% of the light (flux 10) takes 0.05 x 10 x matchedZPerFlux (2) off the matched filter, before studentising.
    const allowing = calibrate(raw, prepared, { offset: 1, scale: 1.5, generative_statistic: 'studentised_matched_filter', nucleus_allowance: 0.05 }, new Float32Array(16 * 25));
    expect(allowing.agnZ).toBeCloseTo((6 / 1.4 - 1) / 1.5, 12);
    expect(calibrate(raw, prepared, { offset: 1, scale: 1.5, generative_statistic: 'matched_filter', nucleus_allowance: 0.05 }, new Float32Array(16 * 25)).agnZ).toBeCloseTo((6 - 1) / 1.5, 12);
    // ps_flux, f_ps and their errors are the projection's whichever statistic the significance takes.
    expect([matched.psFlux, matched.fPs, matched.fPsErr]).toEqual([projection.psFlux, projection.fPs, projection.fPsErr]);
  });

  test('takes the map of the source\'s magnitude (the I_E of its total flux) where the card calibrates per magnitude', () => {
    const raw = { reconError: 0.1, chi2: 30, dof: 25, psFlux: 2, psFluxErr: 0.5, z: 4, matchedZ: 7, studentisedZ: 5, residualScale: 1.4, matchedZPerFlux: 2 };
    // Bins at I_E 20 and 24: a bright source's z is divided by 2, a faint one's by 1.
    const calibration = { offset: 0, scale: 3, by_magnitude: { magnitudes: [20, 24], maps: [{ offset: 0, scale: 2 }, { offset: 0, scale: 1 }] } };
    const source = (mag: number) => ({ totalFlux: 10 ** (-0.4 * (mag - 24.6)), observedCore: new Float32Array(25) }) as PreparedSource;
    const gaussian = gaussianisedZ(4, 16);
    const agnZ = (prepared: PreparedSource) => calibrate(raw, prepared, calibration, new Float32Array(16 * 25)).agnZ;
    expect(agnZ(source(19))).toBeCloseTo(gaussian / 2, 12);
    expect(agnZ(source(25))).toBeCloseTo(gaussian, 12);
    expect(agnZ(source(22))).toBeCloseTo(0.5 * (gaussian / 2) + 0.5 * gaussian, 12);
    // No magnitude without a positive total flux: the map for all.
    expect(agnZ({ totalFlux: 0, observedCore: new Float32Array(25) } as PreparedSource)).toBeCloseTo(gaussian / 3, 12);
  });

  test('refers -spread_model to its own map (morph_z) and the larger of the two calibrated tests to a third (combined_z), which selection takes', () => {
    const raw = { reconError: 0.1, chi2: 30, dof: 25, psFlux: 2, psFluxErr: 0.5, z: 1, matchedZ: 7, studentisedZ: 5, residualScale: 1.4, matchedZPerFlux: 2 };
    const prepared = { totalFlux: 10, observedCore: new Float32Array(25) } as PreparedSource;
    const calibration = { offset: 0, scale: 1, morphology: { offset: -0.01, scale: 0.004 }, combined: { offset: 0.5, scale: 0.8 } };
    // A point-like core (spread 0.002) the regenerations explain: the morphology test carries it.
    const pointLike = calibrate(raw, prepared, calibration, new Float32Array(16 * 25), 0.002);
    expect(pointLike.morphZ).toBeCloseTo((-0.002 + 0.01) / 0.004, 12);
    expect(pointLike.combinedZ).toBeCloseTo((pointLike.morphZ - 0.5) / 0.8, 12);
    expect(selectionZ(pointLike)).toBe(pointLike.combinedZ);
    // An extended core: the generative test is the larger.
    const extended = calibrate(raw, prepared, calibration, new Float32Array(16 * 25), 0.03);
    expect(extended.morphZ).toBeLessThan(extended.agnZ);
    expect(extended.combinedZ).toBeCloseTo((extended.agnZ - 0.5) / 0.8, 12);
    // A card calibrated before morph_z existed: agn_z alone, as before.
    const generative = calibrate(raw, prepared, { offset: 0, scale: 1 }, new Float32Array(16 * 25), 0.002);
    expect([generative.morphZ, generative.combinedZ]).toEqual([Number.NaN, Number.NaN]);
    expect(selectionZ(generative)).toBe(generative.agnZ);
    // No SPREAD_MODEL (its sums vanished): no morph_z, and no combined_z that would be agn_z under another map.
    expect(calibrate(raw, prepared, calibration, new Float32Array(16 * 25), Number.NaN).combinedZ).toBeNaN();
  });

  test('leaves the generative test out of combined_z from the card\'s faint limit on', () => {
    const raw = { reconError: 0.1, chi2: 30, dof: 25, psFlux: 2, psFluxErr: 0.5, z: 6, matchedZ: 7, studentisedZ: 5, residualScale: 1.4, matchedZPerFlux: 2 };
    const calibration = { offset: 0, scale: 1, morphology: { offset: -0.01, scale: 0.004 }, combined: { offset: 0, scale: 1 }, generative_faint_limit: 23 };
    const at = (mag: number) => calibrate(raw, { totalFlux: 10 ** (-0.4 * (mag - 24.6)), observedCore: new Float32Array(25) } as PreparedSource, calibration, new Float32Array(16 * 25), 0.03);
    expect(at(22.9).combinedZ).toBeCloseTo(at(22.9).agnZ, 12);
    expect(at(23.1).combinedZ).toBeCloseTo(at(23.1).morphZ, 12);
    expect(at(23.1).morphZ).toBeLessThan(0);
    expect(at(23.1).agnZ).toBeGreaterThan(3);
  });
});

describe("the card's f_PS regression", () => {
  const raw = { reconError: 0.1, chi2: 30, dof: 25, psFlux: 2, psFluxErr: 0.5, z: 6, matchedZ: 7, studentisedZ: 5, residualScale: 1.4, matchedZPerFlux: 2 };
  const prepared = { totalFlux: 10, observedCore: new Float32Array(25) } as PreparedSource;
  // f_PS = 0.1 + 2 g at every magnitude; error sqrt(0.01) = 0.1.
  const f_ps = { features: FPS_FEATURES, magnitudes: [22], mean: [[0.1, 2, 0, 0, 0, 0, 0, 0]], variance: [[0.01, 0, 0, 0, 0, 0, 0, 0]] };

  test('gives f_ps and its error, and keeps the generative ratio beside them', () => {
    const scores = calibrate(raw, prepared, { offset: 0, scale: 1, f_ps }, new Float32Array(16 * 25), 0.01);
    expect(scores.fPsGenerative).toBeCloseTo(0.2, 12);
    expect(scores.fPs).toBeCloseTo(0.5, 12);
    expect(scores.fPsErr).toBeCloseTo(0.1, 12);
  });

  test("reports ps_flux_err through the card's factor, widened by the residual scale, and keeps the ratio's own rule for a measurable f_ps", () => {
    const scaled = calibrate(raw, prepared, { offset: 0, scale: 1, f_ps: { ...f_ps, ps_flux_err_scale: [1.5] } }, new Float32Array(16 * 25), 0.01);
    expect(scaled.psFluxErr).toBeCloseTo(0.5 * 1.4 * 1.5, 12);
    expect(scaled.fPsGenerative).toBeCloseTo(0.2, 12);
    // Without a factor in the card: the regenerations' spread, as cards fitted before it report.
    expect(calibrate(raw, prepared, { offset: 0, scale: 1, f_ps }, new Float32Array(16 * 25), 0.01).psFluxErr).toBe(0.5);
  });

  test('leaves the generative ratio as f_ps without a regression or without a SPREAD_MODEL', () => {
    for (const [calibration, spread] of [[{ offset: 0, scale: 1 }, 0.01], [{ offset: 0, scale: 1, f_ps }, Number.NaN]] as const) {
      const scores = calibrate(raw, prepared, calibration, new Float32Array(16 * 25), spread);
      expect(scores.fPs).toBeCloseTo(0.2, 12);
      expect(scores.fPsErr).toBeCloseTo(0.05, 12);
    }
  });
});

describe('the total flux f_PS divides by', () => {
  const side = 41;
  const psf = q1Psfs()[0]!;
  /** An exponential host of `hostFlux` (scale `scale` px) and a point source of `psFlux`, noiseless. */
  function source(hostFlux: number, psFlux: number, scale = 4): PreparedSource {
    const c = Math.floor(side / 2);
    const host = Float32Array.from({ length: side * side }, (_, i) => Math.exp(-Math.hypot((i % side) - c, Math.floor(i / side) - c) / scale));
    const norm = host.reduce((a, v) => a + v, 0);
    const crop = subtractPointSource(host.map((v) => (hostFlux * v) / norm), side, psf, -psFlux);
    return { crop, totalFlux: kronFlux(crop, side) } as PreparedSource;
  }

  test('holds all of a point source, where the Kron aperture loses its wings', () => {
    const star = source(0, 100);
    expect(star.totalFlux).toBeLessThan(97);
    expect(pointSourcePlusHostFlux(star, side, psf, 100)).toBeCloseTo(100, 3);
  });

  test('measures the host with its own aperture, not one the point source shrank', () => {
    const both = source(100, 100);
    const hostAlone = kronFlux(source(100, 0).crop, side);
    expect(pointSourcePlusHostFlux(both, side, psf, 100)).toBeCloseTo(100 + hostAlone, 3);
    expect(both.totalFlux).toBeLessThan(100 + hostAlone - 3);
  });

  test('never less than the point source itself, whatever the noise leaves of the host', () => {
    const star = source(0, 100);
    // A point source fitted at more than its flux leaves a negative host: the total is the fit alone.
    expect(kronFlux(subtractPointSource(star.crop, side, psf, 130), side)).toBeLessThan(0);
    expect(pointSourcePlusHostFlux(star, side, psf, 130)).toBe(130);
  });

  test('is the Kron flux where no point source was fitted', () => {
    const galaxy = source(100, 0);
    expect(pointSourcePlusHostFlux(galaxy, side, psf, 0)).toBe(galaxy.totalFlux);
    expect(pointSourcePlusHostFlux(galaxy, side, psf, -3)).toBe(galaxy.totalFlux);
  });
});

import { describe, expect, test } from '@jest/globals';

import { fitScoreCalibration, fitSignificance, fitSignificanceByMagnitude, type GalaxyScores, type GalaxyZ } from '../../src/detect/calibrate.js';
import { applySignificanceCalibration, combinedRawZ, morphologyRawZ } from '../../src/detect/detect.js';
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

  test('is monotone and continues beyond its knots with the slope of the last sigma of knots on each side', () => {
    const fit = fitSignificance(heavyTailed(2000, 3));
    const grid = Array.from({ length: 400 }, (_, i) => -20 + i * 0.1).map((z) => applySignificanceCalibration(z, fit));
    for (let i = 1; i < grid.length; i++) expect(grid[i]!).toBeGreaterThan(grid[i - 1]!);
    const { from, to, tail_scales } = fit.knots!;
    const n = from.length;
    expect(tail_scales!.upper).toBeCloseTo((from[n - 1]! - from[n - 5]!) / (to[n - 1]! - to[n - 5]!), 12);
    expect(tail_scales!.lower).toBeCloseTo((from[4]! - from[0]!) / (to[4]! - to[0]!), 12);
    // A heavy tail's knots spread out: beyond them it keeps that spacing rather than the centre's.
    expect(tail_scales!.upper).toBeGreaterThan(1.2 * fit.scale);
    expect(applySignificanceCalibration(from[n - 1]! + 2 * tail_scales!.upper, fit) - applySignificanceCalibration(from[n - 1]!, fit)).toBeCloseTo(2, 10);
    expect(applySignificanceCalibration(from[0]! - tail_scales!.lower, fit) - applySignificanceCalibration(from[0]!, fit)).toBeCloseTo(-1, 10);
    // A card fitted before the tail slopes continues with 1 / scale, as it was calibrated.
    const older = { offset: fit.offset, scale: fit.scale, knots: { from, to } };
    expect(applySignificanceCalibration(from[n - 1]! + 2 * fit.scale, older) - applySignificanceCalibration(from[n - 1]!, older)).toBeCloseTo(2, 10);
    expect(applySignificanceCalibration(5, { offset: 1, scale: 2 })).toBe(2);
  });

  test('needs enough galaxies', () => {
    expect(() => fitSignificance([1, 2, 3])).toThrow(RangeError);
  });
});

/** Galaxies at I_E 19-25 whose raw z is wider and shifted the brighter they are (as compact cores show up at the bright end). */
function galaxiesByMagnitude(n: number, seed: number): GalaxyZ[] {
  const random = seededRandom(seed);
  const z = heavyTailed(n, seed + 100);
  return z.map((value, i) => {
    const magnitude = 19 + 6 * random();
    const width = 1 + (25 - magnitude) / 2;
    return { z: 0.5 * (25 - magnitude) + width * value, magnitude: i % 50 === 0 ? Number.NaN : magnitude };
  });
}

describe('the significance calibration per magnitude', () => {
  const aboveThree = (galaxies: readonly GalaxyZ[], calibrate: (g: GalaxyZ) => number, lo: number, hi: number) => {
    const inBin = galaxies.filter((g) => g.magnitude >= lo && g.magnitude < hi);
    return inBin.filter((g) => calibrate(g) > 3).length / inBin.length;
  };

  test('gives each magnitude the same tail on fresh galaxies, where one map for all does not', () => {
    const fit = fitSignificanceByMagnitude(galaxiesByMagnitude(40000, 5), 4000);
    expect(fit.by_magnitude!.maps).toHaveLength(9);
    expect(fit.binGalaxies.reduce((a, b) => a + b, 0)).toBe(40000 - 800);
    const fresh = galaxiesByMagnitude(200000, 6);
    for (const [lo, hi] of [[19.5, 20.5], [22, 23], [24, 24.5]] as const) {
      const perMagnitude = aboveThree(fresh, (g) => applySignificanceCalibration(g.z, fit, g.magnitude), lo, hi);
      expect(perMagnitude).toBeGreaterThan(0.0002);
      expect(perMagnitude).toBeLessThan(0.006);
    }
    const global = (g: GalaxyZ) => applySignificanceCalibration(g.z, fit);
    // One map for all: the bright, wide bins hold nearly all the galaxies above 3, the faint ones none.
    const bright = aboveThree(fresh, global, 19.5, 20.5);
    expect(bright).toBeGreaterThan(0.003);
    expect(aboveThree(fresh, global, 24, 24.5)).toBeLessThan(bright / 10);
  });

  test('is monotone in z between bins, held beyond the ends, and the map for all without a magnitude', () => {
    const fit = fitSignificanceByMagnitude(galaxiesByMagnitude(8000, 7), 2000);
    const { magnitudes, maps } = fit.by_magnitude!;
    const between = (magnitudes[1]! + magnitudes[2]!) / 2;
    const grid = Array.from({ length: 300 }, (_, i) => -15 + i * 0.1);
    const curve = grid.map((z) => applySignificanceCalibration(z, fit, between));
    for (let i = 1; i < curve.length; i++) expect(curve[i]!).toBeGreaterThan(curve[i - 1]!);
    const atBin = (b: number, z: number) => applySignificanceCalibration(z, { ...maps[b]! });
    expect(applySignificanceCalibration(4, fit, between)).toBeCloseTo((atBin(1, 4) + atBin(2, 4)) / 2, 10);
    expect(applySignificanceCalibration(4, fit, 10)).toBe(atBin(0, 4));
    expect(applySignificanceCalibration(4, fit, 40)).toBe(atBin(maps.length - 1, 4));
    expect(applySignificanceCalibration(4, fit, Number.NaN)).toBe(applySignificanceCalibration(4, { offset: fit.offset, scale: fit.scale, knots: fit.knots! }));
  });

  test('fits one map for all when there are too few galaxies for two bins, or when asked for none', () => {
    expect(fitSignificanceByMagnitude(galaxiesByMagnitude(3000, 8), 2000).by_magnitude).toBeUndefined();
    expect(fitSignificanceByMagnitude(galaxiesByMagnitude(3000, 8), 0).by_magnitude).toBeUndefined();
  });
});

describe('the three calibrations (agn_z, morph_z, combined_z)', () => {
  /** Galaxies whose generative z and SPREAD_MODEL are independent, the spread narrower and more extended when brighter. */
  function galaxies(n: number, seed: number): GalaxyScores[] {
    const random = seededRandom(seed);
    const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const zs = heavyTailed(n, seed + 100);
    return zs.map((z) => {
      const magnitude = 20 + 5 * random();
      return { z, magnitude, spread: 0.004 + 0.0015 * (25 - magnitude) + (0.001 + 0.0006 * (magnitude - 20)) * normal() };
    });
  }

  test('each holds N(0, 1) tails on fresh galaxies, where the larger of two calibrated tests alone would double the false positives', () => {
    const fit = fitScoreCalibration(galaxies(20000, 5), 4000);
    const fresh = galaxies(200000, 6);
    const agnZ = (g: GalaxyScores) => applySignificanceCalibration(g.z, fit.generative, g.magnitude);
    const morphZ = (g: GalaxyScores) => applySignificanceCalibration(morphologyRawZ(g.spread), fit.morphology, g.magnitude);
    const larger = (g: GalaxyScores) => combinedRawZ(agnZ(g), morphZ(g));
    const combinedZ = (g: GalaxyScores) => applySignificanceCalibration(larger(g), fit.combined, g.magnitude);
    const above = (score: (g: GalaxyScores) => number, cut: number) => fresh.filter((g) => score(g) > cut).length / fresh.length;
    for (const score of [agnZ, morphZ, combinedZ]) {
      expect(above(score, 2)).toBeGreaterThan(0.018);
      expect(above(score, 2)).toBeLessThan(0.028);
    }
    expect(above(larger, 2)).toBeGreaterThan(0.04);
    // The morphology map is per magnitude: the bright galaxies' wider spread is not taken for a point source at the faint end.
    const faint = fresh.filter((g) => g.magnitude > 24);
    expect(faint.filter((g) => morphZ(g) > 2).length / faint.length).toBeLessThan(0.035);
  });

  test('from the generative faint limit on, combined_z ranks as morph_z alone and still holds N(0, 1) tails', () => {
    const limit = 23;
    const fit = fitScoreCalibration(galaxies(20000, 8), 4000, limit);
    const fresh = galaxies(100000, 9);
    const agnZ = (g: GalaxyScores) => applySignificanceCalibration(g.z, fit.generative, g.magnitude);
    const morphZ = (g: GalaxyScores) => applySignificanceCalibration(morphologyRawZ(g.spread), fit.morphology, g.magnitude);
    const combinedZ = (g: GalaxyScores) => applySignificanceCalibration(combinedRawZ(agnZ(g), morphZ(g), g.magnitude, limit), fit.combined, g.magnitude);
    for (const [lo, hi] of [[20, 23], [23, 25]] as const) {
      const bin = fresh.filter((g) => g.magnitude >= lo && g.magnitude < hi);
      const above = bin.filter((g) => combinedZ(g) > 2).length / bin.length;
      expect(above).toBeGreaterThan(0.017);
      expect(above).toBeLessThan(0.029);
    }
    // A faint source that only the generative test finds is not selected; a bright one is.
    const pointOnlyToTheGenerator = (magnitude: number) => ({ z: 30, magnitude, spread: 0.004 + 0.0015 * (25 - magnitude) });
    expect(combinedZ(pointOnlyToTheGenerator(24))).toBeLessThan(2);
    expect(combinedZ(pointOnlyToTheGenerator(21))).toBeGreaterThan(3);
    expect(combinedRawZ(5, 1, 23, limit)).toBe(1);
    expect(combinedRawZ(5, 1, 22.99, limit)).toBe(5);
    expect(combinedRawZ(5, 1, Number.NaN, limit)).toBe(5);
  });

  test('leaves galaxies without a SPREAD_MODEL out of the morphology and combined maps only', () => {
    const some = galaxies(3000, 7).map((g, i) => (i % 3 === 0 ? { ...g, spread: Number.NaN } : g));
    const fit = fitScoreCalibration(some, 0);
    expect(fit.generative.galaxies).toBe(3000);
    expect(fit.morphology.galaxies).toBe(2000);
    expect(fit.combined.galaxies).toBe(2000);
  });
});

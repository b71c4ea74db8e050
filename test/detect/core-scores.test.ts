import { Rng, deriveKey } from '../../src/random.js';
import { cholesky, scoreCore, upperTailPValue, whiten } from '../../src/detect/core-scores.js';

describe('linear algebra', () => {
  it('whitening with the Cholesky factor gives b^T C^-1 b', () => {
    // C = [[4, 2], [2, 3]], C^-1 = [[3, -2], [-2, 4]] / 8.
    const l = cholesky(Float64Array.of(4, 2, 2, 3), 2);
    const y = whiten(l, 2, [1, 2]);
    expect(y[0]! ** 2 + y[1]! ** 2).toBeCloseTo((3 * 1 - 2 * 2 * 1 * 2 + 4 * 4) / 8, 12);
    expect(() => cholesky(Float64Array.of(1, 2, 2, 1), 2)).toThrow(RangeError);
  });
});

describe('upperTailPValue', () => {
  it('matches the standard normal tail', () => {
    expect(upperTailPValue(0)).toBeCloseTo(0.5, 7);
    expect(upperTailPValue(1.6448536)).toBeCloseTo(0.05, 6);
    expect(upperTailPValue(3)).toBeCloseTo(0.0013499, 6);
    expect(upperTailPValue(-3)).toBeCloseTo(1 - 0.0013499, 6);
  });
});

describe('scoreCore', () => {
  const pixels = 9;
  const weights = Float64Array.from({ length: pixels }, (_, i) => (i === 4 ? 0.2 : 0.05));
  const sigma = new Float64Array(pixels).fill(1e-6);
  const profile = Float64Array.from({ length: pixels }, (_, i) => 10 + i);
  const rng = new Rng(deriveKey(3, 1));
  /** Correlated noise: each pixel shares half its variance with its neighbour. */
  const noise = () => {
    const white = Array.from({ length: pixels + 1 }, () => rng.normal());
    return Float64Array.from({ length: pixels }, (_, i) => 0.7 * white[i]! + 0.7 * white[i + 1]!);
  };
  const draw = (samples: number) => {
    const out = new Float64Array(samples * pixels);
    for (let s = 0; s < samples; s++) out.set(noise().map((v, i) => profile[i]! + v), s * pixels);
    return out;
  };

  it('recovers an injected point source without bias and with the stated uncertainty', () => {
    const amplitude = 5;
    const trials = 300;
    const fluxes: number[] = [];
    const pulls: number[] = [];
    for (let t = 0; t < trials; t++) {
      const observed = noise().map((v, i) => profile[i]! + v + amplitude * weights[i]!);
      const scores = scoreCore(observed, draw(400), 400, weights, sigma);
      fluxes.push(scores.psFlux);
      pulls.push((scores.psFlux - amplitude) / scores.psFluxErr);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
    expect(Math.abs(mean(pulls))).toBeLessThan(0.2);
    expect(sd(pulls)).toBeGreaterThan(0.85);
    expect(sd(pulls)).toBeLessThan(1.15);
    expect(Math.abs(mean(fluxes) - amplitude)).toBeLessThan(0.5);
  });

  it('gives chi2 near its degrees of freedom and z near 0 for a core drawn like the samples', () => {
    const chi2: number[] = [];
    const z: number[] = [];
    for (let t = 0; t < 200; t++) {
      const scores = scoreCore(noise().map((v, i) => profile[i]! + v), draw(400), 400, weights, sigma);
      chi2.push(scores.chi2);
      z.push(scores.z);
      expect(scores.dof).toBe(pixels);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(chi2)).toBeGreaterThan(0.8 * pixels);
    expect(mean(chi2)).toBeLessThan(1.25 * pixels);
    expect(Math.abs(mean(z))).toBeLessThan(0.2);
  });

  it('finds with the matched filter a PSF-shaped excess that a level the regenerations disagree on hides from z', () => {
    // The regenerations agree on the core's shape (a broad profile) but not on its level.
    const broad = Float64Array.from({ length: pixels }, () => 1);
    const drawLevels = (samples: number) => {
      const out = new Float64Array(samples * pixels);
      for (let s = 0; s < samples; s++) {
        const level = 3 * rng.normal();
        out.set(noise().map((v, i) => profile[i]! + level * broad[i]! + v), s * pixels);
      }
      return out;
    };
    const excess = (amplitude: number) => {
      const level = 3 * rng.normal();
      return noise().map((v, i) => profile[i]! + level * broad[i]! + v + amplitude * weights[i]!);
    };
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const withSource = Array.from({ length: 100 }, () => scoreCore(excess(8), drawLevels(400), 400, weights, sigma));
    const without = Array.from({ length: 100 }, () => scoreCore(excess(0), drawLevels(400), 400, weights, sigma));
    expect(mean(withSource.map((s) => s.z))).toBeLessThan(1.5);
    expect(mean(withSource.map((s) => s.matchedZ))).toBeGreaterThan(3 * mean(withSource.map((s) => s.z)));
    expect(Math.abs(mean(without.map((s) => s.matchedZ)))).toBeLessThan(0.3);
  });

  it('studentises the matched filter: a core the regenerations misjudge in every direction is scaled down, a PSF-shaped excess is not', () => {
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
    // The regenerations are three times too narrow for this core: its residual is large along the PSF and off it.
    const misjudged = Array.from({ length: 200 }, () => scoreCore(noise().map((v, i) => profile[i]! + 3 * v), draw(400), 400, weights, sigma));
    expect(sd(misjudged.map((s) => s.matchedZ))).toBeGreaterThan(2.5);
    expect(sd(misjudged.map((s) => s.studentisedZ))).toBeLessThan(1.5);
    // The scale it divides by is reported: about 3 for these cores.
    expect(mean(misjudged.map((s) => s.residualScale))).toBeGreaterThan(2.5);
    misjudged.forEach((s) => expect(s.studentisedZ * s.residualScale).toBeCloseTo(s.matchedZ, 10));
    // Regenerations as wide as the core's noise, with a point source on top: the residual off the PSF is
    // only noise, so studentising leaves the significance about where it was.
    const pointSource = Array.from({ length: 200 }, () => scoreCore(noise().map((v, i) => profile[i]! + v + 40 * weights[i]!), draw(400), 400, weights, sigma));
    const ratio = mean(pointSource.map((s) => s.studentisedZ)) / mean(pointSource.map((s) => s.matchedZ));
    expect(mean(pointSource.map((s) => s.matchedZ))).toBeGreaterThan(5);
    expect(ratio).toBeGreaterThan(0.85);
    expect(ratio).toBeLessThan(1.15);
    // A bright point source whose template sits a pixel off leaves a residual off the PSF that grows with
    // its flux: the scale t divides by is bounded, so it keeps a third of the matched filter.
    const shifted = Float64Array.from({ length: pixels }, (_, i) => (i === 5 ? 0.2 : 0.05));
    const misplaced = scoreCore(noise().map((v, i) => profile[i]! + v + 400 * shifted[i]!), draw(400), 400, weights, sigma);
    expect(misplaced.chi2 - misplaced.matchedZ ** 2).toBeGreaterThan(9 * (pixels - 1));
    expect(misplaced.studentisedZ).toBeCloseTo(misplaced.matchedZ / 3, 10);
    expect(misplaced.residualScale).toBe(3);
  });

  it('states what a point source of unit flux adds to the matched filter', () => {
    const samples = draw(64);
    const core = Float64Array.from(profile);
    const before = scoreCore(core, samples, 64, weights, sigma);
    const after = scoreCore(core.map((v, i) => v + 3 * weights[i]!), samples, 64, weights, sigma);
    expect(after.matchedZ - before.matchedZ).toBeCloseTo(3 * before.matchedZPerFlux, 8);
    expect(before.matchedZPerFlux).toBeGreaterThan(0);
  });

  it('reads samples at an offset and refuses fewer than two samples', () => {
    const samples = draw(50);
    const padded = new Float64Array(7 + samples.length);
    padded.set(samples, 7);
    const observed = profile.map((v) => v + 1);
    expect(scoreCore(observed, padded, 50, weights, sigma, 7)).toEqual(scoreCore(observed, samples, 50, weights, sigma));
    expect(() => scoreCore(observed, samples, 1, weights, sigma)).toThrow(RangeError);
  });
});

import { Q1_NOISE } from '../../src/sim/calibration.js';
import { addNoise, coverage, tapForCorrelation, type NoiseModel } from '../../src/sim/noise.js';
import { deriveKey } from '../../src/random.js';

const keys = { noise: deriveKey(5, 1), coverage: deriveKey(5, 2) };
const plain: NoiseModel = { ...Q1_NOISE, holes: { fraction: 0, factor: 1 }, patches: { perCell: 0, factorRange: [1, 1] } };

function stats(image: Float32Array, width: number): { sd: number; lag: (dx: number, dy: number) => number } {
  const n = image.length;
  const mean = image.reduce((a, b) => a + b, 0) / n;
  const variance = image.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  const height = n / width;
  return {
    sd: Math.sqrt(variance),
    lag: (dx, dy) => {
      let sum = 0;
      let count = 0;
      for (let y = 0; y + dy < height; y++) for (let x = 0; x + dx < width; x++, count++) sum += (image[y * width + x]! - mean) * (image[(y + dy) * width + x + dx]! - mean);
      return sum / count / variance;
    },
  };
}

describe('MER-like noise', () => {
  test('the kernel tap reproduces the lag-1 correlation it was solved for', () => {
    for (const rho of [0.05, 0.2, 0.25, 0.4]) {
      const t = tapForCorrelation(rho);
      expect((2 * t) / (1 + 2 * t * t)).toBeCloseTo(rho, 12);
    }
  });

  test('blank sky has the calibrated sigma/RMS ratio and the separable correlation pattern', () => {
    const size = 300;
    const level = 0.004;
    const { image, rms } = addNoise(plain, keys, level, 0, new Float64Array((size + 2) ** 2), 0, 0, size, size);
    expect(rms.every((r) => Math.abs(r - level) < 1e-9)).toBe(true);
    const s = stats(image, size);
    expect(s.sd / level).toBeCloseTo(plain.madToRms, 2);
    const { x: tx, y: ty } = plain.taps;
    const rho = (t: number): number => (2 * t) / (1 + 2 * t * t);
    const rho2 = (t: number): number => (t * t) / (1 + 2 * t * t);
    expect(s.lag(1, 0)).toBeCloseTo(rho(tx), 1);
    expect(s.lag(0, 1)).toBeCloseTo(rho(ty), 1);
    expect(Math.abs(s.lag(2, 0) - rho2(tx))).toBeLessThan(0.02);
    expect(Math.abs(s.lag(1, 1) - rho(tx) * rho(ty))).toBeLessThan(0.02);
    expect(Math.abs(s.lag(3, 0))).toBeLessThan(0.02);
  });

  test('sources add shot noise to the image and to the RMS map', () => {
    const size = 200;
    const level = 0.004;
    const flux = 2;
    const signal = new Float64Array((size + 2) ** 2).fill(flux);
    const { image, rms } = addNoise(plain, keys, level, 0, signal, 0, 0, size, size);
    const expected = Math.sqrt(level * level + flux / plain.gain);
    expect(rms[0]).toBeCloseTo(expected, 9);
    expect(stats(image, size).sd / expected).toBeCloseTo(plain.madToRms, 2);
  });

  test('coverage holes and patches raise the RMS map in proportion, and any window sees the same pixels', () => {
    const big = coverage(Q1_NOISE, keys.coverage, -200, -200, 400, 400);
    const raised = big.filter((f) => f > 1).length / big.length;
    expect(raised).toBeGreaterThan(Q1_NOISE.holes.fraction * 0.8);
    expect(big.every((f) => f >= 1)).toBe(true);
    const small = coverage(Q1_NOISE, keys.coverage, 17, -40, 60, 30);
    for (let j = 0; j < 30; j++) for (let i = 0; i < 60; i++) expect(small[j * 60 + i]).toBe(big[(j - 40 + 200) * 400 + i + 17 + 200]);

    const window = { x0: -50, y0: -50, w: 100, h: 100 };
    const signal = (w: number, h: number): Float64Array => new Float64Array((w + 2) * (h + 2));
    const full = addNoise(Q1_NOISE, keys, 0.004, 0.001, signal(window.w, window.h), window.x0, window.y0, window.w, window.h);
    const crop = addNoise(Q1_NOISE, keys, 0.004, 0.001, signal(64, 64), -32, -32, 64, 64);
    for (let j = 0; j < 64; j++) {
      for (let i = 0; i < 64; i++) {
        expect(crop.image[j * 64 + i]).toBe(full.image[(j + 18) * 100 + i + 18]);
        expect(crop.rms[j * 64 + i]).toBe(full.rms[(j + 18) * 100 + i + 18]);
      }
    }
  });
});

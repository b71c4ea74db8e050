import { Rng, deriveKey, fillNormals, subKey } from '../src/random.js';

function moments(values: ArrayLike<number>): { mean: number; variance: number; kurtosis: number } {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i]!;
  mean /= values.length;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i]! - mean;
    m2 += d * d;
    m4 += d ** 4;
  }
  m2 /= values.length;
  m4 /= values.length;
  return { mean, variance: m2, kurtosis: m4 / (m2 * m2) };
}

describe('seedable random numbers', () => {
  test('a key gives the same stream every time; any change of seed, id or stream gives another', () => {
    const draw = (...parts: number[]): number[] => {
      const rng = new Rng(deriveKey(...parts));
      return Array.from({ length: 4 }, () => rng.next32());
    };
    expect(draw(1, 2, 3)).toEqual(draw(1, 2, 3));
    const variants = [draw(1, 2, 3), draw(2, 2, 3), draw(1, 3, 3), draw(1, 2, 4), draw(1, -2, 3), draw(1, 2 + 2 ** 40, 3), draw(1, 2, 3, 0)];
    expect(new Set(variants.map((v) => v.join(','))).size).toBe(variants.length);
    expect(subKey(deriveKey(1, 2), 3)).toEqual(deriveKey(1, 2, 3));
    expect(() => deriveKey(0.5)).toThrow(RangeError);
  });

  test('keys of 100k consecutive object ids never collide (64-bit keys)', () => {
    const seen = new Set<string>();
    for (let id = 0; id < 100000; id++) {
      const key = deriveKey(7, id);
      seen.add(`${key.hi}:${key.lo}`);
    }
    expect(seen.size).toBe(100000);
  });

  test('uniform and normal draws have the right moments', () => {
    const rng = new Rng(deriveKey(42));
    const n = 200000;
    const u = Float64Array.from({ length: n }, () => rng.uniform());
    const z = Float64Array.from({ length: n }, () => rng.normal());
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
    const mu = moments(u);
    expect(Math.abs(mu.mean - 0.5)).toBeLessThan(0.003);
    expect(Math.abs(mu.variance - 1 / 12)).toBeLessThan(0.001);
    const mz = moments(z);
    expect(Math.abs(mz.mean)).toBeLessThan(0.01);
    expect(Math.abs(mz.variance - 1)).toBeLessThan(0.01);
    expect(Math.abs(mz.kurtosis - 3)).toBeLessThan(0.05);
    const p = Float64Array.from({ length: 20000 }, () => rng.poisson(0.7));
    expect(Math.abs(moments(p).mean - 0.7)).toBeLessThan(0.02);
    expect(Math.abs(moments(p).variance - 0.7)).toBeLessThan(0.03);
  });

  test('a counter-based noise field is white, unit normal, and the same pixel whatever window asks for it', () => {
    const key = deriveKey(3, 99);
    const w = 256;
    const field = new Float64Array(w * w);
    fillNormals(field, key, -128, -128, w, w);
    const m = moments(field);
    expect(Math.abs(m.mean)).toBeLessThan(0.01);
    expect(Math.abs(m.variance - 1)).toBeLessThan(0.02);
    expect(Math.abs(m.kurtosis - 3)).toBeLessThan(0.1);
    for (const [dx, dy] of [
      [1, 0],
      [0, 1],
      [1, 1],
      [2, 0],
    ]) {
      let sum = 0;
      let count = 0;
      for (let y = 0; y + dy < w; y++) for (let x = 0; x + dx < w; x++, count++) sum += field[y * w + x]! * field[(y + dy) * w + x + dx]!;
      expect(Math.abs(sum / count)).toBeLessThan(0.01);
    }
    // An odd-aligned sub-window reproduces the same values.
    const window = new Float64Array(7 * 5);
    fillNormals(window, key, -3, 10, 7, 5);
    for (let j = 0; j < 5; j++) for (let i = 0; i < 7; i++) expect(window[j * 7 + i]).toBe(field[(10 + j + 128) * w + (-3 + i + 128)]);
  });
});

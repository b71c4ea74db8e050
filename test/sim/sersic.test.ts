import { gammaP, lnGamma, sersicB } from '../../src/sim/gamma.js';
import { SersicProfile } from '../../src/sim/sersic.js';

/** Brightness integrated on a fine grid over the truncation ellipse's bounding box (polar cusp aside). */
function integrate(profile: SersicProfile, step: number, within: (x: number, y: number) => boolean = () => true): number {
  const r = profile.radius;
  let sum = 0;
  for (let y = -r + step / 2; y < r; y += step) for (let x = -r + step / 2; x < r; x += step) if (within(x, y)) sum += profile.brightness(x, y);
  return sum * step * step;
}

describe('Sérsic profiles', () => {
  test('gamma functions match known values', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 12);
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(gammaP(1, 2)).toBeCloseTo(1 - Math.exp(-2), 12);
    expect(gammaP(2, 30)).toBeCloseTo(1 - 31 * Math.exp(-30), 12);
  });

  test('b_n puts half the light inside Re (and matches the tabulated b_1, b_4)', () => {
    expect(sersicB(1)).toBeCloseTo(1.678347, 5);
    expect(sersicB(4)).toBeCloseTo(7.669249, 5);
    for (const n of [0.5, 0.8, 2.5, 6]) expect(gammaP(2 * n, sersicB(n))).toBeCloseTo(0.5, 12);
  });

  test('the brightness integrates to the flux, and half of it falls inside the Re ellipse', () => {
    for (const [n, re, q, pa] of [
      [1, 3, 0.5, 0.3],
      [0.5, 2, 1, 0],
      [2.5, 2.5, 0.7, 2],
    ] as const) {
      const profile = new SersicProfile({ flux: 3, re, n, q, pa });
      expect(integrate(profile, 0.1) / 3).toBeCloseTo(1, 2);
      const inside = (x: number, y: number): boolean => {
        const xr = x * Math.cos(pa) + y * Math.sin(pa);
        const yr = (y * Math.cos(pa) - x * Math.sin(pa)) / q;
        return xr * xr + yr * yr <= re * re;
      };
      // Within the truncation the profile is renormalised, so a little more than half sits inside Re.
      expect(integrate(profile, 0.1, inside) / 3).toBeGreaterThan(0.49);
      expect(integrate(profile, 0.1, inside) / 3).toBeLessThan(0.53);
    }
  });

  test('the truncation chord bounds where the profile is lit', () => {
    const profile = new SersicProfile({ flux: 1, re: 3, n: 1, q: 0.3, pa: 0.6 });
    for (const dy of [-5, -1, 0, 2.5]) {
      const [a, b] = profile.chord(dy)!;
      expect(profile.brightness(a - 0.01, dy)).toBe(0);
      expect(profile.brightness(b + 0.01, dy)).toBe(0);
      expect(profile.brightness((a + b) / 2, dy)).toBeGreaterThan(0);
    }
    expect(profile.chord(profile.radius + 1)).toBeUndefined();
  });

  test('spiral arms modulate a disk without changing its flux', () => {
    const shape = { flux: 2, re: 5, n: 1, q: 0.6, pa: 0.4 };
    const plain = new SersicProfile(shape);
    const spiral = new SersicProfile(shape, { arms: 2, pitch: 0.35, amplitude: 0.6, phase: 1 });
    expect(integrate(spiral, 0.1) / integrate(plain, 0.1)).toBeCloseTo(1, 3);
    expect(Math.abs(spiral.brightness(5, 2) / plain.brightness(5, 2) - 1)).toBeGreaterThan(0.05);
  });
});

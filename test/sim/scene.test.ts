import { Rng, deriveKey } from '../../src/random.js';
import { classOf, drawMagnitude, drawSource } from '../../src/sim/population.js';
import { magToFlux } from '../../src/ground/vis.js';
import { simulateObject } from '../../src/sim/products.js';
import { DEFAULT_RECIPE, buildRecipe } from '../../src/sim/recipe.js';
import { cellSources, cutoutWindow, drawObject, renderSignal } from '../../src/sim/scene.js';

describe('population', () => {
  test('survey classes come in the configured fractions, with f_PS defining the class', () => {
    const counts = { galaxy: 0, agn: 0, qso: 0, star: 0 };
    const n = 4000;
    for (let id = 1; id <= n; id++) {
      const { target } = drawObject(DEFAULT_RECIPE, 9, id);
      counts[target.cls]++;
      expect(classOf(target.fps)).toBe(target.cls);
      expect(target.fluxPoint / (target.fluxPoint + target.fluxHost)).toBeCloseTo(target.fps, 12);
      expect(target.host === undefined).toBe(target.cls === 'star');
    }
    for (const cls of ['galaxy', 'agn', 'qso', 'star'] as const) {
      const p = DEFAULT_RECIPE.population.classFractions[cls];
      expect(Math.abs(counts[cls] / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    }
  });

  test('the grid mix cycles f_PS through the grid by object id', () => {
    const recipe = buildRecipe({ mix: 'grid', gridFps: [0, 0.1, 0.5, 1] });
    expect([4, 5, 6, 7, 8].map((id) => drawObject(recipe, 1, id).target.fps)).toEqual([0, 0.1, 0.5, 1, 0]);
  });

  test('magnitudes follow the truncated power law of the counts', () => {
    const rng = new Rng(deriveKey(4));
    const law = { min: 19, max: 25, slope: 0.3 };
    const mags = Array.from({ length: 20000 }, () => drawMagnitude(rng, law));
    const expected = (10 ** (0.3 * 22) - 10 ** (0.3 * 19)) / (10 ** (0.3 * 25) - 10 ** (0.3 * 19));
    expect(mags.every((m) => m >= 19 && m < 25)).toBe(true);
    expect(Math.abs(mags.filter((m) => m < 22).length / mags.length - expected)).toBeLessThan(0.005);
  });

  test('every host kind and the nuclear star clusters occur', () => {
    const kinds = new Set<string>();
    let nuclei = 0;
    const rng = new Rng(deriveKey(5));
    for (let k = 0; k < 500; k++) {
      const s = drawSource(rng, { ...DEFAULT_RECIPE.population, classFractions: { galaxy: 1, agn: 0, qso: 0, star: 0 } }, 0, 0);
      kinds.add(s.host!.kind);
      if (s.components.some((c) => c.role === 'nucleus')) nuclei++;
      expect(s.components.reduce((a, c) => a + c.flux, 0)).toBeCloseTo(s.fluxHost, 10);
    }
    expect([...kinds].sort()).toEqual(['compact', 'disk', 'irregular', 'spheroid', 'spiral']);
    expect(nuclei).toBeGreaterThan(20);
  });
});

describe('scenes', () => {
  test('the same seed and id give the same cutout; another id another', () => {
    const a = simulateObject(DEFAULT_RECIPE, 3, 17, 0, 48);
    const b = simulateObject(DEFAULT_RECIPE, 3, 17, 0, 48);
    expect(Buffer.from(a.image.buffer).equals(Buffer.from(b.image.buffer))).toBe(true);
    const c = simulateObject(DEFAULT_RECIPE, 3, 18, 0, 48);
    expect(Buffer.from(a.image.buffer).equals(Buffer.from(c.image.buffer))).toBe(false);
  });

  test('a 64x64 stamp is exactly the centre crop of the 100x100 cutout', () => {
    for (const id of [1, 2, 3]) {
      const cutout = simulateObject(DEFAULT_RECIPE, 8, id, 0, 100);
      const stamp = simulateObject(DEFAULT_RECIPE, 8, id, 0, 64);
      for (let y = 0; y < 64; y++) {
        for (let x = 0; x < 64; x++) {
          expect(stamp.image[y * 64 + x]).toBe(cutout.image[(y + 18) * 100 + x + 18]);
          expect(stamp.rms[y * 64 + x]).toBe(cutout.rms[(y + 18) * 100 + x + 18]);
        }
      }
      expect(stamp.target[0] + 18).toBeCloseTo(cutout.target[0], 12);
    }
  });

  test('the target sits at pixel floor(W/2) within half a pixel, with no neighbour on top of it', () => {
    for (let id = 1; id <= 20; id++) {
      const p = simulateObject(DEFAULT_RECIPE, 2, id, 0, 100);
      expect(Math.abs(p.target[0] - 50)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(p.target[1] - 50)).toBeLessThanOrEqual(0.5);
      const object = drawObject(DEFAULT_RECIPE, 2, id);
      for (const s of cellSources(DEFAULT_RECIPE, object.key, cutoutWindow(100), { exclude: object.target })) {
        expect(Math.hypot(s.x - object.target.x, s.y - object.target.y)).toBeGreaterThanOrEqual(DEFAULT_RECIPE.neighbourhood.exclusion);
      }
    }
  });

  test('the noise-free target carries its host plus point flux, point source at the host centre', () => {
    const recipe = buildRecipe({ mix: 'grid', gridFps: [0.3] });
    const { target, psf } = drawObject(recipe, 5, 1);
    const window = cutoutWindow(160);
    const signal = renderSignal([target], psf, window, 0.0025);
    const total = signal.reduce((a, b) => a + b, 0);
    expect(total / (target.fluxHost + target.fluxPoint)).toBeGreaterThan(0.98);
    expect(total / (target.fluxHost + target.fluxPoint)).toBeLessThan(1.001);
    expect(target.mag).toBeCloseTo(24.6 - 2.5 * Math.log10(target.fluxHost + target.fluxPoint), 10);
    expect(magToFlux(target.mag)).toBeCloseTo(target.fluxHost + target.fluxPoint, 10);
  });
});

import { describe, expect, test } from '@jest/globals';

import { concentrationIndex } from '../../src/baseline/concentration.js';
import { q1Psfs } from '../../src/ground/psf.js';
import { renderSignal } from '../../src/sim/scene.js';

const SIDE = 41;
const HALF = (SIDE - 1) / 2;
const psf = q1Psfs()[0]!;

function render(fluxPoint: number, hostFlux: number, re: number): Float64Array {
  const components = hostFlux > 0 ? [{ flux: hostFlux, re, n: 1, q: 0.8, pa: 0.3, role: 'disk' as const, dx: 0, dy: 0 }] : [];
  return renderSignal([{ x: 0.2, y: -0.1, fluxPoint, components }], psf, { x0: -HALF, y0: -HALF, width: SIDE, height: SIDE }, 1e-9);
}

describe('concentration index', () => {
  test('a point source is more concentrated than an AGN, an AGN more than its host alone', () => {
    const star = concentrationIndex(render(100, 0, 1), SIDE)!;
    const agn = concentrationIndex(render(30, 70, 3), SIDE)!;
    const galaxy = concentrationIndex(render(0, 100, 3), SIDE)!;
    expect(star).toBeGreaterThan(0.6);
    expect(star).toBeLessThan(1);
    expect(agn).toBeLessThan(star);
    expect(galaxy).toBeLessThan(agn);
  });

  test('a constant sky is taken off, and an empty image has no concentration', () => {
    const image = render(100, 0, 1);
    const withSky = Float64Array.from(image, (v) => v + 5);
    expect(concentrationIndex(withSky, SIDE)).toBeCloseTo(concentrationIndex(image, SIDE)!, 6);
    expect(concentrationIndex(new Float64Array(SIDE * SIDE), SIDE)).toBeNull();
  });
});

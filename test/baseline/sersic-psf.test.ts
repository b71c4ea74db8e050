import { describe, expect, test } from '@jest/globals';

import { fitSersicPsf } from '../../src/baseline/sersic-psf.js';
import { q1Psfs } from '../../src/ground/psf.js';
import { renderSignal } from '../../src/sim/scene.js';
import type { Component } from '../../src/sim/population.js';
import { seededRandom } from '../helpers/random.js';

const SIDE = 41;
const HALF = (SIDE - 1) / 2;
const psf = q1Psfs()[0]!;

/** A host of `flux` with a point source making up `fps` of the light, as the simulator renders it. */
function render(fps: number, host: Omit<Component, 'flux' | 'role' | 'dx' | 'dy'>, x: number, y: number, flux = 100): Float64Array {
  const component: Component = { ...host, flux: (1 - fps) * flux, role: 'disk', dx: 0, dy: 0 };
  // A tiny sigma sends every pixel through the full PSF, the model the fit assumes.
  return renderSignal([{ x, y, fluxPoint: fps * flux, components: [component] }], psf, { x0: -HALF, y0: -HALF, width: SIDE, height: SIDE }, 1e-9);
}

const unitNoise = new Float32Array(SIDE * SIDE).fill(1);

describe('Sérsic + PSF least-squares fit', () => {
  test('recovers f_PS of a noiseless point source on a Sérsic host, off the pixel centre', () => {
    for (const [fps, shape, x, y] of [
      [0.3, { re: 3, n: 1, q: 0.6, pa: 0.5 }, 0.3, -0.2],
      [0.05, { re: 2, n: 2.5, q: 0.8, pa: 1 }, -0.4, 0.1],
      [0.8, { re: 4, n: 4, q: 0.5, pa: -0.3 }, 0.1, 0.4],
    ] as const) {
      const fit = fitSersicPsf({ pixels: render(fps, shape, x, y), rms: unitNoise, side: SIDE, psf });
      expect(Math.abs(fit.fps! - fps)).toBeLessThan(0.01);
      expect(fit.x).toBeCloseTo(x, 1);
      expect(fit.y).toBeCloseTo(y, 1);
      expect(fit.re).toBeCloseTo(shape.re, 0);
      expect(fit.chi2).toBeLessThan(fit.chi2Host);
    }
  });

  test('a pure Sérsic gives f_PS near 0 and nothing for the point source to improve', () => {
    for (const shape of [
      { re: 3, n: 1, q: 0.6, pa: 0.5 },
      { re: 1.5, n: 4, q: 0.9, pa: 0 },
    ]) {
      const fit = fitSersicPsf({ pixels: render(0, shape, 0.2, -0.3), rms: unitNoise, side: SIDE, psf });
      expect(fit.fps!).toBeLessThan(0.01);
      expect(fit.significance).toBeLessThan(0.1);
    }
  });

  test('with noise, a star is a point source and an extended galaxy is not; the quoted f_PS error is of the right size', () => {
    const random = seededRandom(7);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const noisy = (image: Float64Array) => Float64Array.from(image, (v) => v + 0.05 * gauss());
    const sigma = new Float32Array(SIDE * SIDE).fill(0.05);
    const star = fitSersicPsf({ pixels: noisy(render(1, { re: 3, n: 1, q: 0.7, pa: 0 }, 0.1, 0.2, 20)), rms: sigma, side: SIDE, psf });
    const galaxy = fitSersicPsf({ pixels: noisy(render(0, { re: 3, n: 1, q: 0.7, pa: 0 }, 0.1, 0.2, 20)), rms: sigma, side: SIDE, psf });
    expect(star.fps!).toBeGreaterThan(0.9);
    expect(galaxy.fps!).toBeLessThan(0.1);
    expect(star.significance).toBeGreaterThan(10 * Math.max(1, galaxy.significance));
    const agn = fitSersicPsf({ pixels: noisy(render(0.3, { re: 3, n: 1, q: 0.7, pa: 0 }, 0.1, 0.2, 20)), rms: sigma, side: SIDE, psf });
    expect(agn.fpsError!).toBeGreaterThan(0);
    expect(Math.abs(agn.fps! - 0.3)).toBeLessThan(4 * agn.fpsError!);
  });

  test('without an RMS map the noise comes from the border, and unusable pixels weigh nothing', () => {
    const image = render(0.3, { re: 3, n: 1, q: 0.6, pa: 0.5 }, 0.3, -0.2);
    const holed = Float64Array.from(image);
    holed[(HALF + 5) * SIDE + HALF + 5] = Number.NaN;
    const fit = fitSersicPsf({ pixels: holed, rms: undefined, side: SIDE, psf });
    expect(fit.pixels).toBe(25 * 25 - 1);
    expect(Math.abs(fit.fps! - 0.3)).toBeLessThan(0.01);
  });
});

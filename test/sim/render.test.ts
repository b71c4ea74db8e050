import { Canvas, FULL_CORE, LIGHT_CORE, MINIMAL_CORE, convolve, coreFor, depositPoint, drawSersic, scatter, type CoreQuadrature } from '../../src/sim/render.js';
import { SersicProfile } from '../../src/sim/sersic.js';
import { psfFromStamp, q1Psfs, type Psf } from '../../src/ground/psf.js';

/** Abramowitz & Stegun 7.1.26 is too coarse here; this series/continued-fraction pair is good to 1e-12. */
function erf(x: number): number {
  const t = Math.abs(x);
  if (t < 2.5) {
    let term = t;
    let sum = t;
    for (let n = 1; n < 80; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  return Math.sign(x) * (1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f));
}

/** Integral of a unit circular Gaussian of width sigma over the pixel centred at (dx, dy) from its centre. */
function pixelGaussian(dx: number, dy: number, sigma: number): number {
  const s = Math.SQRT2 * sigma;
  const ix = 0.5 * (erf((dx + 0.5) / s) - erf((dx - 0.5) / s));
  const iy = 0.5 * (erf((dy + 0.5) / s) - erf((dy - 0.5) / s));
  return ix * iy;
}

function gaussianPsf(sigma: number, size = 21): Psf {
  const half = (size - 1) / 2;
  const values = new Float64Array(size * size);
  for (let j = 0; j < size; j++) for (let i = 0; i < size; i++) values[j * size + i] = pixelGaussian(i - half, j - half, sigma);
  return psfFromStamp('gaussian', size, values);
}

const OUT = 31;

/** Renders profiles/points centred near frame (0,0) into an OUT x OUT image centred on pixel 0. */
function render(psf: Psf, draw: (canvas: Canvas) => void): Float64Array {
  const half = (psf.size - 1) / 2;
  const x0 = -(OUT - 1) / 2;
  const canvas = new Canvas(x0 - half, x0 - half, OUT + psf.size - 1, OUT + psf.size - 1);
  draw(canvas);
  const out = new Float64Array(OUT * OUT);
  convolve(canvas, psf.data, psf.size, out, x0, x0, OUT, OUT);
  return out;
}

function maxAbs(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const FINE: CoreQuadrature = { inner: 6, outer: 9, radialStep: 0.1, arcStep: 0.1, samplesPerWidth: 8, ringNodes: 24 };

describe('rendering', () => {
  test('a point source on a pixel centre reproduces the PSF stamp exactly', () => {
    const psf = q1Psfs()[0]!;
    const image = render(psf, (c) => depositPoint(c, 0, 0, 1));
    const half = (psf.size - 1) / 2;
    const c = (OUT - 1) / 2;
    for (let j = -half; j <= half; j++) {
      for (let i = -half; i <= half; i++) {
        expect(image[(c + j) * OUT + c + i]).toBeCloseTo(psf.data[(j + half) * psf.size + i + half]!, 12);
      }
    }
  });

  // The 1% left is the Lanczos interpolation of an ePSF sampled at 2 px FWHM; a point source shifted by
  // half a pixel carries the same error, so hosts and point sources stay consistent.
  test('a Gaussian galaxy through a Gaussian ePSF matches the analytic pixel-integrated image to 1% of peak', () => {
    const sigmaPsf = 0.85; // FWHM 2 px = 0.2"
    const psf = gaussianPsf(sigmaPsf);
    for (const sigmaGal of [0.4, 0.8, 2]) {
      const re = sigmaGal * Math.sqrt(2 * Math.LN2); // half-light radius of a circular Gaussian
      const profile = new SersicProfile({ flux: 1, re, n: 0.5, q: 1, pa: 0 });
      const cx = 0.3;
      const cy = -0.2;
      const image = render(psf, (canvas) => drawSersic(canvas, profile, cx, cy, FULL_CORE));
      const exact = new Float64Array(OUT * OUT);
      const c = (OUT - 1) / 2;
      const sigma = Math.hypot(sigmaGal, sigmaPsf);
      for (let j = 0; j < OUT; j++) for (let i = 0; i < OUT; i++) exact[j * OUT + i] = pixelGaussian(i - c - cx, j - c - cy, sigma);
      const peak = Math.max(...exact);
      expect(maxAbs(image, exact) / peak).toBeLessThan(0.01);
    }
  });

  test('each quadrature tier stays within its stated error of a much finer rendering, thin and cuspy profiles included', () => {
    const psf = q1Psfs()[1]!;
    const shapes = [
      [4, 0.6, 0.7],
      [6, 1, 1],
      [1, 0.8, 0.3],
      [1, 2, 0.15],
      [4, 0.4, 0.25],
      [0.5, 0.4, 0.7],
    ] as const;
    const tiers = [
      [FULL_CORE, 0.001],
      [LIGHT_CORE, 0.0025],
      [MINIMAL_CORE, 0.01],
    ] as const;
    for (const [n, re, q] of shapes) {
      const profile = new SersicProfile({ flux: 1, re, n, q, pa: 0.7 });
      const fine = render(psf, (canvas) => drawSersic(canvas, profile, 0.23, -0.41, FINE));
      for (const [core, bound] of tiers) {
        const image = render(psf, (canvas) => drawSersic(canvas, profile, 0.23, -0.41, core));
        expect(maxAbs(image, fine) / Math.max(...fine)).toBeLessThan(bound);
      }
    }
  });

  test('tiers are chosen so the error stays below a tenth of the noise (peak <= flux/4)', () => {
    const sigma = 0.0025;
    const bound = new Map([
      [FULL_CORE, 0.001],
      [LIGHT_CORE, 0.0025],
      [MINIMAL_CORE, 0.01],
    ]);
    for (let flux = 1e-3; flux < 10; flux *= 1.01) {
      const core = coreFor(flux, sigma);
      if (core !== FULL_CORE) expect((bound.get(core)! * flux) / 4).toBeLessThanOrEqual(0.1 * sigma);
    }
  });

  test('scattering lit pixels equals the dense convolution', () => {
    const psf = q1Psfs()[2]!;
    const half = (psf.size - 1) / 2;
    const canvas = new Canvas(-15 - half, -15 - half, 31 + psf.size - 1, 31 + psf.size - 1);
    drawSersic(canvas, new SersicProfile({ flux: 2, re: 1.5, n: 2, q: 0.6, pa: 0.2 }), 3.3, -2.1, FULL_CORE);
    depositPoint(canvas, -9.6, 12.2, 0.7);
    const dense = new Float64Array(31 * 31);
    convolve(canvas, psf.data, psf.size, dense, -15, -15, 31, 31);
    const sparse = new Float64Array(31 * 31);
    scatter(canvas, psf.data, psf.size, sparse, -15, -15, 31, 31);
    expect(maxAbs(dense, sparse)).toBeLessThan(1e-12);
  });

  test("flux is conserved on the canvas to 0.2%", () => {
    for (const [n, re, q] of [
      [4, 1, 0.6],
      [1, 2.5, 0.4],
      [0.5, 0.3, 1],
    ] as const) {
      const profile = new SersicProfile({ flux: 7.5, re, n, q, pa: 1.1 });
      const canvas = new Canvas(-60, -60, 121, 121);
      drawSersic(canvas, profile, 0.1, 0.45, FULL_CORE);
      const total = canvas.data.reduce((s, v) => s + v, 0);
      expect(Math.abs(total / 7.5 - 1)).toBeLessThan(0.002);
    }
  });
});

import { contextWithoutPointSource, placePsf, secantAmplitude, shiftPsf, subpixelPeak, subtractPointSource } from '../../src/detect/joint-fit.js';
import { defaultVisPsf } from '../../src/ground/psf.js';

function gaussianCrop(side: number, dx: number, dy: number, width = 1.2): Float32Array {
  const centre = Math.floor(side / 2);
  return Float32Array.from({ length: side * side }, (_, i) => {
    const x = (i % side) - centre - dx;
    const y = Math.floor(i / side) - centre - dy;
    return Math.exp(-(x * x + y * y) / (2 * width * width));
  });
}

describe('joint point-source fit', () => {
  test('the peak of a Gaussian core is found within its pixel', () => {
    for (const [dx, dy] of [[0, 0], [0.3, -0.2], [-0.45, 0.4]] as const) {
      const found = subpixelPeak(gaussianCrop(16, dx, dy), 16);
      expect(found.dx).toBeCloseTo(dx, 6);
      expect(found.dy).toBeCloseTo(dy, 6);
    }
  });

  test('a flat or non-positive core gives no offset', () => {
    expect(subpixelPeak(new Float32Array(256), 16)).toEqual({ dx: 0, dy: 0 });
  });

  test('shifting the PSF keeps its flux, moves its centroid, and a whole-pixel shift moves the stamp', () => {
    const psf = defaultVisPsf();
    const centroid = (data: ArrayLike<number>) => {
      let sx = 0;
      let sum = 0;
      for (let i = 0; i < data.length; i++) {
        sx += (i % psf.size) * data[i]!;
        sum += data[i]!;
      }
      return { x: sx / sum, sum };
    };
    const moved = shiftPsf(psf, 0.3, 0);
    expect(centroid(moved.data).sum).toBeCloseTo(1, 2);
    expect(centroid(moved.data).x - centroid(psf.data).x).toBeCloseTo(0.3, 1);
    const whole = shiftPsf(psf, 1, 0);
    const n = psf.size;
    const c = (n - 1) / 2;
    expect(whole.data[c * n + c + 1]).toBeCloseTo(psf.data[c * n + c]!, 12);
  });

  test('the band-limited shift keeps the flux, moves a whole pixel exactly, and differs from Lanczos-3 between pixels', () => {
    const psf = defaultVisPsf();
    const n = psf.size;
    const c = (n - 1) / 2;
    const sum = (data: ArrayLike<number>) => Array.from(data).reduce((a, b) => a + b, 0);
    const half = shiftPsf(psf, 0.4, -0.3, 'sinc');
    expect(sum(half.data)).toBeCloseTo(sum(psf.data), 3);
    const whole = shiftPsf(psf, 1, 0, 'sinc');
    expect(whole.data[c * n + c + 1]).toBeCloseTo(psf.data[c * n + c]!, 6);
    expect(whole.data[(c + 2) * n + c + 3]).toBeCloseTo(psf.data[(c + 2) * n + c + 2]!, 6);
    // Both interpolants agree at pixel centres and nowhere else: the peak moved 0.4 px differs by a few per cent.
    const lanczosPeak = Math.max(...Array.from(shiftPsf(psf, 0.4, 0.4).data));
    const sincPeak = Math.max(...Array.from(shiftPsf(psf, 0.4, 0.4, 'sinc').data));
    expect(Math.abs(sincPeak / lanczosPeak - 1)).toBeGreaterThan(0.005);
    expect(Math.abs(sincPeak / lanczosPeak - 1)).toBeLessThan(0.1);
  });

  test('a point-dominated core gets the interpolant it was sampled with; a host-dominated one keeps Lanczos-3', () => {
    const psf = defaultVisPsf();
    const side = 32;
    // A point source of amplitude 50 at (0.3, -0.35) px, over a Gaussian host of peak `host`.
    const star = (interpolant: 'lanczos3' | 'sinc', host: number) =>
      subtractPointSource(Float32Array.from(gaussianCrop(side, 0.3, -0.35, 3), (g) => host * g), side, shiftPsf(psf, 0.3, -0.35, interpolant), -50);
    expect(placePsf(star('sinc', 0), side, psf, 2).interpolant).toBe('sinc');
    expect(placePsf(star('lanczos3', 0), side, psf, 2).interpolant).toBe('lanczos3');
    // A bright extended host under the same point source: the core cannot tell, and Lanczos-3 stays.
    expect(placePsf(star('sinc', 40), side, psf, 2).interpolant).toBe('lanczos3');
    // What the joint fit subtracts uses the interpolant it chose.
    const fit = { amplitude: 50, dx: 0.3, dy: -0.35, interpolant: 'sinc' as const };
    const left = contextWithoutPointSource(star('sinc', 0), side, psf, fit);
    expect(Math.max(...left.map(Math.abs))).toBeLessThan(1e-3);
  });

  test('subtracting a point source removes exactly amplitude x PSF around the centre', () => {
    const psf = defaultVisPsf();
    const side = 32;
    const crop = new Float32Array(side * side).fill(1);
    const out = subtractPointSource(crop, side, psf, 2);
    const removed = crop.reduce((a, v, i) => a + v - out[i]!, 0);
    expect(removed).toBeCloseTo(2, 4);
    expect(out[16 * side + 16]).toBeCloseTo(1 - 2 * psf.data[((psf.size - 1) / 2) * psf.size + (psf.size - 1) / 2]!, 5);
    expect(crop[16 * side + 16]).toBe(1);
  });

  test('the secant step solves a linear response exactly and is clamped to [0, ceiling]', () => {
    // A regeneration that takes back a fraction g of the subtracted amplitude: flux(a) = f0 + g a.
    const truth = 5;
    const g = 0.6;
    const f0 = truth * (1 - g);
    expect(secantAmplitude(f0, f0 + g * f0, 100)).toBeCloseTo(truth, 10);
    expect(secantAmplitude(f0, f0 + g * f0, 3)).toBe(3);
    expect(secantAmplitude(-1, 0, 10)).toBe(0);
    expect(secantAmplitude(2, 5, 7)).toBe(7);
  });
});

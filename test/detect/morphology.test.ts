import { psfFwhm, spreadModel } from '../../src/detect/morphology.js';
import { q1Psfs, defaultVisPsf } from '../../src/ground/psf.js';
import { subtractPointSource } from '../../src/detect/joint-fit.js';

const side = 41;

/** A circular Gaussian blob of total flux `flux` and sigma `width` px at the centre, convolved with nothing. */
function blob(width: number, flux: number): Float32Array {
  const c = Math.floor(side / 2);
  const out = new Float32Array(side * side);
  for (let i = 0; i < out.length; i++) {
    const x = (i % side) - c;
    const y = Math.floor(i / side) - c;
    out[i] = (flux * Math.exp(-(x * x + y * y) / (2 * width * width))) / (2 * Math.PI * width * width);
  }
  return out;
}

/** `image` plus `flux` times the PSF at the centre (subtracting a negative amplitude adds it). */
function withPoint(image: Float32Array, flux: number): Float32Array {
  return subtractPointSource(image, side, defaultVisPsf(), -flux);
}

describe('SPREAD_MODEL', () => {
  test('the VIS PSF stamps are 1.5-1.8 px (0.15-0.18") wide', () => {
    for (const psf of q1Psfs()) {
      expect(psfFwhm(psf)).toBeGreaterThan(1.5);
      expect(psfFwhm(psf)).toBeLessThan(1.8);
    }
  });

  test('a point source gives 0, extended light a positive value, and a point source on a host lowers it', () => {
    const psf = defaultVisPsf();
    const point = withPoint(new Float32Array(side * side), 10);
    expect(Math.abs(spreadModel(point, side, psf))).toBeLessThan(1e-9);
    const host = blob(3, 10);
    const galaxy = spreadModel(host, side, psf);
    expect(galaxy).toBeGreaterThan(0.001);
    const agn = spreadModel(withPoint(host, 3), side, psf);
    expect(agn).toBeLessThan(galaxy);
    expect(agn).toBeGreaterThan(0);
  });
});

describe('SPREAD_MODEL over a radius', () => {
  test('counts no light beyond its radius', () => {
    const psf = defaultVisPsf();
    const host = blob(3, 10);
    const c = Math.floor(side / 2);
    const withRing = Float32Array.from(host, (v, i) => (Math.hypot((i % side) - c, Math.floor(i / side) - c) > 2.5 ? v + 0.5 : v));
    expect(spreadModel(withRing, side, psf, 1.5)).toBe(spreadModel(host, side, psf, 1.5));
    expect(spreadModel(withRing, side, psf, 5)).not.toBe(spreadModel(host, side, psf, 5));
  });

  test("over the core alone, a point source lowers a host's spread by a larger share than over 5 px", () => {
    const psf = defaultVisPsf();
    const host = blob(3, 10);
    const drop = (radius: number) => 1 - spreadModel(withPoint(host, 1), side, psf, radius) / spreadModel(host, side, psf, radius);
    expect(drop(1.5)).toBeGreaterThan(drop(5));
  });
});

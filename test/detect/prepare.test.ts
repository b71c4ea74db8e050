import { describe, expect, test } from '@jest/globals';

import { coreIndices } from '../../src/model/geometry.js';
import { kronFlux, prepareSource, robustSigma } from '../../src/detect/prepare.js';
import { MER_RMS_TO_SIGMA } from '../../src/ground/vis.js';
import { defaultVisPsf } from '../../src/ground/psf.js';
import { seededRandom } from '../helpers/random.js';

const SIDE = 72;
const CROP = 64;
const MASK = { size: 5, shape: 'square' } as const;

function gaussianNoise(n: number, sigma: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: n }, () => sigma * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

/** A round Gaussian blob of total `flux` centred on pixel (cx, cy) of a side x side image. */
function addBlob(image: Float32Array, side: number, cx: number, cy: number, flux: number, width: number): void {
  let norm = 0;
  const values = new Float64Array(side * side);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) norm += values[y * side + x] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * width * width));
  for (let i = 0; i < values.length; i++) image[i]! += (flux * values[i]!) / norm;
}

describe('robustSigma', () => {
  test('recovers the noise of an image with a bright source on it', () => {
    const image = gaussianNoise(SIDE * SIDE, 0.003, 1);
    addBlob(image, SIDE, 36, 36, 50, 3);
    expect(robustSigma(image)).toBeGreaterThan(0.0027);
    expect(robustSigma(image)).toBeLessThan(0.0033);
  });
});

describe('kronFlux', () => {
  test('holds most of a resolved source and nothing of empty sky on average', () => {
    const image = new Float32Array(CROP * CROP);
    addBlob(image, CROP, 32, 32, 10, 2.5);
    const flux = kronFlux(image, CROP);
    expect(flux).toBeGreaterThan(9.3);
    expect(flux).toBeLessThanOrEqual(10.0001);
  });
});

describe('prepareSource', () => {
  const psf = defaultVisPsf();

  test('centres the crop on the brightest pixel and takes the noise from the RMS map', () => {
    const image = gaussianNoise(SIDE * SIDE, 0.0025, 2);
    addBlob(image, SIDE, 38, 33, 5, 1.5);
    const rms = new Float32Array(SIDE * SIDE).fill(0.004);
    const prepared = prepareSource({ pixels: image, width: SIDE, height: SIDE, rms, psf }, CROP, MASK);
    expect([prepared.coreX, prepared.coreY]).toEqual([38, 33]);
    expect(prepared.sigma).toBeCloseTo(Math.fround(0.004) * MER_RMS_TO_SIGMA, 12);
    expect(prepared.flags).toEqual([]);
    expect(prepared.scorable).toBe(true);
    // The observed core is the crop's central 5x5, which is the image's around (38, 33).
    const centre = coreIndices(CROP, MASK);
    expect(Array.from(prepared.observedCore)).toEqual(Array.from(centre, (i) => prepared.crop[i]!));
    expect(prepared.observedCore[12]).toBe(image[33 * SIDE + 38]);
    expect(prepared.totalFlux).toBeGreaterThan(4.5);
    expect(prepared.totalFlux).toBeLessThan(5.5);
  });

  test('estimates the noise from the image and says so when there is no RMS map', () => {
    const image = gaussianNoise(SIDE * SIDE, 0.003, 3);
    addBlob(image, SIDE, 36, 36, 5, 1.5);
    const prepared = prepareSource({ pixels: image, width: SIDE, height: SIDE, psf }, CROP, MASK);
    expect(prepared.flags).toEqual(['no_rms_map']);
    expect(prepared.sigma).toBeGreaterThan(0.0027);
    expect(prepared.sigma).toBeLessThan(0.0033);
  });

  test('flags NaN and zero pixels in the core and NaN outside it, and refuses to score a broken core', () => {
    const image = gaussianNoise(SIDE * SIDE, 0.003, 4);
    addBlob(image, SIDE, 36, 36, 5, 1.5);
    image[36 * SIDE + 37] = Number.NaN;
    image[35 * SIDE + 36] = 0;
    image[5 * SIDE + 5] = Number.NaN;
    const prepared = prepareSource({ pixels: image, width: SIDE, height: SIDE, sigma: 0.003, psf }, CROP, MASK);
    expect(prepared.flags).toEqual(['nan_pixels_in_core', 'zero_pixels_in_core', 'saturated_or_blank']);
    expect(prepared.scorable).toBe(false);
    expect(prepared.crop.every((v) => Number.isFinite(v))).toBe(true);
  });

  test('a window too small for the crop is flagged, not thrown', () => {
    const prepared = prepareSource({ pixels: new Float32Array(40 * 40).fill(1), width: 40, height: 40, sigma: 0.003, psf }, CROP, MASK);
    expect(prepared.flags).toEqual(['core_near_edge']);
    expect(prepared.scorable).toBe(false);
  });
});

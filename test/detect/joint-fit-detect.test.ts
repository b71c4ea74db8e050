import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { defaultCardPath } from '../../src/model/card.js';
import { CoreGenerator } from '../../src/model/generator.js';
import { detectBatch, UNCALIBRATED } from '../../src/detect/detect.js';
import { prepareSource } from '../../src/detect/prepare.js';
import { MER_RMS_TO_SIGMA } from '../../src/ground/vis.js';
import { MICROJANSKY_PER_UNIT } from '../../src/ground/vis.js';
import { simulateObject } from '../../src/sim/products.js';
import { moffatPsf, type Psf } from '../../src/ground/psf.js';
import { psfCoreWeights } from '../../src/model/core-flux.js';
import { shiftPsf, subpixelPeak } from '../../src/detect/joint-fit.js';
import { spreadModel } from '../../src/detect/morphology.js';
import { buildRecipe } from '../../src/sim/recipe.js';

let generator: CoreGenerator;
beforeAll(async () => {
  generator = await CoreGenerator.load(defaultCardPath(), { device: 'cpu', threads: 1 });
});
afterAll(async () => {
  await generator.release();
});

/** Bright grid objects: ids 1..n cycle through the f_PS values. */
function sources(fps: readonly number[], count: number) {
  const recipe = buildRecipe({ mix: 'grid', gridFps: fps, magnitude: [19.5, 20.5] });
  return Array.from({ length: count }, (_, k) => {
    const object = simulateObject(recipe, 5, k + 1, k, 72);
    const prepared = prepareSource(
      { pixels: object.image, rms: object.rms, rmsToSigma: MER_RMS_TO_SIGMA, width: 72, height: 72, psf: { size: object.psfSize, data: object.psf } },
      generator.crop,
      generator.mask,
    );
    return { prepared, objectId: BigInt(k + 1), truth: object.truth };
  });
}

const sampling = { samples: 16, solver: { steps: 4, method: 'heun' as const }, seed: 3 };

describe('the joint point-source fit', () => {
  test('recovers more of a point source than regenerating the core from the context as observed', async () => {
    const stars = sources([1], 6);
    const plain = await detectBatch(generator, stars, { ...sampling, jointFit: false }, UNCALIBRATED);
    const joint = await detectBatch(generator, stars, { ...sampling, jointFit: true }, UNCALIBRATED);
    stars.forEach((star, k) => {
      const truth = Number(star.truth.flux_point) / MICROJANSKY_PER_UNIT;
      expect(Math.abs(joint[k]!.psFlux - truth)).toBeLessThan(Math.abs(plain[k]!.psFlux - truth));
      // The point source subtracted before the last regeneration is kept for inspection: near the true flux, at the sub-pixel peak.
      const fitted = joint[k]!.pointSource!;
      expect(Math.abs(fitted.amplitude - truth)).toBeLessThan(0.2 * truth);
      expect(Math.max(Math.abs(fitted.dx), Math.abs(fitted.dy))).toBeLessThanOrEqual(0.5);
      expect(plain[k]!.pointSource).toBeUndefined();
    });
  });

  test("computes SPREAD_MODEL over the card's radius, at the sub-pixel peak", async () => {
    const galaxies = sources([0, 0.3], 4);
    for (const radius of [1.5, 5]) {
      const scores = await detectBatch(generator, galaxies, { ...sampling, jointFit: false }, { ...UNCALIBRATED, morphology_radius: radius });
      galaxies.forEach(({ prepared }, k) => {
        const { dx, dy } = subpixelPeak(prepared.crop, generator.crop);
        expect(scores[k]!.spreadModel).toBe(spreadModel(prepared.crop, generator.crop, shiftPsf(prepared.psf, dx, dy), radius));
      });
    }
  });

  test('does not invent point sources in normal galaxies: their f_ps stays near zero', async () => {
    const galaxies = sources([0], 12);
    const joint = await detectBatch(generator, galaxies, { ...sampling, jointFit: true }, UNCALIBRATED);
    const fps = joint.map((s) => s!.fPs!).sort((a, b) => a - b);
    expect(Math.abs(fps[fps.length >> 1]!)).toBeLessThan(0.05);
  });
});

test('a batch in which no source has a positive excess needs no second regeneration', async () => {
  const [galaxy] = sources([0], 1);
  const [plain] = await detectBatch(generator, [galaxy!], { ...sampling, jointFit: false }, UNCALIBRATED);
  // Subtracting the regenerated mean leaves a core below every regeneration: no excess to fit.
  const dim = { ...galaxy!, prepared: { ...galaxy!.prepared, observedCore: galaxy!.prepared.observedCore.map((v) => v - 10 * Math.abs(plain!.psFlux) - 1) } };
  const [joint] = await detectBatch(generator, [dim], { ...sampling, jointFit: true }, UNCALIBRATED);
  expect(joint!.psFlux).toBeLessThan(0);
});

/**
 * A generator that knows compact galaxies too well: it regenerates the core as the PSF core that the
 * light in the ring around it implies (the 7x7 box less the 5x5 core), with a spread of 30% of that
 * flux, so a star's wings bring its whole core back and nothing is left to fit at a = 0.
 */
function ringTrustingGenerator(psf: Psf): CoreGenerator {
  const crop = 64;
  const mask = { size: 5, shape: 'square' } as const;
  const core = psfCoreWeights(psf, mask);
  const ring = (image: ArrayLike<number>, side: number, centre: number) => {
    let sum = 0;
    for (let y = -3; y <= 3; y++) for (let x = -3; x <= 3; x++) if (Math.max(Math.abs(x), Math.abs(y)) === 3) sum += image[(centre + y) * side + centre + x]!;
    return sum;
  };
  const ringShare = ring(psf.data, psf.size, (psf.size - 1) / 2);
  const fake = {
    crop,
    mask,
    corePixels: core.length,
    jointFit: true,
    encode: async (crops: Float32Array, sigma: Float32Array) => Array.from(sigma, (_, g) => ring(crops.subarray(g * crop * crop), crop, crop / 2) / ringShare),
    sample: async (implied: number[], samples: number, noise: Float32Array) => {
      const cores = new Float32Array(implied.length * samples * core.length);
      implied.forEach((flux, g) => {
        for (let s = 0; s < samples; s++) {
          const row = (g * samples + s) * core.length;
          for (let i = 0; i < core.length; i++) cores[row + i] = flux * (1 + 0.3 * noise[row]!) * core[i]! + 0.01 * noise[row + i]!;
        }
      });
      return cores;
    },
  };
  return fake as unknown as CoreGenerator;
}

describe('the joint fit with a generator that regenerates point sources from their wings', () => {
  const psf = moffatPsf(0.18);
  const prepare = (image: Float32Array) =>
    prepareSource({ pixels: image, rms: new Float32Array(72 * 72).fill(0.005), rmsToSigma: MER_RMS_TO_SIGMA, width: 72, height: 72, psf }, 64, { size: 5, shape: 'square' });
  const star = new Float32Array(72 * 72);
  const half = (psf.size - 1) / 2;
  for (let j = 0; j < psf.size; j++) for (let i = 0; i < psf.size; i++) star[(36 - half + j) * 72 + 36 - half + i] = 100 * psf.data[j * psf.size + i]!;
  const galaxy = Float32Array.from({ length: 72 * 72 }, (_, p) => 100 * Math.exp(-((Math.floor(p / 72) - 36) ** 2 + ((p % 72) - 36) ** 2) / (2 * 6 ** 2)) / (2 * Math.PI * 36));

  test('finds the star as all point source, where nothing is left of the host once its core is removed', async () => {
    const [scores] = await detectBatch(ringTrustingGenerator(psf), [{ prepared: prepare(star), objectId: 1n }], { ...sampling, jointFit: true }, UNCALIBRATED);
    expect(scores!.pointSource!.amplitude).toBeCloseTo(100, 0);
    expect(scores!.psFlux).toBeGreaterThan(95);
    expect(scores!.z).toBeGreaterThan(50);
  });

  test('leaves an extended galaxy, whose ring keeps its light once a point source is removed, without one', async () => {
    const [scores] = await detectBatch(ringTrustingGenerator(psf), [{ prepared: prepare(galaxy), objectId: 2n }], { ...sampling, jointFit: true }, UNCALIBRATED);
    expect(scores!.pointSource).toBeUndefined();
    expect(scores!.z).toBeLessThan(0);
  });
});

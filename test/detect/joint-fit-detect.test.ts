import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { defaultCardPath } from '../../src/model/card.js';
import { CoreGenerator } from '../../src/model/generator.js';
import { detectBatch, UNCALIBRATED } from '../../src/detect/detect.js';
import { prepareSource } from '../../src/detect/prepare.js';
import { MER_RMS_TO_SIGMA } from '../../src/ground/vis.js';
import { MICROJANSKY_PER_UNIT } from '../../src/ground/vis.js';
import { simulateObject } from '../../src/sim/products.js';
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

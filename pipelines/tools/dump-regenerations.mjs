#!/usr/bin/env node
/**
 * Saves, for every scorable stamp of simulated shards, what the generative statistics are computed
 * from: the observed core, the final S regenerations (after the joint fit) and the PSF weights under
 * the core, with the truth, magnitude, noise sigma and SPREAD_MODEL. `statistic-variants.mjs` then
 * tries other statistics on exactly these regenerations, without running the generator again
 * (docs/detection.md, "The studentised matched filter"). Needs `npm run build`.
 *
 *   OUT=dumps CARD=models/default/card.json node pipelines/tools/dump-regenerations.mjs sims/cal-r25 sims/grid-r37
 *
 * Writes OUT/<shard folder name>.{samples,obs,w}.f32 (float32, little-endian) and .meta.json. About
 * 6.5 kB per stamp at S = 64.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CoreGenerator } from '../../dist/model/generator.js';
import { readShards } from '../../dist/sim/read-shards.js';
import { scoreShards } from '../../dist/detect/shards.js';
import { placePsf } from '../../dist/detect/joint-fit.js';
import { psfCoreWeights } from '../../dist/model/core-flux.js';
import { fluxToMag, MER_RMS_TO_SIGMA } from '../../dist/ground/vis.js';

const card = process.env.CARD ?? new URL('../../models/default/card.json', import.meta.url).pathname;
const out = process.env.OUT ?? 'dumps';
const dirs = process.argv.slice(2);
if (dirs.length === 0) throw new Error('give one or more shard folders (vis-agn simulate shards)');
mkdirSync(out, { recursive: true });
const generator = await CoreGenerator.load(card, { device: 'cpu', threads: Number(process.env.THREADS ?? 2) });
const S = generator.loaded.card.sampler.samples;
const steps = generator.loaded.card.sampler.steps;
const P = generator.corePixels;
try {
  for (const dir of dirs) {
    const shards = readShards(dir);
    const sampling = { samples: S, solver: { steps, method: 'heun' }, seed: 1 };
    const scored = (await scoreShards(generator, shards, { sampling, calibration: generator.loaded.card.significance, rmsToSigma: MER_RMS_TO_SIGMA })).filter((r) => r.scores);
    const samples = new Float32Array(scored.length * S * P);
    const observed = new Float32Array(scored.length * P);
    const weights = new Float32Array(scored.length * P);
    const meta = scored.map((r, i) => {
      samples.set(r.scores.samples, i * S * P);
      observed.set(r.prepared.observedCore, i * P);
      const { psf } = placePsf(r.prepared.crop, generator.crop, r.prepared.psf, Math.floor(generator.mask.size / 2));
      weights.set(psfCoreWeights(psf, generator.mask), i * P);
      const magnitude = r.prepared.totalFlux > 0 ? fluxToMag(r.prepared.totalFlux) : null;
      return { index: r.index, fps: r.truth.fps, cls: r.truth.cls, mag: r.truth.mag, kmag: magnitude, sigma: r.prepared.sigma, spread: r.scores.spreadModel };
    });
    const name = path.basename(path.resolve(dir));
    writeFileSync(path.join(out, `${name}.samples.f32`), Buffer.from(samples.buffer));
    writeFileSync(path.join(out, `${name}.obs.f32`), Buffer.from(observed.buffer));
    writeFileSync(path.join(out, `${name}.w.f32`), Buffer.from(weights.buffer));
    writeFileSync(path.join(out, `${name}.meta.json`), JSON.stringify({ card: generator.loaded.card.name, samples: S, pixels: P, meta }));
    process.stdout.write(`${name}: ${scored.length} stamps\n`);
  }
} finally {
  await generator.release();
}

/**
 * How good are the regenerations? On held-out simulated normal galaxies (truth class 'galaxy'):
 *  - calibration: does the observed core's PSF-weighted flux fall inside the central 68% / 95% of its
 *    regenerated samples for 68% / 95% of galaxies?
 *  - accuracy: median |regenerated - observed| / observed core flux per magnitude bin, against a
 *    rescaling baseline (the ring around the core times the population's median core-to-ring ratio,
 *    fitted on the other half of the galaxies).
 */
import { availableParallelism } from 'node:os';
import { InvalidInputError } from '../errors.js';
import { coreSum, cropCore, psfCoreWeights, psfWeightedFlux } from './core-flux.js';
import { q1Psfs } from '../ground/psf.js';
import { readShards } from '../sim/read-shards.js';
import { median, quantileOf } from '../ground/stats.js';
import { cardSolverMethod } from './card.js';
import { CoreGenerator } from './generator.js';
import { samplerNoise } from './noise.js';
import { centreOnCore } from './preprocess.js';
import type { DeviceRequest } from './runtime.js';
import type { FlowMethod } from './sampler.js';

export interface QualityOptions {
  readonly cardPath: string;
  readonly shards: string;
  readonly limit: number;
  readonly samples: number;
  readonly steps?: number;
  readonly method?: FlowMethod;
  readonly seed: number;
  readonly batch?: number;
  readonly temperature?: number;
  readonly device?: DeviceRequest;
  readonly threads?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface MagnitudeBin {
  readonly mag: readonly [number, number];
  readonly count: number;
  readonly medianRelErrorModel: number;
  readonly medianRelErrorRescaling: number;
}

export interface QualityReport {
  readonly galaxies: number;
  readonly provider: string;
  readonly temperature: number;
  readonly samples: number;
  readonly steps: number;
  readonly method: FlowMethod;
  readonly coverage68: number;
  readonly coverage95: number;
  /** Mean of the observed flux's rank among the samples, as a fraction: 0.5 when unbiased. */
  readonly meanRank: number;
  readonly bins: readonly MagnitudeBin[];
  readonly overall: { readonly medianRelErrorModel: number; readonly medianRelErrorRescaling: number };
}

export async function measureQuality(options: QualityOptions): Promise<QualityReport> {
  const stamps = readShards(options.shards);
  const generator = await CoreGenerator.load(options.cardPath, { device: options.device ?? 'cpu', threads: options.threads ?? availableParallelism() });
  const { card } = generator.loaded;
  const mask = generator.mask;
  const pixels = generator.corePixels;
  const ringBox = { size: mask.size + 2, shape: 'square' } as const;
  const crop = card.geometry.crop;
  const steps = options.steps ?? card.sampler.steps;
  const method = options.method ?? cardSolverMethod(card);
  const temperature = options.temperature ?? generator.temperature;
  const psfByName = new Map(q1Psfs().map((p) => [p.name, psfCoreWeights(p, mask)]));
  const chosen = stamps.truth.map((t, i) => ({ ...t, index: i })).filter((t) => t.cls === 'galaxy' && psfByName.has(t.psf)).slice(0, options.limit);
  const stampPixels = stamps.side * stamps.side;
  const batch = options.batch ?? 64;
  const rows: { mag: number; inside68: boolean; inside95: boolean; rank: number; observedSum: number; regeneratedSum: number; ringSum: number }[] = [];
  try {
    for (let start = 0; start < chosen.length; start += batch) {
      const group = chosen.slice(start, start + batch);
      const crops = new Float32Array(group.length * crop * crop);
      const sigma = new Float32Array(group.length);
      group.forEach((g, k) => {
        const image = stamps.images.subarray(g.index * stampPixels, (g.index + 1) * stampPixels);
        const c = centreOnCore(image, stamps.side, stamps.side, { crop });
        if (c === undefined) throw new InvalidInputError(`stamp ${g.index} too small for the crop`, { file: options.shards });
        crops.set(c.pixels, k * crop * crop);
        sigma[k] = stamps.sigma[g.index]!;
      });
      const encoded = await generator.encode(crops, sigma);
      const noise = new Float32Array(group.length * options.samples * pixels);
      group.forEach((g, k) => samplerNoise(options.seed, g.objectId, options.samples, pixels, noise.subarray(k * options.samples * pixels, (k + 1) * options.samples * pixels)));
      const cores = await generator.sample(encoded, options.samples, noise, { steps, method }, temperature);
      group.forEach((g, k) => {
        const own = crops.subarray(k * crop * crop, (k + 1) * crop * crop);
        const observed = cropCore(own, crop, mask);
        const ring = cropCore(own, crop, ringBox);
        const weights = psfByName.get(g.psf)!;
        const sampleFlux = new Float64Array(options.samples);
        let regenerated = 0;
        for (let s = 0; s < options.samples; s++) {
          const offset = (k * options.samples + s) * pixels;
          sampleFlux[s] = psfWeightedFlux(cores, weights, offset);
          regenerated += coreSum(cores, pixels, offset) / options.samples;
        }
        sampleFlux.sort();
        const flux = psfWeightedFlux(observed, weights);
        const below = sampleFlux.filter((f) => f < flux).length;
        const observedSum = coreSum(observed, pixels);
        rows.push({
          mag: g.mag,
          inside68: flux >= quantileOf(sampleFlux, 0.16) && flux <= quantileOf(sampleFlux, 0.84),
          inside95: flux >= quantileOf(sampleFlux, 0.025) && flux <= quantileOf(sampleFlux, 0.975),
          rank: (below + 0.5) / (options.samples + 1),
          observedSum,
          regeneratedSum: regenerated,
          ringSum: coreSum(ring, ring.length) - observedSum,
        });
      });
      options.onProgress?.(Math.min(start + batch, chosen.length), chosen.length);
    }
  } finally {
    await generator.release();
  }
  // The rescaling baseline's ratio comes from the even rows, its errors from the odd ones (and the
  // model's errors from the same odd rows, so the two columns compare like with like).
  const ratio = median(rows.filter((_, i) => i % 2 === 0).map((r) => r.observedSum / r.ringSum));
  const evaluated = rows.filter((_, i) => i % 2 === 1);
  const relError = (predicted: number, observed: number) => Math.abs(predicted - observed) / Math.abs(observed);
  const edges = [19, 20, 21, 22, 23, 24, 25];
  const bins: MagnitudeBin[] = [];
  for (let b = 0; b + 1 < edges.length; b++) {
    const inBin = evaluated.filter((r) => r.mag >= edges[b]! && r.mag < edges[b + 1]!);
    bins.push({
      mag: [edges[b]!, edges[b + 1]!],
      count: inBin.length,
      medianRelErrorModel: median(inBin.map((r) => relError(r.regeneratedSum, r.observedSum))),
      medianRelErrorRescaling: median(inBin.map((r) => relError(r.ringSum * ratio, r.observedSum))),
    });
  }
  const provider = generator.provider;
  const fraction = (f: (r: (typeof rows)[number]) => boolean) => rows.filter(f).length / rows.length;
  return {
    galaxies: rows.length,
    provider,
    temperature,
    samples: options.samples,
    steps,
    method,
    coverage68: fraction((r) => r.inside68),
    coverage95: fraction((r) => r.inside95),
    meanRank: rows.reduce((a, r) => a + r.rank, 0) / rows.length,
    bins,
    overall: {
      medianRelErrorModel: median(evaluated.map((r) => relError(r.regeneratedSum, r.observedSum))),
      medianRelErrorRescaling: median(evaluated.map((r) => relError(r.ringSum * ratio, r.observedSum))),
    },
  };
}

/**
 * The temperature at which the samples' central 68% interval covers the observed core flux of 68% of
 * the galaxies in `options.shards` (bisection; coverage grows with temperature). Fit it on one
 * held-out set and report quality on another.
 */
export async function fitTemperature(options: QualityOptions, low = 0.5, high = 4, iterations = 10): Promise<number> {
  for (let i = 0; i < iterations; i++) {
    const middle = 0.5 * (low + high);
    const { coverage68 } = await measureQuality({ ...options, temperature: middle });
    if (coverage68 < 0.68) low = middle;
    else high = middle;
  }
  return 0.5 * (low + high);
}

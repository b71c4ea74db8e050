/**
 * Detection on simulated training shards (src/sim/shards.ts) with their truth, without writing FITS:
 * the same preparation and scores as `vis-agn run` on the cutouts (a shard stamp is the centre of the
 * cutout of the same seed and id), used to calibrate the significance and to measure completeness.
 */

import type { CoreGenerator } from '../model/generator.js';
import { q1Psfs, type Psf } from '../ground/psf.js';
import type { Shards, ShardTruth } from '../sim/read-shards.js';
import type { ScoreCalibration } from '../model/card.js';
import { detectBatch, type SamplingOptions, type SourceScores } from './detect.js';
import { prepareSource, type PreparedSource } from './prepare.js';

export interface ScoredStamp {
  readonly index: number;
  readonly truth: ShardTruth;
  readonly prepared: PreparedSource;
  readonly scores: SourceScores | undefined;
}

export interface ShardScoring {
  readonly sampling: SamplingOptions;
  readonly calibration: ScoreCalibration;
  readonly rmsToSigma: number;
  readonly batch?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Scores the stamps at `indices` (all by default), in order. */
export async function scoreShards(generator: CoreGenerator, shards: Shards, scoring: ShardScoring, indices?: readonly number[]): Promise<ScoredStamp[]> {
  const psfs = new Map<string, Psf>(q1Psfs().map((p) => [p.name, p]));
  const chosen = indices ?? shards.truth.map((_, i) => i);
  const pixels = shards.side * shards.side;
  const batch = scoring.batch ?? 128;
  const out: ScoredStamp[] = [];
  for (let start = 0; start < chosen.length; start += batch) {
    const group = chosen.slice(start, start + batch).map((index) => {
      const truth = shards.truth[index]!;
      const psf = psfs.get(truth.psf);
      if (psf === undefined) throw new RangeError(`stamp ${index}: PSF ${truth.psf} is not one of the Q1 stamps`);
      const prepared = prepareSource(
        {
          pixels: shards.images.slice(index * pixels, (index + 1) * pixels),
          rms: shards.rms.subarray(index * pixels, (index + 1) * pixels),
          rmsToSigma: scoring.rmsToSigma,
          width: shards.side,
          height: shards.side,
          psf,
        },
        generator.crop,
        generator.mask,
      );
      return { index, truth, prepared, objectId: truth.objectId };
    });
    const scores = await detectBatch(generator, group, scoring.sampling, scoring.calibration);
    group.forEach((g, k) => out.push({ index: g.index, truth: g.truth, prepared: g.prepared, scores: scores[k] }));
    scoring.onProgress?.(Math.min(chosen.length, start + batch), chosen.length);
  }
  return out;
}

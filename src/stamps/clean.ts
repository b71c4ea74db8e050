/**
 * Self-cleaning for label-free training. Observed stamps hold a few per cent of AGN, QSOs and stars,
 * whose cores a generator trained on them learns to regenerate: the null hypothesis it tests drifts
 * towards point sources. A cleaning round scores every training stamp with the model trained on them
 * and lists the most significant, which the next round leaves out (train.py --exclude). No label is
 * used: the score is the model's own, against the survey's PSF (the mean Q1 VIS PSF where the stamps
 * carry none).
 */

import { writeAtomically } from '../atomic-file.js';
import { defaultVisPsf, type Psf } from '../ground/psf.js';
import type { CoreGenerator } from '../model/generator.js';
import type { ShardArrays } from '../sim/read-shards.js';
import { detectBatch, UNCALIBRATED, type SamplingOptions } from '../detect/detect.js';
import { prepareSource } from '../detect/prepare.js';
import { UsageError } from '../errors.js';

export interface CleaningOptions {
  /** Fraction of the stamps to leave out, the most significant first (0 < fraction < 1). */
  readonly fraction: number;
  readonly sampling: SamplingOptions;
  readonly rmsToSigma: number;
  readonly psf?: Psf;
  readonly batch?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface CleaningRound {
  readonly scored: number;
  /** Stamp indices (0-based, shard order) to leave out, ascending. */
  readonly excluded: readonly number[];
  /** The raw z from which stamps were left out. */
  readonly zThreshold: number;
}

/**
 * The stamps whose raw excess z ranks in the top `fraction`; unscorable stamps (empty core, no noise)
 * are left out as well, since they teach the generator nothing it should learn.
 */
export async function cleaningRound(generator: CoreGenerator, stamps: ShardArrays, options: CleaningOptions): Promise<CleaningRound> {
  if (!(options.fraction > 0 && options.fraction < 1)) throw new UsageError(`the cleaning fraction must lie in (0, 1), got ${options.fraction}`);
  const psf = options.psf ?? defaultVisPsf();
  const pixels = stamps.side * stamps.side;
  const batch = options.batch ?? 128;
  const z = new Float64Array(stamps.count).fill(Number.POSITIVE_INFINITY);
  for (let start = 0; start < stamps.count; start += batch) {
    const group = Array.from({ length: Math.min(batch, stamps.count - start) }, (_, k) => {
      const index = start + k;
      const prepared = prepareSource(
        {
          pixels: stamps.images.slice(index * pixels, (index + 1) * pixels),
          ...(stamps.rms === undefined ? { sigma: stamps.sigma[index]! } : { rms: stamps.rms.subarray(index * pixels, (index + 1) * pixels) }),
          rmsToSigma: options.rmsToSigma,
          width: stamps.side,
          height: stamps.side,
          psf,
        },
        generator.crop,
        generator.mask,
      );
      // The stamp's index is its identity here: observed stamps need no catalogue id to be cleaned reproducibly.
      return { prepared, objectId: BigInt(index) };
    });
    const scores = await detectBatch(generator, group, options.sampling, UNCALIBRATED);
    scores.forEach((s, k) => {
      if (s !== undefined && Number.isFinite(s.z)) z[start + k] = s.z;
    });
    options.onProgress?.(start + group.length, stamps.count);
  }
  const order = Array.from(z.keys()).sort((a, b) => z[b]! - z[a]! || a - b);
  const count = Math.max(1, Math.round(options.fraction * stamps.count));
  const excluded = order.slice(0, count).sort((a, b) => a - b);
  return { scored: stamps.count, excluded, zThreshold: z[order[count - 1]!]! };
}

/** The list train.py --exclude reads: a header saying how it was made, then one index per line. */
export async function writeExclusions(file: string, round: CleaningRound, note: string): Promise<void> {
  const header = `# ${note}: ${round.excluded.length} of ${round.scored} stamps, raw z >= ${round.zThreshold.toFixed(3)}\n`;
  await writeAtomically(file, (out) => out.write(Buffer.from(header + round.excluded.map((i) => `${i}\n`).join(''))));
}

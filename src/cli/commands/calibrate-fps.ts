/**
 * `vis-agn calibrate-fps --shards DIR... [--per-magnitude N] [--write-card]`: fits the f_PS regression
 * (detect/fps-estimate.ts) on simulated shards of known f_PS (a grid mix, seeds used neither in
 * training nor in evaluation) and, when asked, stores it in the model card as `significance.f_ps`,
 * with the shards and the scoring it was fitted with. The detection scores are untouched.
 */

import { readFileSync } from 'node:fs';

import type { Command } from 'commander';

import { writeAtomically } from '../../atomic-file.js';
import type { ModelCard } from '../../model/card.js';
import { fpsSamples } from '../../detect/calibrate.js';
import { fitFps, type FpsSample } from '../../detect/fps-estimate.js';
import { MER_RMS_TO_SIGMA } from '../../ground/vis.js';
import { readShards } from '../../sim/read-shards.js';
import { UsageError } from '../../errors.js';
import { calibrationOptions, calibrationScoring, numberOption, type CalibrationCommandOptions } from '../options.js';
import { stderrProgress } from '../progress.js';

interface CalibrateFpsOptions extends CalibrationCommandOptions {
  shards: string[];
  perMagnitude: string;
  writeCard?: boolean;
}

export function register(program: Command): void {
  calibrationOptions(program.command('calibrate-fps'))
    .description('fit the f_PS regression (on the generative ratio and SPREAD_MODEL, per magnitude) on simulated shards of known f_PS')
    .requiredOption('--shards <dirs...>', 'folders of simulated shards with AGN, QSOs and stars (vis-agn simulate shards --mix grid), seeds used neither in training nor in evaluation')
    .option('--per-magnitude <n>', 'sources per magnitude bin, each with its own regression', '3000')
    .option('--write-card', 'store the regression in the model card (significance.f_ps)')
    .action(async (options: CalibrateFpsOptions) => {
      const perBin = numberOption('--per-magnitude', options.perMagnitude, { min: 100, integer: true });
      const folders = options.shards.map((dir) => readShards(dir));
      // The ratio depends on how the host was regenerated: fitted with the scoring the card runs.
      const { generator, sampling } = await calibrationScoring(options);
      const morphologyRadius = generator.loaded.card.significance?.morphology_radius;
      const samples: FpsSample[] = [];
      try {
        for (const shards of folders) samples.push(...(await fpsSamples(generator, shards, sampling, MER_RMS_TO_SIGMA, morphologyRadius, stderrProgress(`calibrate-fps ${shards.dir}`, false, 'sources'))));
      } finally {
        await generator.release();
      }
      process.stderr.write('\n');
      if (!samples.some((s) => s.trueFps > 0 && s.trueFps < 1)) throw new UsageError(`no AGN or QSO among the shards of ${options.shards.join(', ')}: simulate them with --mix grid`);
      const fit = fitFps(samples, perBin);
      process.stdout.write(`f_PS regression: ${samples.length} sources, ${fit.calibration.magnitudes.length} magnitude bins\n`);
      fit.calibration.magnitudes.forEach((magnitude, b) => process.stdout.write(`  I_E ${magnitude.toFixed(2)}: ${fit.binSources[b]} sources, f_PS RMSE ${fit.binRmse[b]!.toFixed(3)} on its AGN/QSOs, ps_flux_err x ${fit.calibration.ps_flux_err_scale[b]!.toFixed(2)}\n`));
      if (options.writeCard === true) {
        const card = JSON.parse(readFileSync(options.model, 'utf8')) as ModelCard;
        const round = (x: number) => Number(x.toPrecision(7));
        const f_ps = {
          features: fit.calibration.features,
          magnitudes: fit.calibration.magnitudes.map(round),
          mean: fit.calibration.mean.map((row) => row.map(round)),
          variance: fit.calibration.variance.map((row) => row.map(round)),
          ps_flux_err_scale: fit.calibration.ps_flux_err_scale.map(round),
          sources: fit.binSources,
          shards: folders.map((s) => ({ seed: s.manifest.seed, recipe_digest: s.manifest.recipeDigest, count: s.truth.length })),
          sampler_seed: sampling.seed,
          samples: sampling.samples,
          joint_fit: sampling.jointFit,
          ...(morphologyRadius === undefined ? {} : { morphology_radius: morphologyRadius }),
        };
        const updated = { ...card, significance: { ...card.significance, f_ps } };
        await writeAtomically(options.model, (file) => file.write(Buffer.from(`${JSON.stringify(updated, null, 1)}\n`)));
        process.stdout.write(`wrote the f_PS regression into ${options.model}\n`);
      }
    });
}

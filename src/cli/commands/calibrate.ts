/**
 * `vis-agn calibrate --shards DIR [--joint-fit on|off] [--per-magnitude N] [--write-card]`: fits the
 * significance calibration of a model on held-out simulated normal galaxies (for all of them and per
 * magnitude bin of N galaxies) and, when asked, stores it in the model card (graphs untouched),
 * together with the scoring it was fitted for (the joint point-source fit or not, the samples), since
 * a calibration holds only for the scores it was fitted on.
 */

import { readFileSync } from 'node:fs';

import type { Command } from 'commander';

import { writeAtomically } from '../../atomic-file.js';
import { DEFAULT_GENERATIVE_FAINT_LIMIT, DEFAULT_GENERATIVE_STATISTIC, DEFAULT_NUCLEUS_ALLOWANCE, DEFAULT_SPREAD_RADIUS, fitScoreCalibration, rawGalaxyScores, type GalaxyScores, type MagnitudeFit } from '../../detect/calibrate.js';
import { GENERATIVE_STATISTICS, type GenerativeStatistic, type ModelCard, type SignificanceMap } from '../../model/card.js';
import { MER_RMS_TO_SIGMA } from '../../ground/vis.js';
import { readShards } from '../../sim/read-shards.js';
import { UsageError } from '../../errors.js';
import { calibrationOptions, calibrationScoring, numberOption, type CalibrationCommandOptions } from '../options.js';
import { stderrProgress } from '../progress.js';

interface CalibrateOptions extends CalibrationCommandOptions {
  shards: string;
  limit: string;
  jointFit?: string;
  perMagnitude: string;
  generativeFaintLimit: string;
  morphologyRadius: string;
  generativeStatistic: string;
  nucleusAllowance: string;
  writeCard?: boolean;
}

const STATISTIC_NAMES: Record<GenerativeStatistic, string> = { studentised_matched_filter: "PSF's matched filter, studentised", matched_filter: "PSF's matched filter", projection: 'excess along the PSF over its spread' };

export function register(program: Command): void {
  calibrationOptions(program.command('calibrate'))
    .description("fit the significance calibrations (agn_z, morph_z and combined_z ~ N(0, 1) on normal galaxies) on held-out simulated training shards")
    .requiredOption('--shards <dir>', 'a folder of held-out training shards (vis-agn simulate shards, a seed used neither in training nor in evaluation)')
    .option('--limit <n>', 'normal galaxies to use', '20000')
    .option('--per-magnitude <n>', 'galaxies per magnitude bin, each with its own map (0: one map for all magnitudes)', '2000')
    .option('--generative-faint-limit <I_E>', "I_E from which combined_z is the morphology test alone ('none': the larger of both everywhere; docs/detection.md)", String(DEFAULT_GENERATIVE_FAINT_LIMIT))
    .option('--morphology-radius <px>', 'radius of the pixels around the core SPREAD_MODEL (morph_z) is computed over', String(DEFAULT_SPREAD_RADIUS))
    .option('--generative-statistic <name>', "agn_z's raw z: 'studentised_matched_filter' (the matched filter over the scale of the residual off the PSF), 'matched_filter' (the PSF's matched filter through the regenerations' covariance) or 'projection' (ps_flux / ps_flux_err)", DEFAULT_GENERATIVE_STATISTIC)
    .option('--nucleus-allowance <fraction>', "the matched filters' null allows a nucleus of up to this fraction of the source's light (docs/detection.md)", String(DEFAULT_NUCLEUS_ALLOWANCE))
    .option('--joint-fit <on|off>', "score with the joint point-source fit (default: the card's choice)")
    .option('--write-card', 'store the calibration, and the joint-fit choice, in the model card')
    .action(async (options: CalibrateOptions) => {
      if (options.jointFit !== undefined && options.jointFit !== 'on' && options.jointFit !== 'off') throw new UsageError(`--joint-fit must be on or off, got '${options.jointFit}'`);
      const shards = readShards(options.shards);
      const { generator, sampling } = await calibrationScoring(options, options.jointFit === undefined ? undefined : options.jointFit === 'on');
      const jointFit = sampling.jointFit!;
      const perBin = numberOption('--per-magnitude', options.perMagnitude, { min: 0, integer: true });
      const generativeFaintLimit = options.generativeFaintLimit === 'none' ? Number.POSITIVE_INFINITY : numberOption('--generative-faint-limit', options.generativeFaintLimit, { min: 15, max: 30 });
      const morphologyRadius = numberOption('--morphology-radius', options.morphologyRadius, { min: 1, max: 10 });
      const statistic = options.generativeStatistic as GenerativeStatistic;
      if (!GENERATIVE_STATISTICS.includes(statistic)) throw new UsageError(`--generative-statistic must be one of ${GENERATIVE_STATISTICS.join(', ')}, got '${options.generativeStatistic}'`);
      const nucleusAllowance = numberOption('--nucleus-allowance', options.nucleusAllowance, { min: 0, max: 0.49 });
      if (perBin > 0 && perBin < 100) throw new UsageError(`--per-magnitude needs at least 100 galaxies per bin (or 0 for none), got ${perBin}`);
      let galaxies: GalaxyScores[];
      try {
        galaxies = await rawGalaxyScores(generator, shards, sampling, MER_RMS_TO_SIGMA, numberOption('--limit', options.limit, { min: 100, integer: true }), morphologyRadius, statistic, stderrProgress('calibrate', false, 'galaxies'), nucleusAllowance);
      } finally {
        await generator.release();
      }
      process.stderr.write('\n');
      const fits = fitScoreCalibration(galaxies, perBin, generativeFaintLimit);
      process.stdout.write(`agn_z from the ${STATISTIC_NAMES[statistic]}\n`);
      if (Number.isFinite(generativeFaintLimit)) process.stdout.write(`combined_z: the larger of agn_z and morph_z at I_E < ${generativeFaintLimit}, morph_z alone from there on\n`);
      const report = (score: string, fit: MagnitudeFit) => {
        process.stdout.write(`${score}: ${fit.galaxies} galaxies, raw median ${fit.offset.toFixed(4)}, half 68% width ${fit.scale.toFixed(4)}, ${fit.knots!.from.length} quantile knots; after calibration ${(100 * fit.aboveThree).toFixed(2)}% have ${score} > 3 (N(0, 1): 0.13%)\n`);
        fit.by_magnitude?.magnitudes.forEach((magnitude, b) =>
          process.stdout.write(`  I_E ${magnitude.toFixed(2)}: ${fit.binGalaxies[b]} galaxies, raw median ${fit.by_magnitude!.maps[b]!.offset.toFixed(3)}, half 68% width ${fit.by_magnitude!.maps[b]!.scale.toFixed(3)}; ${(100 * fit.binAboveThree[b]!).toFixed(2)}% above 3\n`),
        );
      };
      report('agn_z', fits.generative);
      report('morph_z', fits.morphology);
      report('combined_z', fits.combined);
      if (perBin > 0 && fits.generative.by_magnitude === undefined) process.stdout.write(`fewer than ${2 * perBin} galaxies with a magnitude: one map for all magnitudes\n`);
      if (options.writeCard === true) {
        const card = JSON.parse(readFileSync(options.model, 'utf8')) as ModelCard;
        const round = (x: number) => Number(x.toFixed(5));
        const tails = (map: SignificanceMap) => (map.knots?.tail_scales === undefined ? {} : { tail_scales: { lower: round(map.knots.tail_scales.lower), upper: round(map.knots.tail_scales.upper) } });
        const rounded = (map: SignificanceMap) => ({ offset: round(map.offset), scale: round(map.scale), knots: { from: map.knots!.from.map(round), to: map.knots!.to, ...tails(map) } });
        const stored = (fit: MagnitudeFit) => ({
          ...rounded(fit),
          ...(fit.by_magnitude === undefined ? {} : { by_magnitude: { magnitudes: fit.by_magnitude.magnitudes.map(round), maps: fit.by_magnitude.maps.map(rounded), galaxies: fit.binGalaxies } }),
          galaxies: fit.galaxies,
        });
        const significance = { ...stored(fits.generative), generative_statistic: statistic, ...(nucleusAllowance > 0 ? { nucleus_allowance: nucleusAllowance } : {}), morphology: stored(fits.morphology), combined: stored(fits.combined), ...(Number.isFinite(generativeFaintLimit) ? { generative_faint_limit: generativeFaintLimit } : {}), morphology_radius: morphologyRadius, shards_seed: shards.manifest.seed, shards_recipe_digest: shards.manifest.recipeDigest, sampler_seed: sampling.seed, samples: sampling.samples };
        // The f_PS regression is fitted on the generative ratio and SPREAD_MODEL, which these maps do not
        // change: it stays, unless the joint fit changes the ratio or another radius SPREAD_MODEL.
        const previous = card.significance?.f_ps;
        const fpsRegression = previous?.joint_fit === jointFit && previous.morphology_radius === morphologyRadius ? previous : undefined;
        if (previous !== undefined && fpsRegression === undefined) process.stdout.write(`dropped the card's f_PS regression (fitted with joint fit ${previous.joint_fit === true ? 'on' : 'off'} and SPREAD_MODEL over ${previous.morphology_radius ?? 'an unrecorded radius'} px): refit it with vis-agn calibrate-fps\n`);
        const updated = { ...card, sampler: { ...card.sampler, joint_fit: jointFit }, significance: { ...significance, ...(fpsRegression === undefined ? {} : { f_ps: fpsRegression }) } };
        await writeAtomically(options.model, (file) => file.write(Buffer.from(`${JSON.stringify(updated, null, 1)}\n`)));
        process.stdout.write(`wrote the calibration into ${options.model}\n`);
      }
    });
}

/**
 * `vis-agn simulate cutouts|shards|tile|figure|calibrate`: the VIS simulator (docs/simulator.md).
 * The same seed gives byte-identical outputs whatever --workers is.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Command } from 'commander';

import { UsageError } from '../../errors.js';
import { Q1_MEASUREMENTS, type CutoutMeasurement } from '../../ground/vis.js';
import { cutoutFiles, measureCutout } from '../../sim/calibration.js';
import { simulateCutouts } from '../../sim/cutouts.js';
import { renderFigure } from '../../inspect/sim-figure.js';
import { simulateTile, tileFileNames } from '../../sim/mosaic.js';
import { defaultWorkers } from '../../sim/pool.js';
import { buildRecipe, type RecipeOptions } from '../../sim/recipe.js';
import type { SimRecipe } from '../../sim/scene.js';
import { writeTrainingShards } from '../../sim/shards.js';
import { DEFAULT_TILE } from '../../sim/sky.js';
import { overwriteOption, refuseToOverwrite } from '../overwrite.js';
import { stderrProgress } from '../progress.js';

/** The shared data beside the clone (three levels up from src/cli/commands and dist/cli/commands), as the tests find it. */
const DEFAULT_REAL_DIR = path.join(process.env.VIS_AGN_SHARED ?? fileURLToPath(new URL('../../../../shared', import.meta.url)), 'data', 'euclid-q1');

function integer(text: string, what: string, min: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${what} must be an integer >= ${min}, got '${text}'`);
  return n;
}

function numbers(text: string, what: string): number[] {
  const values = text.split(',').map(Number);
  if (values.length === 0 || values.some((v) => !Number.isFinite(v))) throw new UsageError(`${what} must be comma-separated numbers, got '${text}'`);
  return values;
}

function pair(text: string, what: string): [number, number] {
  const values = numbers(text, what);
  if (values.length === 1) return [values[0]!, values[0]!];
  if (values.length !== 2) throw new UsageError(`${what} takes one value or two (min,max), got '${text}'`);
  return [values[0]!, values[1]!];
}

interface CommonOptions {
  seed: string;
  population: string;
  mix?: string;
  fps?: string;
  mag?: string;
  psf: string;
  fwhm: string;
  beta: string;
  workers?: string;
  out: string;
  overwrite?: boolean;
}

function recipeFrom(options: CommonOptions): SimRecipe {
  if (options.mix !== undefined && options.mix !== 'survey' && options.mix !== 'grid') throw new UsageError(`--mix must be survey or grid, got '${options.mix}'`);
  if (options.psf !== 'q1' && options.psf !== 'moffat') throw new UsageError(`--psf must be q1 or moffat, got '${options.psf}'`);
  const recipe: RecipeOptions = {
    population: options.population,
    ...(options.mix === undefined ? {} : { mix: options.mix }),
    ...(options.fps === undefined ? {} : { gridFps: numbers(options.fps, '--fps') }),
    ...(options.mag === undefined ? {} : { magnitude: pair(options.mag, '--mag') }),
    psf: options.psf === 'q1' ? { kind: 'q1' } : { kind: 'moffat', fwhm: pair(options.fwhm, '--fwhm'), beta: Number(options.beta) },
  };
  return buildRecipe(recipe);
}

function workersFrom(options: CommonOptions): number {
  return options.workers === undefined ? defaultWorkers() : integer(options.workers, '--workers', 1);
}

/**
 * Stops before any work when `out` holds a finished simulation: every run ends by writing these three
 * files (the manifest last), so a folder without them holds at most an interrupted run's leftovers.
 * `extra` are the other files of the run that have fixed names.
 */
function refuseFinishedRun(options: CommonOptions, extra: readonly string[] = []): void {
  refuseToOverwrite(['manifest.json', 'truth.arrow', 'neighbours.arrow', ...extra].map((file) => path.join(options.out, file)), options.overwrite);
}

function common(command: Command): Command {
  return overwriteOption(command)
    .requiredOption('--out <dir>', 'output folder')
    .option('--seed <seed>', 'run seed: every draw is seeded from (seed, object id)', '1')
    .option('--population <name>', "'realistic' (sizes, bulges, nuclei and star counts as measured; docs/simulator.md), 'stress' (many unresolved compact hosts and bright nuclei) or 'broad' (a training prior: the realistic physics with bulges, spheroids and compact bodies spread wider)", 'realistic')
    .option('--mix <mix>', "'survey' (class fractions as in the survey) or 'grid' (f_PS cycling through --fps)")
    .option('--fps <list>', 'f_PS values of the grid mix, comma-separated (default 0,0.02,0.05,0.1,0.2,0.3,0.5,0.8,1)')
    .option('--mag <min,max>', 'I_E range of the targets (default 19,25)')
    .option('--psf <kind>', "'q1' (the real VIS PSF stamps) or 'moffat'", 'q1')
    .option('--fwhm <min,max>', 'Moffat FWHM range in arcsec', '0.16,0.20')
    .option('--beta <beta>', 'Moffat beta', '3')
    .option('--workers <n>', 'worker threads (default: one per CPU)');
}

type CountOptions = CommonOptions & { n: string; firstId: string };

export function register(program: Command): void {
  const simulate = program.command('simulate').description('simulate Euclid VIS cutouts, training shards or a MER-like tile with known truth');

  common(simulate.command('cutouts').description('cutouts in the Q1 MER layout (VIS_FLUX, VIS_PSF, VIS_RMS) plus truth tables'))
    .requiredOption('--n <count>', 'number of cutouts')
    .option('--size <px>', 'cutout side in pixels', '100')
    .option('--first-id <id>', 'object id of the first cutout', '1')
    .action(async (options: CountOptions & { size: string }) => {
      const settings = {
        count: integer(options.n, '--n', 1),
        seed: integer(options.seed, '--seed', 0),
        out: options.out,
        size: integer(options.size, '--size', 16),
        recipe: recipeFrom(options),
        workers: workersFrom(options),
        firstId: integer(options.firstId, '--first-id', -(2 ** 52)),
      };
      refuseFinishedRun(options);
      const result = await simulateCutouts({ ...settings, onProgress: stderrProgress('simulate', false, 'cutouts') });
      process.stdout.write(`simulate: ${result.files.length} cutouts in ${path.join(options.out, 'cutouts')}, truth in ${result.truth}\n`);
    });

  common(simulate.command('shards').description('training stamps as raw float32 shards with a manifest (docs/sim-shards.md)'))
    .requiredOption('--n <count>', 'number of stamps')
    .option('--stamp <px>', 'stamp side in pixels (centre crop of the cutout frame)', '64')
    .option('--shard-size <count>', 'stamps per training shard file', '10000')
    .option('--first-id <id>', 'object id of the first stamp', '1')
    .action(async (options: CountOptions & { stamp: string; shardSize: string }) => {
      const settings = {
        count: integer(options.n, '--n', 1),
        seed: integer(options.seed, '--seed', 0),
        out: options.out,
        stamp: integer(options.stamp, '--stamp', 8),
        shardSize: integer(options.shardSize, '--shard-size', 1),
        recipe: recipeFrom(options),
        workers: workersFrom(options),
        firstId: integer(options.firstId, '--first-id', -(2 ** 52)),
      };
      // vis-agn train reuses a finished shard folder by calling the simulator itself, not this command.
      refuseFinishedRun(options);
      const manifest = await writeTrainingShards({ ...settings, onProgress: stderrProgress('simulate', false, 'stamps') });
      process.stdout.write(`simulate: ${manifest.count} stamps in ${manifest.files.filter((f) => f.kind === 'image').length} shards, ${path.join(options.out, 'manifest.json')}\n`);
    });

  common(simulate.command('tile').description('a MER-like mosaic with its RMS mosaic, a FITS catalogue and truth tables'))
    .option('--size <px>', 'tile side in pixels (a MER tile is 19200)', '19200')
    .option('--tile-index <index>', 'tile index written to the files and the catalogue', '999000001')
    .action(async (options: CommonOptions & { size: string; tileIndex: string }) => {
      const settings = {
        seed: integer(options.seed, '--seed', 0),
        out: options.out,
        size: integer(options.size, '--size', 64),
        tileIndex: integer(options.tileIndex, '--tile-index', 0),
        recipe: recipeFrom(options),
        workers: workersFrom(options),
      };
      refuseFinishedRun(options, Object.values(tileFileNames({ ...DEFAULT_TILE, index: settings.tileIndex }, settings.seed)));
      const files = await simulateTile({ ...settings, onProgress: stderrProgress('simulate', false, 'rows') });
      process.stdout.write(`simulate: ${files.image}\n${files.rms}\n${files.catalogue}\n${files.truth}\n`);
    });

  simulate
    .command('figure')
    .description('PNG of the real Q1 cutouts beside simulated ones at the same stretch')
    .option('--out <file>', 'PNG to write', path.join('docs', 'figures', 'sim-vs-real.png'))
    .option('--real <dir>', 'folder of real Q1 MER cutouts', DEFAULT_REAL_DIR)
    .option('--seed <seed>', 'simulation seed', '1')
    .action((options: { out: string; real: string; seed: string }) => {
      const png = renderFigure(cutoutFiles(options.real), integer(options.seed, '--seed', 0));
      mkdirSync(path.dirname(options.out), { recursive: true });
      writeFileSync(options.out, png);
      process.stdout.write(`simulate: ${options.out}\n`);
    });

  simulate
    .command('calibrate')
    .description('measure real Q1 cutouts (noise, RMS map, PSF) and compare with the recorded calibration')
    .option('--real <dir>', 'folder of real Q1 MER cutouts', DEFAULT_REAL_DIR)
    .option('--json', 'print the measurements as JSON')
    .action((options: { real: string; json?: boolean }) => {
      const measured = cutoutFiles(options.real).map((f) => measureCutout(f).measurement);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(measured, null, 2)}\n`);
        return;
      }
      for (const m of measured) {
        const recorded = Q1_MEASUREMENTS.find((r) => r.file === m.file);
        process.stdout.write(`${formatMeasurement(m)}${recorded === undefined ? '  (not in the recorded calibration)' : ''}\n`);
      }
    });
}

function formatMeasurement(m: CutoutMeasurement): string {
  const a = m.autocorrelation;
  return [
    m.file,
    `  blank-sky MAD ${m.mad.toFixed(5)} (all pixels ${m.madAll.toFixed(5)}), RMS map ${m.rmsLevel.toFixed(5)}, ratio ${m.madToRms.toFixed(3)}`,
    `  noise autocorrelation: lag x1 ${a.x1.toFixed(3)} y1 ${a.y1.toFixed(3)} x2 ${a.x2.toFixed(3)} y2 ${a.y2.toFixed(3)} diagonal ${a.d11.toFixed(3)}`,
    `  RMS holes ${(100 * m.holeFraction).toFixed(1)}% x${m.holeFactor.toFixed(2)}, shot-noise gain ${m.gain.toFixed(0)}, PSF peak fraction ${m.psfPeakFraction.toFixed(3)}`,
  ].join('\n');
}

/**
 * `vis-agn run INPUT... --out DIR`: detection over cutout files or folders of them, writing
 * DIR/catalog.arrow (the catalogue) and DIR/summary.json.
 */

import { availableParallelism } from 'node:os';
import path from 'node:path';

import type { Command } from 'commander';

import { runDetection, type DetectionConfig, type RunSummary, type ScoringOptions } from '../../batch/run.js';
import { errorsPath, runShard } from '../../batch/shards.js';
import { FAILURE_FLAGS, FLAGS } from '../../catalog/flags.js';
import { DEFAULT_HDU_NAMES } from '../../cutout/from-files.js';
import type { TileInput } from '../../cutout/from-tile.js';
import { EXIT_CODES, InterruptedError, UsageError } from '../../errors.js';
import { cardSolverMethod, defaultCardPath, readCard } from '../../model/card.js';
import type { DeviceRequest } from '../../model/runtime.js';
import { DEFAULT_THRESHOLDS } from '../../detect/detect.js';
import { MER_RMS_TO_SIGMA } from '../../ground/vis.js';
import { overwriteOption, refuseToOverwrite } from '../overwrite.js';

export interface DetectionCommandOptions {
  model?: string;
  samples?: string;
  steps?: string;
  seed: string;
  zThreshold: string;
  qsoFps: string;
  pointLikeFps: string;
  fluxHdu?: string;
  rmsHdu?: string;
  psfHdu?: string;
  rmsToSigma: string;
  device: string;
  threads?: string;
  workers: string;
  batch: string;
  quiet?: boolean;
}

interface RunCommandOptions extends DetectionCommandOptions {
  out: string;
  manifest?: string;
  shard?: string;
  chunk: string;
  tile?: string;
  catalog?: string;
  rms?: string;
  psf?: string;
  raCol?: string;
  decCol?: string;
  idCol?: string;
  overwrite?: boolean;
}

/** Tile mode's inputs, or undefined for cutout files; a UsageError when the two are mixed or incomplete. */
export function tileInputOf(inputs: readonly string[], options: RunCommandOptions): TileInput | undefined {
  const tileOnly = { '--catalog': options.catalog, '--rms': options.rms, '--psf': options.psf };
  if (options.tile === undefined) {
    const stray = Object.entries(tileOnly).find(([, value]) => value !== undefined);
    if (stray !== undefined) throw new UsageError(`${stray[0]} is for tile mode; give --tile too`);
    if (inputs.length === 0) throw new UsageError('give cutout files or folders, or --tile TILE.fits --catalog CAT.fits');
    return undefined;
  }
  if (inputs.length > 0) throw new UsageError('give either cutout files or --tile, not both');
  if (options.catalog === undefined) throw new UsageError('--tile needs --catalog (the objects to cut out)');
  return {
    tile: options.tile,
    catalog: options.catalog,
    ...(options.rms === undefined ? {} : { rms: options.rms }),
    ...(options.psf === undefined ? {} : { psf: options.psf }),
    ...(options.raCol === undefined ? {} : { raColumn: options.raCol }),
    ...(options.decCol === undefined ? {} : { decColumn: options.decCol }),
    ...(options.idCol === undefined ? {} : { idColumn: options.idCol }),
  };
}

/**
 * What tile mode falls back on without --rms or --psf, said once before the run: otherwise the only
 * sign is a flag on every row.
 */
export function tileModeWarnings(tile: TileInput): string[] {
  return [
    ...(tile.rms === undefined ? ['no --rms: the noise of every source is estimated from the tile itself (every row flagged no_rms_map)'] : []),
    ...(tile.psf === undefined ? ['no --psf: the mean Q1 VIS PSF is used for every source (every row flagged no_psf_hdu)'] : []),
  ];
}

/** A finite number (integer when asked) within [min, max], or a UsageError naming the option. */
export function numberOption(name: string, text: string, { min = -Infinity, max = Infinity, integer = false } = {}): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const range = [min > -Infinity ? `>= ${min}` : '', max < Infinity ? `<= ${max}` : ''].filter(Boolean).join(' and ');
    throw new UsageError(`${name} must be ${integer ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}, not ${JSON.stringify(text)}`);
  }
  return value;
}

function deviceOption(text: string): DeviceRequest {
  if (text !== 'cpu' && text !== 'cuda' && text !== 'auto') throw new UsageError(`--device must be cpu, cuda or auto, not ${text}`);
  return text;
}

function names(option: string | undefined, fallback: readonly string[]): readonly string[] {
  return option === undefined ? fallback : option.split(',').map((s) => s.trim()).filter(Boolean);
}

/** "1200/3000 sources, 410/s, ETA 4 s" (no total in tile mode until the end); `unit` names what is counted. */
export function progressLine(done: number, total: number | undefined, seconds: number, unit = 'sources'): string {
  const rate = seconds > 0 ? done / seconds : 0;
  const eta = total === undefined || rate === 0 ? '' : `, ETA ${Math.ceil((total - done) / rate)} s`;
  return `${done}${total === undefined ? '' : `/${total}`} ${unit}, ${rate.toFixed(0)}/s${eta}`;
}

/** `[########------------]` for a fraction done, 20 cells wide. */
export function progressBar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** Progress lines on stderr for `command`: live on a terminal, one every 10 s in a log file (batch jobs), and the last. */
export function stderrProgress(command: string, quiet: boolean, unit?: string): (done: number, total: number | undefined) => void {
  const started = performance.now();
  let lastReport = 0;
  return (done, total) => {
    const now = performance.now();
    const tty = process.stderr.isTTY === true;
    if (quiet || (done !== total && now - lastReport < (tty ? 250 : 10_000))) return;
    lastReport = now;
    const line = progressLine(done, total, (now - started) / 1000, unit);
    process.stderr.write(tty ? `\r${command}: ${total === undefined ? '' : `${progressBar(done / total)} `}${line}${done === total ? '\n' : ''}` : `${command}: ${line}\n`);
  };
}

export function formatSummary(summary: RunSummary): string {
  const c = summary.byClass;
  return [
    `${summary.sources} sources in ${summary.seconds.toFixed(1)} s (${(summary.sources / summary.seconds).toFixed(0)}/s on ${summary.provider})`,
    `candidates: ${summary.candidates} (agn ${c.agn}, qso ${c.qso}); point-like ${c.point_like}; none ${c.none}`,
    `flagged rows: ${summary.flagged}${summary.flagged > 0 ? ` (${flagCounts(FLAGS.map((flag) => flag.name), summary.byFlag)})` : ''}${summary.unreadable > 0 ? `, of which ${summary.unreadable} unreadable inputs` : ''}`,
    ...(summary.failed > 0 ? [`not scored: ${summary.failed} (${flagCounts(FAILURE_FLAGS, summary.byFlag)}); reasons in ${summary.errors}`] : []),
    `catalogue: ${summary.catalog}`,
  ].join('\n');
}

/** "corrupt_input 3, scoring_failed 1": those of `names` that occur, with their row counts (a row may carry several). */
function flagCounts(names: readonly string[], byFlag: Readonly<Record<string, number>>): string {
  return names.filter((name) => (byFlag[name] ?? 0) > 0)
    .map((name) => `${name} ${byFlag[name]}`)
    .join(', ');
}

/**
 * Runs `work` with a signal that SIGTERM and SIGINT abort: the work stops taking sources, keeps what is
 * finished and removes its temporary files; the command then ends with 143 or 130 and says how to
 * go on. A second signal ends the process at once.
 */
export async function interruptible<T>(rerun: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const handler = (signal: 'SIGINT' | 'SIGTERM') => () => {
    if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
    process.stderr.write(`run: ${signal}: stopping after the work in hand...\n`);
    controller.abort(new InterruptedError(signal, `interrupted by ${signal}`));
  };
  const onTerm = handler('SIGTERM');
  const onInt = handler('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  try {
    return await work(controller.signal);
  } catch (error) {
    if (error instanceof InterruptedError) throw new InterruptedError(error.signal, `interrupted by ${error.signal}; finished work is kept, no temporary file is left: ${rerun}`);
    throw error;
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
  }
}

/** The options every command that runs detection shares (run, inject, inspect). */
export function detectionOptions(command: Command): Command {
  return command
    .option('--model <card>', 'model card', defaultCardPath())
    .option('--samples <n>', "regenerated cores per source (default: the card's, 16)")
    .option('--steps <n>', "flow solver steps (default: the card's)")
    .option('--seed <n>', 'run seed: with the object id it fixes every random draw', '1')
    .option('--z-threshold <z>', 'agn_z above which a source is a candidate', String(DEFAULT_THRESHOLDS.z))
    .option('--qso-fps <f>', 'f_ps from which a candidate is a QSO rather than an AGN', String(DEFAULT_THRESHOLDS.qsoFps))
    .option('--point-like-fps <f>', 'f_ps from which a significant source is point-like (star or host-less QSO), not a candidate', String(DEFAULT_THRESHOLDS.pointLikeFps))
    .option('--flux-hdu <names>', `VIS image HDU names to try, comma-separated (default ${DEFAULT_HDU_NAMES.flux.join(',')}; a file with one image needs none)`)
    .option('--rms-hdu <names>', `RMS map HDU names (default ${DEFAULT_HDU_NAMES.rms.join(',')})`)
    .option('--psf-hdu <names>', `PSF stamp HDU names (default ${DEFAULT_HDU_NAMES.psf.join(',')}; without one, the mean Q1 VIS PSF)`)
    .option('--rms-to-sigma <f>', 'per-pixel noise over the RMS map level (MER mosaics: correlated noise)', MER_RMS_TO_SIGMA.toFixed(4))
    .option('--device <device>', 'cpu, cuda or auto (auto falls back to the CPU; cuda never does)', 'cpu')
    .option('--workers <n>', 'worker threads cutting and scoring sources', String(availableParallelism()))
    .option('--threads <n>', 'onnxruntime threads per worker (default: the cores shared among the workers)')
    .option('--batch <n>', 'sources per model batch', '128')
    .option('--quiet', 'no progress lines');
}

export function detectionConfigFrom(options: DetectionCommandOptions): { config: DetectionConfig; device: DeviceRequest; threads: number; workers: number; batch: number } {
  const card = readCard(options.model ?? defaultCardPath()).card;
  const workers = numberOption('--workers', options.workers, { min: 1, integer: true });
  const config: DetectionConfig = {
    samples: options.samples === undefined ? card.sampler.samples : numberOption('--samples', options.samples, { min: 2, integer: true }),
    steps: options.steps === undefined ? card.sampler.steps : numberOption('--steps', options.steps, { min: 1, integer: true }),
    method: cardSolverMethod(card),
    seed: numberOption('--seed', options.seed, { min: 0, max: 2 ** 32 - 1, integer: true }),
    thresholds: {
      z: numberOption('--z-threshold', options.zThreshold),
      qsoFps: numberOption('--qso-fps', options.qsoFps),
      pointLikeFps: numberOption('--point-like-fps', options.pointLikeFps),
    },
    hduNames: { flux: names(options.fluxHdu, DEFAULT_HDU_NAMES.flux), rms: names(options.rmsHdu, DEFAULT_HDU_NAMES.rms), psf: names(options.psfHdu, DEFAULT_HDU_NAMES.psf) },
    rmsToSigma: numberOption('--rms-to-sigma', options.rmsToSigma, { min: 0 }),
  };
  return {
    config,
    device: deviceOption(options.device),
    workers,
    threads: options.threads === undefined ? Math.max(1, Math.floor(availableParallelism() / workers)) : numberOption('--threads', options.threads, { min: 1, integer: true }),
    batch: numberOption('--batch', options.batch, { min: 1, integer: true }),
  };
}

/** The model, workers and settings of `run`, with its messages for unreadable inputs and failed tasks. */
function scoringOptionsFrom(options: RunCommandOptions): ScoringOptions {
  const { config, device, threads, workers, batch } = detectionConfigFrom(options);
  return {
    cardPath: options.model ?? defaultCardPath(),
    device,
    threads,
    workers,
    batch,
    config,
    onSourceError: (error) => process.stderr.write(`run: ${error.flag}: ${error.file}${error.hdu === '' ? '' : `[${error.hdu}]`}: ${error.reason}\n`),
  };
}

async function runShardCommand(inputs: readonly string[], options: RunCommandOptions): Promise<void> {
  if (options.manifest === undefined || options.shard === undefined) throw new UsageError('a sharded run needs both --manifest and --shard');
  if (inputs.length > 0 || options.tile !== undefined) throw new UsageError('with --manifest, the inputs come from the manifest');
  const shard = numberOption('--shard', options.shard, { min: 0, integer: true });
  const scoring = scoringOptionsFrom(options);
  const chunk = numberOption('--chunk', options.chunk, { min: 1, integer: true });
  const rerun = `rerun vis-agn run --manifest ${options.manifest} --shard ${shard} --out ${options.out} to resume from the finished chunks`;
  const result = await interruptible(rerun, (signal) =>
    runShard({
      ...scoring,
      signal,
      manifest: options.manifest!,
      shard,
      out: options.out,
      chunk,
      onProgress: (done, total) => options.quiet !== true && process.stderr.write(`run: shard ${shard}: ${done}/${total} sources\n`),
    }),
  );
  const how = result.skipped ? 'already done, skipped' : `${result.rows} rows${result.resumedChunks > 0 ? `, resumed after ${result.resumedChunks} finished chunks` : ''}`;
  process.stdout.write(`shard ${shard}: ${how}: ${result.part}\n`);
  if (result.failed > 0) {
    process.stderr.write(`run: shard ${shard}: ${result.failed} sources not scored; reasons in ${errorsPath(result.part)}\n`);
    process.exitCode = EXIT_CODES.partialFailure;
  }
}

export function register(program: Command): void {
  detectionOptions(
    overwriteOption(program
      .command('run'))
      .description('detect AGN/QSO candidates in cutout FITS files, or in a MER tile at catalogue positions, and write an Arrow catalogue')
      .argument('[inputs...]', 'cutout FITS files, or folders of them')
      .requiredOption('--out <dir>', 'output folder (catalog.arrow, summary.json), e.g. catalogs/<name>')
      .option('--tile <file>', 'a MER mosaic tile (instead of cutout files): cutouts are read from it at the catalogue positions')
      .option('--catalog <file>', 'tile mode: the objects (FITS, Parquet, CSV or Arrow with RA/Dec and object_id)')
      .option('--rms <file>', 'tile mode: the RMS mosaic of the tile')
      .option('--psf <file>', 'tile mode: a PSF stamp (FITS image, odd and square); default the mean Q1 VIS PSF')
      .option('--ra-col <name>', 'tile mode: RA column of the catalogue (default: found by name)')
      .option('--dec-col <name>', 'tile mode: Dec column of the catalogue (default: found by name)')
      .option('--id-col <name>', 'tile mode: object id column of the catalogue (default object_id)')
      .option('--manifest <file>', 'sharded run: the manifest from vis-agn plan (with --shard); writes DIR/part-K.arrow')
      .option('--shard <k>', 'sharded run: the 0-based shard to run; a done shard is skipped, an interrupted one resumed')
      .option('--chunk <n>', 'sharded run: sources written per chunk, the most a kill can cost', '256'),
  ).action(async (inputs: string[], options: RunCommandOptions) => {
    if (options.manifest !== undefined || options.shard !== undefined) {
      await runShardCommand(inputs, options);
      return;
    }
    const tile = tileInputOf(inputs, options);
    refuseToOverwrite([path.join(options.out, 'catalog.arrow'), path.join(options.out, 'summary.json')], options.overwrite);
    for (const warning of tile === undefined ? [] : tileModeWarnings(tile)) process.stderr.write(`run: warning: ${warning}\n`);
    const scoring = scoringOptionsFrom(options);
    const summary = await interruptible(`nothing was written to ${options.out} (the catalogue appears only when complete); rerun the same command`, (signal) =>
      runDetection({
        ...scoring,
        signal,
        inputs,
        ...(tile === undefined ? {} : { tile }),
        out: options.out,
        onProgress: stderrProgress('run', options.quiet === true),
      }),
    );
    process.stdout.write(`${formatSummary(summary)}\n`);
    // The catalogue is complete, but some rows hold no scores: a scheduler should see that.
    if (summary.failed > 0) process.exitCode = EXIT_CODES.partialFailure;
  });
}

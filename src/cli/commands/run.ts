/**
 * `vis-agn run INPUT... --out DIR`: detection over cutout files or folders of them, writing
 * DIR/catalog.arrow (the catalogue) and DIR/summary.json.
 */

import path from 'node:path';

import type { Command } from 'commander';

import { runDetection, type ScoringOptions } from '../../batch/run.js';
import { errorsPath, runShard } from '../../batch/shards.js';
import type { TileInput } from '../../cutout/from-tile.js';
import { readCard } from '../../model/card.js';
import { EXIT_CODES, InterruptedError, UsageError } from '../../errors.js';
import { detectionOptions, numberOption, scoringOptionsFrom, type DetectionCommandOptions } from '../options.js';
import { overwriteOption, refuseToOverwrite } from '../overwrite.js';
import { stderrProgress } from '../progress.js';
import { formatSummary } from '../summary.js';
import { tileModeWarnings } from '../tile-options.js';

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
function tileInputOf(inputs: readonly string[], options: RunCommandOptions): TileInput | undefined {
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
 * Runs `work` with a signal that SIGTERM and SIGINT abort: the work stops taking sources, keeps what is
 * finished and removes its temporary files; the command then ends with 143 or 130 and says how to
 * go on. A second signal ends the process at once.
 */
async function interruptible<T>(rerun: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
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

/** The model, workers and settings of `run`, with its messages for unreadable inputs and failed tasks. */
function runScoringOptions(options: RunCommandOptions): ScoringOptions {
  const scoring = scoringOptionsFrom(options);
  // A label-free model has no known normal galaxies to calibrate on: its agn_z is the raw Gaussianised
  // excess, whose tail on normal galaxies is far heavier than N(0, 1), so the cut agn_z > 3 means less.
  if (readCard(scoring.cardPath).card.significance === undefined) {
    process.stderr.write(`run: warning: ${scoring.cardPath} has no significance calibration: agn_z is uncalibrated (vis-agn calibrate --model CARD --shards DIR --write-card fits one on normal galaxies)\n`);
  }
  return {
    ...scoring,
    onSourceError: (error) => process.stderr.write(`run: ${error.flag}: ${error.file}${error.hdu === '' ? '' : `[${error.hdu}]`}: ${error.reason}\n`),
  };
}

async function runShardCommand(inputs: readonly string[], options: RunCommandOptions): Promise<void> {
  if (options.manifest === undefined || options.shard === undefined) throw new UsageError('a sharded run needs both --manifest and --shard');
  if (inputs.length > 0 || options.tile !== undefined) throw new UsageError('with --manifest, the inputs come from the manifest');
  const shard = numberOption('--shard', options.shard, { min: 0, integer: true });
  const scoring = runScoringOptions(options);
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
      .option('--shard <k>', 'sharded run: the 0-based run shard of the manifest to run; a done shard is skipped, an interrupted one resumed')
      .option('--chunk <n>', 'sharded run: sources written per chunk, the most a kill can cost', '256'),
  ).action(async (inputs: string[], options: RunCommandOptions) => {
    if (options.manifest !== undefined || options.shard !== undefined) {
      await runShardCommand(inputs, options);
      return;
    }
    const tile = tileInputOf(inputs, options);
    refuseToOverwrite([path.join(options.out, 'catalog.arrow'), path.join(options.out, 'summary.json')], options.overwrite);
    for (const warning of tile === undefined ? [] : tileModeWarnings(tile)) process.stderr.write(`run: warning: ${warning}\n`);
    const scoring = runScoringOptions(options);
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

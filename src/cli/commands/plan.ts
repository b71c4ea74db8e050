/**
 * `vis-agn plan INPUTS --shards N --out manifest.json` (cutout files) or `vis-agn plan --tile T...
 * --catalog C --shards N --out manifest.json` (objects on MER tiles, each on the tile whose core area
 * holds it), and `vis-agn merge --manifest M --parts DIR --out catalog.arrow`: the two ends of a
 * sharded run (each shard: `vis-agn run --manifest M --shard K`).
 */

import path from 'node:path';

import type { Command } from 'commander';

import { writeAtomically } from '../../atomic-file.js';
import { errorsPath, mergeShards, planShards, planTileShards, shardSize, writeManifest, type Manifest } from '../../batch/shards.js';
import { catalogCompleteness } from '../../completeness/catalog.js';
import { EXIT_CODES, UsageError } from '../../errors.js';
import { refuseToOverwrite } from '../overwrite.js';
import { tileFilesOf, type TileInputOptions } from '../tile-options.js';
import { numberOption } from '../options.js';

interface PlanOptions extends TileInputOptions {
  shards: string;
  out: string;
  overwrite?: boolean;
}

async function planFrom(inputs: readonly string[], options: PlanOptions): Promise<Manifest> {
  const shards = numberOption('--shards', options.shards, { min: 1, integer: true });
  if (options.tile === undefined) {
    if (options.catalog !== undefined || options.rms !== undefined) throw new UsageError('--catalog and --rms are for tiles; give --tile too');
    if (inputs.length === 0) throw new UsageError('give cutout files or folders, or --tile TILE... --catalog CAT');
    return planShards(inputs, shards);
  }
  if (inputs.length > 0) throw new UsageError('give either cutout files or --tile, not both');
  if (options.catalog === undefined) throw new UsageError('--tile needs --catalog (the objects to cut out)');
  const catalogue = {
    catalog: options.catalog,
    ...(options.raCol === undefined ? {} : { raColumn: options.raCol }),
    ...(options.decCol === undefined ? {} : { decColumn: options.decCol }),
    ...(options.idCol === undefined ? {} : { idColumn: options.idCol }),
  };
  return planTileShards(catalogue, tileFilesOf(options), shards);
}

export function register(program: Command): void {
  program
    .command('plan')
    .description('split the inputs of a run into run shards: a manifest assigning every cutout file, or every catalogue object on a set of tiles, to exactly one shard')
    .argument('[inputs...]', 'cutout FITS files, or folders of them')
    .requiredOption('--shards <n>', 'number of run shards (each run with vis-agn run --manifest M --shard K)')
    .requiredOption('--out <file>', 'manifest file (JSON)')
    .option('--tile <files...>', 'MER mosaic tiles instead of cutouts: each catalogue object goes to the tile whose core area holds it')
    .option('--rms <files...>', 'the RMS mosaic of each tile, in the same order')
    .option('--psf <file>', 'a PSF stamp for all tiles (default the mean Q1 VIS PSF)')
    .option('--catalog <file>', 'the objects (FITS, Parquet, CSV or Arrow with RA/Dec and object_id)')
    .option('--ra-col <name>', 'RA column of the catalogue (default: found by name)')
    .option('--dec-col <name>', 'Dec column of the catalogue (default: found by name)')
    .option('--id-col <name>', 'object id column of the catalogue (default object_id)')
    .option('--overwrite', 'replace an existing manifest')
    .action(async (inputs: string[], options: PlanOptions) => {
      refuseToOverwrite([options.out], options.overwrite);
      const manifest = await planFrom(inputs, options);
      await writeManifest(options.out, manifest);
      const sizes = manifest.shards.map((_, k) => shardSize(manifest, k));
      const what = manifest.kind === 'tiles' ? `objects on ${manifest.tiles.length} tiles` : 'inputs';
      process.stdout.write(`${sizes.reduce((a, b) => a + b, 0)} ${what} in ${sizes.length} shards of ${Math.min(...sizes)}-${Math.max(...sizes)}: ${options.out}\n`);
      if (manifest.kind === 'tiles' && manifest.unassigned.length > 0) {
        process.stderr.write(`plan: ${manifest.unassigned.length} catalogue objects lie on none of the tiles (rows listed in the manifest's "unassigned"; first: row ${manifest.unassigned[0]! + 1})\n`);
      }
    });
  program
    .command('merge')
    .description("concatenate a sharded run's parts into one catalogue, checking no input is missing or repeated")
    .requiredOption('--manifest <file>', 'the manifest the shards ran from')
    .requiredOption('--parts <dir>', 'the folder the shards wrote their part-K.arrow files to')
    .requiredOption('--out <file>', 'merged Arrow catalogue (its counts go to <out>.summary.json)')
    .option('--truth <file>', "a simulation's truth table: also write the merged catalogue's completeness (<out>.completeness.md and .json)")
    .option('--reference <file>', 'known AGN/QSOs (FITS, Parquet, CSV, Arrow): also write the completeness against them, matched on the sky')
    .option('--overwrite', 'replace an existing merged catalogue and its summary')
    .action(async (options: { manifest: string; parts: string; out: string; truth?: string; reference?: string; overwrite?: boolean }) => {
      if (options.truth !== undefined && options.reference !== undefined) throw new UsageError('give --truth or --reference, not both');
      refuseToOverwrite([options.out, `${options.out.replace(/\.arrow$/, '')}.summary.json`], options.overwrite);
      const tally = await mergeShards(options.manifest, options.parts, options.out);
      const counts = tally.counts();
      const base = options.out.replace(/\.arrow$/, '');
      const summaryFile = `${base}.summary.json`;
      await writeAtomically(summaryFile, (file) => file.write(Buffer.from(`${JSON.stringify({ catalog: path.resolve(options.out), ...counts }, null, 2)}\n`)));
      const c = counts.byClass;
      process.stdout.write(`merged ${counts.sources} rows into ${options.out}: candidates ${counts.candidates} (agn ${c.agn}, qso ${c.qso}), point-like ${c.point_like}, flagged ${counts.flagged}${counts.failed > 0 ? `, failed ${counts.failed} (reasons in ${errorsPath(options.out)})` : ''}; counts in ${summaryFile}\n`);
      if (counts.failed > 0) process.exitCode = EXIT_CODES.partialFailure;
      if (options.truth === undefined && options.reference === undefined) return;
      // The same report `vis-agn completeness` gives, at its defaults, over the whole merged catalogue.
      const { report, text } = await catalogCompleteness(options.out, options.truth === undefined ? { reference: options.reference! } : { truth: options.truth });
      await writeAtomically(`${base}.completeness.json`, (file) => file.write(Buffer.from(`${JSON.stringify(report, null, 1)}\n`)));
      await writeAtomically(`${base}.completeness.md`, (file) => file.write(Buffer.from(`${text}\n`)));
      process.stdout.write(`${text}\ncompleteness in ${base}.completeness.md\n`);
    });
}

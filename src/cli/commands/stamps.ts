/**
 * `vis-agn stamps`: unlabelled training shards from MER tiles and their catalogue, or from folders of
 * cutouts (src/stamps/write.ts); a rerun completes an interrupted folder.
 */

import path from 'node:path';

import type { Command } from 'commander';

import { UsageError } from '../../errors.js';
import { parseCut, SWITCHABLE, type ColumnCut, type Rejection } from '../../stamps/select.js';
import { DEFAULT_STAMP, writeStamps, type StampSource } from '../../stamps/write.js';
import { tileFilesOf, type TileInputOptions } from '../tile-options.js';
import { stderrProgress } from '../progress.js';

interface StampsCommandOptions extends TileInputOptions {
  out: string;
  mag: string;
  magCol?: string;
  fluxCol?: string;
  blendCol?: string;
  blendBits?: string;
  exclude: string[];
  skipRules?: string;
  stamp: string;
  shardSize: string;
  quiet?: boolean;
}

function positiveInteger(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${what} must be a positive integer, got '${text}'`);
  return n;
}

function sourceOf(inputs: readonly string[], options: StampsCommandOptions): StampSource {
  if (options.tile === undefined) {
    if (options.catalog !== undefined || options.rms !== undefined || options.psf !== undefined) throw new UsageError('--catalog, --rms and --psf are for tile mode; give --tile too');
    if (inputs.length === 0) throw new UsageError('give cutout files or folders, or --tile TILE.fits ... --catalog CAT');
    return { kind: 'cutouts', inputs: [...inputs] };
  }
  if (inputs.length > 0) throw new UsageError('give either cutout files or --tile, not both');
  if (options.catalog === undefined) throw new UsageError('--tile needs --catalog (the objects to cut out)');
  return {
    kind: 'tiles',
    catalogue: {
      catalog: options.catalog,
      ...(options.raCol === undefined ? {} : { raColumn: options.raCol }),
      ...(options.decCol === undefined ? {} : { decColumn: options.decCol }),
      ...(options.idCol === undefined ? {} : { idColumn: options.idCol }),
    },
    tiles: tileFilesOf(options),
  };
}

function skipped(text: string | undefined): Rejection[] {
  const rules = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = rules.filter((r) => !SWITCHABLE.includes(r as Rejection));
  if (unknown.length > 0) throw new UsageError(`--skip-rules takes ${SWITCHABLE.join(', ')}; not ${unknown.join(', ')}`);
  return rules as Rejection[];
}

export function register(program: Command): void {
  program
    .command('stamps')
    .description('training stamps without labels from MER tiles + catalogue or cutout folders: selected, sharded, resumable (docs/model.md)')
    .argument('[inputs...]', 'cutout FITS files or folders (or --tile)')
    .requiredOption('--out <dir>', 'stamps folder: shard-K.*.f32, shard-K.json, manifest.json (written last)')
    .option('--tile <files...>', 'MER mosaic tiles; each catalogue object is cut from the tile whose core area holds it')
    .option('--rms <files...>', 'the RMS mosaics, one per --tile, in the same order')
    .option('--psf <file>', 'a PSF stamp for the tiles (only the noise and Kron steps use it); default the mean Q1 VIS PSF')
    .option('--catalog <file>', 'tile mode: the objects (FITS, Parquet, CSV or Arrow with RA/Dec and object_id)')
    .option('--ra-col <name>', 'RA column of the catalogue (default: found by name)')
    .option('--dec-col <name>', 'Dec column of the catalogue (default: found by name)')
    .option('--id-col <name>', 'object id column of the catalogue (default object_id)')
    .option('--mag <min,max>', 'I_E AB range kept (min inclusive, max exclusive)', '19,25')
    .option('--mag-col <name>', 'catalogue magnitude column (default: mag, mag_vis, ... if present)')
    .option('--flux-col <name>', 'without a magnitude column: catalogue flux in uJy (default flux_detection_total if present); else the Kron magnitude on the stamp')
    .option('--blend-col <name>', `catalogue column marking blends, nonzero = blended (default: ${['blended', 'blend_flag', 'blended_flag', 'is_blended'].join(', ')} if present)`)
    .option('--blend-bits <mask>', 'with --blend-col: only these bits of the flag mark a blend (e.g. a det_quality_flag bit)')
    .option('--exclude <cut>', "leave out sources whose catalogue value satisfies COLUMN OP NUMBER, e.g. 'point_like_prob>0.9' (repeatable)", (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--skip-rules <list>', `switch rejection rules off: ${SWITCHABLE.join(', ')}`)
    .option('--stamp <px>', 'stamp side (the trainer crops 64 around the brightest pixel of the central 9x9)', String(DEFAULT_STAMP))
    .option('--shard-size <n>', 'candidate sources per training shard (the kept ones are fewer)', '10000')
    .option('--quiet', 'no progress on stderr')
    .action(async (inputs: string[], options: StampsCommandOptions) => {
      const mag = options.mag.split(',').map(Number);
      if (mag.length !== 2 || mag.some((v) => !Number.isFinite(v))) throw new UsageError(`--mag takes min,max, got '${options.mag}'`);
      const exclude: ColumnCut[] = options.exclude.map(parseCut);
      const manifest = await writeStamps({
        source: sourceOf(inputs, options),
        out: options.out,
        stamp: positiveInteger(options.stamp, '--stamp'),
        shardCandidates: positiveInteger(options.shardSize, '--shard-size'),
        selection: {
          magnitude: [mag[0]!, mag[1]!],
          ...(options.magCol === undefined ? {} : { magColumn: options.magCol }),
          ...(options.fluxCol === undefined ? {} : { fluxColumn: options.fluxCol }),
          ...(options.blendCol === undefined ? {} : { blendColumn: options.blendCol }),
          ...(options.blendBits === undefined ? {} : { blendBits: positiveInteger(options.blendBits, '--blend-bits') }),
          skip: skipped(options.skipRules),
          exclude,
        },
        onProgress: stderrProgress('stamps', options.quiet === true),
      });
      const c = manifest.counts;
      const rejected = Object.entries(c.rejected).filter(([, n]) => n > 0).map(([why, n]) => `${why} ${n}`).join(', ');
      process.stdout.write(`stamps: ${c.kept} of ${c.candidates} sources kept${rejected === '' ? '' : ` (rejected: ${rejected})`}${c.offTiles > 0 ? `; ${c.offTiles} catalogue rows on no tile` : ''}; ${path.join(options.out, 'manifest.json')}\n`);
    });
}

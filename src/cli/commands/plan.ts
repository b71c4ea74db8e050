/**
 * `vis-agn plan INPUTS --shards N --out manifest.json` and `vis-agn merge --manifest M --parts DIR
 * --out catalog.arrow`: the two ends of a sharded run (each shard: `vis-agn run --manifest M --shard K`).
 */

import type { Command } from 'commander';

import { mergeShards, planShards, writeManifest } from '../../batch/shards.js';
import { numberOption } from './run.js';

export function register(program: Command): void {
  program
    .command('plan')
    .description('split cutout inputs into shards: a manifest assigning every input to exactly one shard')
    .argument('<inputs...>', 'cutout FITS files, or folders of them')
    .requiredOption('--shards <n>', 'number of shards')
    .requiredOption('--out <file>', 'manifest file (JSON)')
    .action(async (inputs: string[], options: { shards: string; out: string }) => {
      const manifest = planShards(inputs, numberOption('--shards', options.shards, { min: 1, integer: true }));
      await writeManifest(options.out, manifest);
      const sizes = manifest.shards.map((s) => s.length);
      process.stdout.write(`${sizes.reduce((a, b) => a + b, 0)} inputs in ${sizes.length} shards of ${Math.min(...sizes)}-${Math.max(...sizes)}: ${options.out}\n`);
    });
  program
    .command('merge')
    .description("concatenate a sharded run's parts into one catalogue, checking no input is missing or repeated")
    .requiredOption('--manifest <file>', 'the manifest the shards ran from')
    .requiredOption('--parts <dir>', 'the folder the shards wrote their part-K.arrow files to')
    .requiredOption('--out <file>', 'merged Arrow catalogue')
    .action(async (options: { manifest: string; parts: string; out: string }) => {
      const rows = await mergeShards(options.manifest, options.parts, options.out);
      process.stdout.write(`merged ${rows} rows into ${options.out}\n`);
    });
}

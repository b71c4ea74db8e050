/**
 * `vis-agn slurm --manifest M --parts DIR --out script.sbatch`: a SLURM job array running every shard
 * of a manifest; `vis-agn slurm-status --manifest M --parts DIR`: the shards not done yet, with the
 * error class of their last attempt.
 */

import path from 'node:path';

import type { Command } from 'commander';

import { ensureOutputDir, writeAtomically } from '../../atomic-file.js';
import { readManifest } from '../../batch/shards.js';
import { DEFAULT_MAX_ARRAY, DEFAULT_MAX_RETRIES, readShardStates, renderSlurmScript, shellQuote, slurmLogDir, slurmStatusDir, type ShardState } from '../../batch/slurm.js';
import { EXIT_CODES } from '../../errors.js';
import { overwriteOption, refuseToOverwrite } from '../overwrite.js';
import { numberOption } from '../options.js';

interface SlurmCommandOptions {
  manifest: string;
  parts: string;
  out: string;
  maxArray: string;
  throttle?: string;
  maxRetries: string;
  jobName: string;
  partition?: string;
  time?: string;
  cpusPerTask?: string;
  mem?: string;
  command?: string;
  overwrite?: boolean;
}

const optional = (name: string, text: string | undefined): number | undefined => (text === undefined ? undefined : numberOption(name, text, { min: 1, integer: true }));

export function register(program: Command): void {
  overwriteOption(program.command('slurm'))
    .description('write an sbatch script that runs every run shard of a manifest (vis-agn plan) as a SLURM job array')
    .argument('[run-options...]', 'after --: vis-agn run options for every shard (--model, --seed, thresholds)')
    .requiredOption('--manifest <file>', 'the manifest from vis-agn plan')
    .requiredOption('--parts <dir>', 'the folder for the parts, logs/ (one per task) and status/ (one per shard)')
    .requiredOption('--out <file>', 'the sbatch script to write')
    .option('--max-array <n>', 'the most array tasks; with more shards, each task runs several in turn', String(DEFAULT_MAX_ARRAY))
    .option('--throttle <n>', 'the most tasks running at once')
    .option('--max-retries <n>', 'requeues of a task after a crash or an output failure', String(DEFAULT_MAX_RETRIES))
    .option('--job-name <name>', 'SLURM job name', 'vis-agn')
    .option('--partition <name>', 'SLURM partition')
    .option('--time <limit>', 'time limit per task, as sbatch takes it (e.g. 2:00:00)')
    .option('--cpus-per-task <n>', 'CPUs per task: each task runs one worker thread per CPU')
    .option('--mem <size>', 'memory per node, as sbatch takes it (e.g. 4G)')
    .option('--command <words>', "vis-agn as shell words on the compute nodes (default: node on this installation's dist/cli/index.js)")
    .action(async (runOptions: string[], options: SlurmCommandOptions) => {
      const manifest = path.resolve(options.manifest);
      const parts = path.resolve(options.parts);
      const shards = readManifest(manifest).shards.length;
      const maxArray = numberOption('--max-array', options.maxArray, { min: 1, integer: true });
      const script = renderSlurmScript({
        manifest,
        shards,
        parts,
        workdir: process.cwd(),
        maxArray,
        maxRetries: numberOption('--max-retries', options.maxRetries, { min: 0, integer: true }),
        jobName: options.jobName,
        runOptions,
        throttle: optional('--throttle', options.throttle),
        cpusPerTask: optional('--cpus-per-task', options.cpusPerTask),
        partition: options.partition,
        time: options.time,
        mem: options.mem,
        command: options.command,
      });
      refuseToOverwrite([options.out], options.overwrite);
      // Slurm opens a task's log before the script runs, so its folder has to exist at submission.
      await ensureOutputDir(slurmLogDir(parts));
      await ensureOutputDir(slurmStatusDir(parts));
      await writeAtomically(options.out, (file) => file.write(Buffer.from(script)));
      const where = `--manifest ${shellQuote(options.manifest)} --parts ${shellQuote(options.parts)}`;
      process.stdout.write(
        [
          `${shards} shards in ${Math.min(shards, maxArray)} array tasks: ${options.out}`,
          `submit: sbatch ${shellQuote(options.out)}`,
          `status: vis-agn slurm-status ${where}`,
          `merge:  vis-agn merge ${where} --out catalog.arrow`,
          '',
        ].join('\n'),
      );
    });

  program
    .command('slurm-status')
    .description('list the run shards of a SLURM array run that are not done, with the error class of their last attempt; exit 9 when some failed for good')
    .requiredOption('--manifest <file>', 'the manifest the script was written for')
    .requiredOption('--parts <dir>', 'the parts folder given to vis-agn slurm')
    .action((options: { manifest: string; parts: string }) => {
      const states = readShardStates(options.parts, readManifest(options.manifest).shards.length);
      const open = states.filter((s) => s.state !== 'done');
      const table = [['shard', 'state', 'exit', 'class', 'attempt', 'task', 'node', 'time'], ...open.map((s) => [s.shard, s.state, s.exitCode, s.className, s.attempt, s.task, s.node, s.time].map((v) => (v === undefined ? '-' : String(v))))];
      const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
      const count = (state: ShardState) => states.filter((s) => s.state === state).length;
      const lines = [
        ...(open.length === 0 ? [] : table.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd())),
        `${states.length} shards: ${count('done')} done, ${count('failed')} failed, ${count('requeued')} requeued, ${count('running')} running (or killed), ${count('pending')} not started`,
        ...(open.length === 0 ? [] : [`logs: ${path.join(slurmLogDir(options.parts), 'slurm-TASK.out')}; a failed shard reruns with vis-agn run --manifest M --shard K`]),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      if (count('failed') > 0) process.exitCode = EXIT_CODES.partialFailure;
    });
}

/**
 * Sharded runs as SLURM job arrays, one array task per run shard (batch/shards.ts). `renderSlurmScript`
 * writes an sbatch script whose array tasks each run `vis-agn run --manifest M --shard K`; every
 * attempt at a shard leaves tab-separated lines in
 * PARTS/status/ (`readShardStates` reads them back), so failed shards can be listed with their error
 * class without sacct. Exit codes come from the error taxonomy: a crash or an output failure (a full
 * disk, a lost mount) requeues the task a bounded number of times, while bad inputs, usage, limit and
 * model errors would fail the same way again and are left for a person to look at.
 */

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { EXIT_CODES, UsageError, type ExitCodeName } from '../errors.js';
import { doneMarker } from './shards.js';

/** Slurm's default MaxArraySize is 1001, so indices 0-999 are accepted everywhere. */
export const DEFAULT_MAX_ARRAY = 1000;
export const DEFAULT_MAX_RETRIES = 2;

/** Classes worth another attempt; a signal (a kill, the OOM killer) counts as a crash too. */
const RETRYABLE: readonly ExitCodeName[] = ['internal', 'outputFailed'];

export interface SlurmScriptOptions {
  /** Absolute path of the manifest. */
  readonly manifest: string;
  readonly shards: number;
  /** Absolute path of the folder the parts, logs/ and status/ go to. */
  readonly parts: string;
  /** Absolute path the jobs start in: relative input paths in the manifest resolve from there. */
  readonly workdir: string;
  /** The most array tasks; with more shards, task i runs shards i, i + tasks, i + 2 tasks, ... */
  readonly maxArray?: number;
  /** The most tasks running at once (sbatch --array=...%N). */
  readonly throttle?: number;
  readonly maxRetries?: number;
  readonly jobName?: string;
  readonly partition?: string;
  readonly time?: string;
  readonly cpusPerTask?: number;
  readonly mem?: string;
  /** vis-agn as shell words, inserted as given; default `node` on this installation's CLI. */
  readonly command?: string;
  /** More `vis-agn run` options (model, seed, thresholds), given to every shard. */
  readonly runOptions?: readonly string[];
}

/** This installation's compiled CLI, two levels up from both src/batch and dist/batch. */
function installedCli(): string {
  return fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url));
}

/** One word for bash: bare when it is plainly safe, otherwise single-quoted. */
export function shellQuote(word: string): string {
  return /^[\w./:=@+,-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** One word in an #SBATCH line: sbatch reads backslash escapes inside double quotes, not shell quoting. */
function sbatchQuote(word: string): string {
  return `"${word.replace(/["\\]/g, '\\$&')}"`;
}

/** Literal text in an sbatch file name pattern, where % introduces a replacement. */
const filenameLiteral = (text: string): string => text.replaceAll('%', '%%');

export const slurmLogDir = (parts: string): string => path.join(parts, 'logs');
export const slurmStatusDir = (parts: string): string => path.join(parts, 'status');
const statusFile = (parts: string, shard: number): string => path.join(slurmStatusDir(parts), `shard-${String(shard).padStart(5, '0')}.tsv`);

function positiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) throw new UsageError(`${name} must be a positive integer, not ${value}`);
}

export function renderSlurmScript(options: SlurmScriptOptions): string {
  const maxArray = options.maxArray ?? DEFAULT_MAX_ARRAY;
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  positiveInteger('the number of shards', options.shards);
  positiveInteger('--max-array', maxArray);
  positiveInteger('--throttle', options.throttle);
  positiveInteger('--cpus-per-task', options.cpusPerTask);
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new UsageError(`--max-retries must be an integer >= 0, not ${maxRetries}`);
  const texts = [options.manifest, options.parts, options.workdir, options.jobName, options.partition, options.time, options.mem, options.command, ...(options.runOptions ?? [])];
  if (texts.some((text) => text !== undefined && /[\r\n\0]/.test(text))) throw new UsageError('paths and options of a SLURM script cannot hold line breaks');
  for (const [name, file] of Object.entries({ manifest: options.manifest, parts: options.parts, workdir: options.workdir })) {
    if (!path.isAbsolute(file)) throw new UsageError(`the ${name} path must be absolute on the compute nodes, not ${file}`);
  }

  const tasks = Math.min(options.shards, maxArray);
  const directive = (option: string, value?: string | number) => `#SBATCH --${option}${value === undefined ? '' : `=${value}`}`;
  const directives = [
    directive('job-name', sbatchQuote(options.jobName ?? 'vis-agn')),
    directive('array', `0-${tasks - 1}${options.throttle === undefined ? '' : `%${options.throttle}`}`),
    directive('output', sbatchQuote(`${filenameLiteral(slurmLogDir(options.parts))}/slurm-%A_%a.out`)),
    // A requeued task appends to its log, so the failed attempt stays readable.
    directive('open-mode', 'append'),
    directive('requeue'),
    directive('chdir', sbatchQuote(options.workdir)),
    ...(options.partition === undefined ? [] : [directive('partition', sbatchQuote(options.partition))]),
    ...(options.time === undefined ? [] : [directive('time', sbatchQuote(options.time))]),
    ...(options.cpusPerTask === undefined ? [] : [directive('cpus-per-task', options.cpusPerTask)]),
    ...(options.mem === undefined ? [] : [directive('mem', sbatchQuote(options.mem))]),
  ];
  const classes = Object.entries(EXIT_CODES).map(([name, code]) => `    ${code}) echo ${name} ;;`);
  const retryable = RETRYABLE.map((name) => EXIT_CODES[name]).join('|');
  const command = options.command ?? ['node', installedCli()].map(shellQuote).join(' ');
  // One worker thread per CPU of the task, one onnxruntime thread each: on these small graphs that is
  // about twice as fast as one process with many onnxruntime threads (bench:stages against bench:model).
  const run = [command, 'run', '--manifest', shellQuote(options.manifest), '--out', '"$parts"', '--workers', '"${SLURM_CPUS_PER_TASK:-1}"', '--threads', '1', ...(options.runOptions ?? []).map(shellQuote)];

  return `#!/usr/bin/env bash
# vis-agn: a sharded run as a SLURM job array, written by \`vis-agn slurm\` (regenerate rather than edit).
# ${options.shards} shards in ${tasks} array tasks, from ${options.manifest}
# Submit with sbatch; \`vis-agn slurm-status\` lists the shards not done, \`vis-agn merge\` joins the parts.
${directives.join('\n')}
set -euo pipefail
: "\${SLURM_ARRAY_TASK_ID:?submit this script with sbatch}"

parts=${shellQuote(options.parts)}
shards=${options.shards}
# With more shards than array tasks, task i runs shards i, i + stride, i + 2 stride, ...
stride=${tasks}
max_retries=${maxRetries}
attempt=\${SLURM_RESTART_COUNT:-0}
run=(${run.join(' ')})

# The error class of a vis-agn exit code (src/errors.ts).
exit_class() {
  case $1 in
${classes.join('\n')}
    *) if (($1 > 128)); then echo "signal-$(($1 - 128))"; else echo "exit-$1"; fi ;;
  esac
}

# A crash (also by signal) or an output failure may pass on another attempt; bad inputs, usage,
# limit and model errors would fail the same way again.
retryable() {
  case $1 in
    ${retryable}) return 0 ;;
    *) (($1 > 128)) ;;
  esac
}

# One line per event in status/shard-K.tsv: shard, exit code, class, attempt, action, task, node, time.
record() {
  local file
  file=$(printf '%s/status/shard-%05d.tsv' "$parts" "$1")
  printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$1" "$2" "$3" "$attempt" "$4" \\
    "\${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID}" "\${SLURMD_NODENAME:-?}" "$(date -u +%FT%TZ)" >>"$file"
}

requeue=false
status=0
for ((shard = SLURM_ARRAY_TASK_ID; shard < shards; shard += stride)); do
  # A line with no outcome after it means the attempt was killed (time limit, node failure).
  record "$shard" - - running
  code=0
  "\${run[@]}" --shard "$shard" || code=$?
  if ((code == 0)); then
    action=done
  elif retryable "$code" && ((attempt < max_retries)); then
    action=requeue
    requeue=true
  else
    action=failed
  fi
  class=$(exit_class "$code")
  record "$shard" "$code" "$class" "$action"
  echo "vis-agn slurm: shard $shard, attempt $attempt: exit $code ($class), $action" >&2
  ((code == 0)) || status=$code
done

if $requeue; then
  # The whole task goes back to the queue: its done shards are skipped next time and an interrupted
  # one resumes from its last finished chunk. Slurm holds a requeued task for about two minutes.
  scontrol requeue "$SLURM_JOB_ID" || echo "vis-agn slurm: scontrol requeue failed; rerun the failed shards by hand" >&2
fi
exit "$status"
`;
}

export type ShardState = 'done' | 'failed' | 'requeued' | 'running' | 'pending';

export interface ShardStatus {
  readonly shard: number;
  readonly state: ShardState;
  /** From the last status line, when there is one. */
  readonly exitCode?: number;
  readonly className?: string;
  readonly attempt?: number;
  /** ARRAYJOB_TASK, whose log is logs/slurm-ARRAYJOB_TASK.out. */
  readonly task?: string;
  readonly node?: string;
  readonly time?: string;
}

const STATE_OF_ACTION: Readonly<Record<string, ShardState>> = { running: 'running', requeue: 'requeued', failed: 'failed' };

/**
 * Where each shard stands: done when its part is marked done, whatever the status lines say (a shard
 * may have been rerun by hand); otherwise as its last status line says, or pending without one or
 * when that line says done but the part is gone.
 */
export function readShardStates(parts: string, shards: number): ShardStatus[] {
  return Array.from({ length: shards }, (_, shard): ShardStatus => {
    const file = statusFile(parts, shard);
    const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    const last = lines.at(-1)?.split('\t');
    const done = existsSync(doneMarker(parts, shard));
    if (last === undefined) return { shard, state: done ? 'done' : 'pending' };
    const [, code, className, attempt, action, task, node, time] = last;
    return {
      shard,
      state: done ? 'done' : (STATE_OF_ACTION[action ?? ''] ?? 'pending'),
      ...(code === undefined || code === '-' ? {} : { exitCode: Number(code) }),
      ...(className === undefined || className === '-' ? {} : { className }),
      ...(attempt === undefined ? {} : { attempt: Number(attempt) }),
      ...(task === undefined ? {} : { task }),
      ...(node === undefined ? {} : { node }),
      ...(time === undefined ? {} : { time }),
    };
  });
}

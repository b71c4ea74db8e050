/**
 * Training the core generator: simulate unlabelled survey stamps (or take observed ones from
 * `vis-agn stamps`), train with PyTorch, export ONNX, and check the ONNX graphs against PyTorch through
 * onnxruntime-node. `quick` is the CI smoke run (a tiny model in about a minute on 2 cores). With
 * `stamps` it trains label-free on observed stamps under torchrun (`procs` ranks); `cleanRounds` then
 * scores the stamps with the model, leaves out the most significant and trains again (clean.ts).
 * `vis-agn train` is its command.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelError, UsageError } from '../errors.js';
import { samplingOf, defaultDetectionSettings } from '../detect/settings.js';
import { CoreGenerator } from '../model/generator.js';
import { checkParity, type ParityReport } from '../model/parity.js';
import { MER_RMS_TO_SIGMA } from '../ground/vis.js';
import { readShardArrays } from '../sim/read-shards.js';
import { DEFAULT_RECIPE, recipeDigest } from '../sim/recipe.js';
import { writeTrainingShards } from '../sim/shards.js';
import { cleaningRound, writeExclusions } from './clean.js';

// Two levels up from both src/stamps and dist/stamps.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const trainScript = path.join(repoRoot, 'pipelines', 'train', 'train.py');
const torchrun = path.join(repoRoot, 'pipelines', 'train', 'torchrun.py');

/** Debian's torch lives under /usr/bin/python3, not the pyenv python3 first on PATH. */
export function pythonExecutable(): string {
  return process.env.VIS_AGN_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env });
    child.on('error', (error) => reject(new ModelError(`could not start ${command}: ${error.message}`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new ModelError(`${command} ${args[0]} exited with ${code}`))));
  });
}

export interface TrainOptions {
  quick?: boolean | undefined;
  out: string;
  data: string;
  n: string;
  valN: string;
  seed: string;
  stamps?: string | undefined;
  valStamps?: string | undefined;
  procs?: string | undefined;
  cleanRounds?: string | undefined;
  cleanFraction?: string | undefined;
  extra: string[];
  /** Progress of scoring the stamps in a cleaning round (`label` names the round); none by default. */
  onCleaningProgress?: ((label: string) => (done: number, total: number | undefined) => void) | undefined;
}

/** A TCP port free now, for torchrun's rendezvous on this machine (a fixed one would collide between runs). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Label-free training on `vis-agn stamps` output: target observed, DistributedDataParallel on `procs` local ranks. */
async function trainOnStamps(options: TrainOptions, stamps: string): Promise<void> {
  const procs = Number(options.procs ?? '1');
  if (!Number.isInteger(procs) || procs < 1) throw new UsageError(`--procs must be a positive integer, got '${options.procs}'`);
  const rounds = Number(options.cleanRounds ?? '0');
  if (!Number.isInteger(rounds) || rounds < 0) throw new UsageError(`--clean-rounds must be a non-negative integer, got '${options.cleanRounds}'`);
  const fraction = Number(options.cleanFraction ?? '0.05');
  if (!(fraction > 0 && fraction < 1)) throw new UsageError(`--clean-fraction must lie in (0, 1), got '${options.cleanFraction}'`);
  if (!existsSync(path.join(stamps, 'manifest.json'))) throw new UsageError(`${stamps} has no manifest.json: write it with vis-agn stamps (a rerun completes an interrupted folder)`);
  const trainRound = async (exclude: string | undefined) => {
    const args = [
      torchrun, '--nnodes', '1', '--nproc_per_node', String(procs), '--master_port', String(await freePort()),
      trainScript, '--shards', stamps, ...(options.valStamps === undefined ? [] : ['--val-shards', options.valStamps]),
      '--target', 'observed', '--out', options.out, ...(exclude === undefined ? [] : ['--exclude', exclude]), ...(options.quick ? ['--quick'] : []), ...options.extra,
    ];
    // torchrun otherwise warns that it sets one OpenMP thread per rank; train.py sets its own threads.
    await run(pythonExecutable(), args, { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1' });
  };
  await trainRound(undefined);
  for (let round = 1; round <= rounds; round++) {
    const exclude = path.join(options.out, `clean-${round}.txt`);
    const generator = await CoreGenerator.load(path.join(options.out, 'card.json'), { device: 'cpu', threads: availableParallelism() });
    try {
      const sampling = { ...samplingOf(defaultDetectionSettings(generator.loaded.card)), jointFit: generator.jointFit };
      const result = await cleaningRound(generator, readShardArrays(stamps), { fraction, sampling, rmsToSigma: MER_RMS_TO_SIGMA, ...(options.onCleaningProgress === undefined ? {} : { onProgress: options.onCleaningProgress(`train: cleaning round ${round}`) }) });
      await writeExclusions(exclude, result, `cleaning round ${round}, scored by ${generator.loaded.card.name}`);
      process.stderr.write(`train: cleaning round ${round} leaves out ${result.excluded.length} of ${result.scored} stamps (raw z >= ${result.zThreshold.toFixed(2)})\n`);
    } finally {
      await generator.release();
    }
    await trainRound(exclude);
  }
}

export async function trainModel(options: TrainOptions): Promise<ParityReport> {
  if (options.stamps !== undefined) {
    await trainOnStamps(options, options.stamps);
    return checkExport(options.out);
  }
  if (options.valStamps !== undefined) throw new UsageError('--val-stamps goes with --stamps');
  const seed = Number(options.seed);
  const n = options.quick ? 1500 : Number(options.n);
  const valN = options.quick ? 300 : Number(options.valN);
  if (!Number.isInteger(seed) || !(n > 0) || !(valN > 0)) throw new UsageError('--seed, --n and --val-n must be positive integers');
  // The recipe's digest in the name: shards cached under an older population are never reused.
  const recipe = recipeDigest(DEFAULT_RECIPE);
  const trainDir = path.join(options.data, `train-${recipe}-seed${seed}-n${n}`);
  const valDir = path.join(options.data, `val-${recipe}-seed${seed + 1}-n${valN}`);
  for (const [dir, count, s] of [[trainDir, n, seed], [valDir, valN, seed + 1]] as const) {
    if (existsSync(path.join(dir, 'manifest.json'))) continue;
    process.stderr.write(`train: simulating ${count} stamps (seed ${s}) into ${dir}\n`);
    await writeTrainingShards({ count, seed: s, out: dir, stamp: 72 });
  }
  const args = [trainScript, '--shards', trainDir, '--val-shards', valDir, '--out', options.out, ...(options.quick ? ['--quick'] : []), ...options.extra];
  await run(pythonExecutable(), args);
  return checkExport(options.out);
}

async function checkExport(out: string): Promise<ParityReport> {
  const parity = await checkParity(path.join(out, 'card.json'));
  const worst = parity.worst.toExponential(2);
  if (!parity.ok) throw new ModelError(`ONNX and PyTorch outputs differ by ${worst} (tolerance ${parity.tolerance})`, { file: out });
  process.stdout.write(`train: ONNX matches PyTorch through onnxruntime-node (max abs diff ${worst} <= ${parity.tolerance})\n`);
  return parity;
}

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, expect, test } from '@jest/globals';

import { writeTrainingShards } from '../../src/sim/shards.js';
import { describeIf, hasTorch, repoRoot } from '../helpers/shared.js';

const localCluster = path.join(repoRoot, 'pipelines', 'slurm', 'local-cluster.sh');
const script = path.join(repoRoot, 'pipelines', 'slurm', 'train.sbatch');

const SLURM_BINARIES = ['slurmctld', 'slurmd', 'munged', 'mungekey', 'sbatch', 'srun', 'squeue', 'scontrol', 'sinfo'];
const hasSlurm = SLURM_BINARIES.every((name) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' }).status === 0);
const isRoot = process.getuid?.() === 0;


describeIf(hasSlurm && isRoot && hasTorch(true), `needs root, ${SLURM_BINARIES.join(', ')} (slurm-wlm, munge) and python3-torch`, 'pipelines/slurm/train.sbatch on a one-node local SLURM', () => {
  let dir: string;
  let cluster: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-slurm-train-'));
    cluster = path.join(dir, 'cluster');
    const started = spawnSync('bash', [localCluster, 'start', cluster], { encoding: 'utf8', timeout: 60_000 });
    if (started.status !== 0) throw new Error(`local-cluster.sh start failed:\n${started.stderr}`);
    env = {
      ...process.env,
      SLURM_CONF: path.join(cluster, 'slurm.conf'),
      VIS_AGN_HOME: repoRoot,
      VIS_AGN_PYTHON: '/usr/bin/python3',
      PROCS_PER_NODE: '2',
      OMP_NUM_THREADS: '1',
      MASTER_PORT: String(29900 + (process.pid % 90)),
    };
    await writeTrainingShards({ count: 120, seed: 8, out: path.join(dir, 'shards'), stamp: 72, shardSize: 30, workers: 1 });
  }, 120_000);

  afterAll(() => {
    const stopped = spawnSync('bash', [localCluster, 'stop', cluster], { encoding: 'utf8', timeout: 60_000 });
    rmSync(dir, { recursive: true, force: true });
    if (stopped.status !== 0) throw new Error(`local-cluster.sh stop failed: ${stopped.stderr}`);
  }, 60_000);

  /** Submits the training script and waits for the job; returns the job's output. */
  function submit(extra: string[]): string {
    const log = path.join(dir, 'slurm.out');
    const args = ['--wait', '--nodes=1', `--output=${log}`, script, path.join(dir, 'shards'), path.join(dir, 'model')];
    const result = spawnSync('sbatch', [...args, '--width', '8', '--hidden', '32', '--batch', '16', '--max-steps', '4', '--eval-every', '1', '--threads', '1', ...extra], { encoding: 'utf8', env, timeout: 180_000 });
    const output = existsSync(log) ? readFileSync(log, 'utf8') : '';
    if (result.status !== 0) throw new Error(`sbatch exited with ${result.status}: ${result.stderr}\n${output.slice(-3000)}`);
    return output;
  }

  const steps = (): number[] => readFileSync(path.join(dir, 'model', 'train-log.jsonl'), 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { step: number }).step);

  test('srun + torchrun train 2 ranks; a job stopped at its time slice is resubmitted and continues from the checkpoint', () => {
    expect(submit(['--pause-at', '2'])).toMatch(/1 node\(s\) x 2 rank\(s\)[\s\S]*paused at step 2/);
    expect(steps()).toEqual([1, 2]);
    expect(existsSync(path.join(dir, 'model', 'checkpoint.pt'))).toBe(true);
    expect(existsSync(path.join(dir, 'model', 'card.json'))).toBe(false);

    expect(submit([])).toMatch(/over 2 rank\(s\)[\s\S]*train: wrote/);
    expect(steps()).toEqual([1, 2, 3, 4]);
    const card = JSON.parse(readFileSync(path.join(dir, 'model', 'card.json'), 'utf8')) as { training: Record<string, unknown> };
    expect(card.training).toMatchObject({ world_size: 2, steps: 4, target: 'observed', distributed: { backend: 'gloo' } });
  }, 300_000);
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, expect, test } from '@jest/globals';

import { writeTrainingShards } from '../../src/sim/shards.js';
import { describeIf, hasTorch, repoRoot } from '../helpers/shared.js';


interface LogLine {
  step: number;
  train_flow: number;
  train_nll: number;
  val_total: number;
  world_size: number;
}

describeIf(hasTorch(true), 'Debian python3-torch (with gloo) and python3-onnx are not installed', 'train.py under torchrun (DistributedDataParallel, gloo)', () => {
  let dir: string;
  let port = 29600 + (process.pid % 300);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vis-agn-ddp-'));
    await writeTrainingShards({ count: 240, seed: 7, out: path.join(dir, 'shards'), stamp: 72, shardSize: 60, workers: 1 });
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A tiny model for 4 steps of a 32-stamp global batch on `procs` ranks; returns its log. */
  function train(name: string, procs: number, extra: string[] = []): LogLine[] {
    const out = path.join(dir, name);
    const result = spawnSync(
      '/usr/bin/python3',
      [
        path.join(repoRoot, 'pipelines', 'train', 'torchrun.py'), '--nnodes', '1', '--nproc_per_node', String(procs), '--master_port', String(port++),
        path.join(repoRoot, 'pipelines', 'train', 'train.py'), '--shards', path.join(dir, 'shards'), '--out', out, '--checkpoint', path.join(dir, `${name}.pt`),
        '--width', '8', '--hidden', '32', '--batch', '32', '--draws', '2', '--max-steps', '4', '--eval-every', '1', '--threads', '1', '--target', 'galaxies', ...extra,
      ],
      { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } },
    );
    if (result.status !== 0) throw new Error(`torchrun ${name} exited with ${result.status}:\n${result.stderr.slice(-3000)}`);
    return readFileSync(path.join(out, 'train-log.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as LogLine);
  }

  const curve = (log: LogLine[]): number[][] => log.map((l) => [l.step, l.train_flow, l.train_nll, l.val_total]);

  test('2 ranks follow the 1-rank loss curve of the same global batch; a resume from a checkpoint continues it', () => {
    const one = train('one', 1);
    const two = train('two', 2);
    expect(one.map((l) => l.step)).toEqual([1, 2, 3, 4]);
    expect(two.every((l) => l.world_size === 2)).toBe(true);
    // Same stamps, same noise draws, gradients averaged with each rank's share: only float summation order differs.
    two.forEach((line, i) => {
      for (const key of ['train_flow', 'train_nll', 'val_total'] as const) expect(Math.abs(line[key] - one[i]![key])).toBeLessThan(1e-4 * Math.abs(one[i]![key]));
    });
    // The curve moves, so matching it is not trivial.
    expect(new Set(one.map((l) => l.val_total.toFixed(6))).size).toBe(4);

    const paused = train('resumed', 2, ['--pause-at', '2']);
    expect(paused.map((l) => l.step)).toEqual([1, 2]);
    const resumed = train('resumed', 2, ['--resume']);
    expect(resumed.map((l) => l.step)).toEqual([1, 2, 3, 4]);
    const [a, b] = [curve(resumed), curve(two)];
    a.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - b[i]![j]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(b[i]![j]!)))));
    const card = JSON.parse(readFileSync(path.join(dir, 'resumed', 'card.json'), 'utf8')) as { training: { world_size: number; steps: number; distributed: { backend: string } } };
    expect(card.training).toMatchObject({ world_size: 2, steps: 4, distributed: { backend: 'gloo' } });
  }, 240_000);
});

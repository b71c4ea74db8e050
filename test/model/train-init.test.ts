import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, expect, test } from '@jest/globals';

import { writeTrainingShards } from '../../src/sim/shards.js';
import { describeIf, hasTorch, repoRoot } from '../helpers/shared.js';


describeIf(hasTorch(), 'Debian python3-torch and python3-onnx are not installed', 'train.py --init-from (continuing a shipped model)', () => {
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vis-agn-init-'));
    await writeTrainingShards({ count: 200, seed: 9, out: path.join(dir, 'shards'), stamp: 72, shardSize: 100, workers: 1 });
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A tiny model trained for 3 steps; returns the exit status and stderr. */
  function train(name: string, extra: string[]): { status: number | null; stderr: string } {
    const result = spawnSync(
      '/usr/bin/python3',
      [
        path.join(repoRoot, 'pipelines', 'train', 'train.py'), '--shards', path.join(dir, 'shards'), '--out', path.join(dir, name),
        '--checkpoint', path.join(dir, `${name}.pt`), '--width', '8', '--hidden', '32', '--batch', '16', '--draws', '2',
        '--max-steps', '3', '--eval-every', '3', '--threads', '1', '--target', 'galaxies', ...extra,
      ],
      { encoding: 'utf8', timeout: 300_000 },
    );
    return { status: result.status, stderr: result.stderr };
  }

  /** The PyTorch reference encoder features the export wrote (the same validation stamps for every run here). */
  const features = (name: string): Float32Array => {
    const bytes = readFileSync(path.join(dir, name, 'reference', 'features.f32'));
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  };
  const largestDifference = (a: Float32Array, b: Float32Array): number => a.reduce((worst, v, i) => Math.max(worst, Math.abs(v - b[i]!)), 0);

  test('starts from the exported weights: with a zero learning rate it exports the same network', () => {
    expect(train('first', ['--seed', '1']).status).toBe(0);
    // A learning rate of 0 freezes the weights, so the export shows what the run started from.
    const continued = train('continued', ['--seed', '2', '--lr', '0', '--init-from', path.join(dir, 'first')]);
    expect(continued.status).toBe(0);
    const fresh = train('fresh', ['--seed', '2', '--lr', '0']);
    expect(fresh.status).toBe(0);

    expect(features('first').length).toBeGreaterThan(0);
    expect(features('continued')).toHaveLength(features('first').length);
    expect(largestDifference(features('continued'), features('first'))).toBeLessThan(1e-5);
    expect(largestDifference(features('fresh'), features('first'))).toBeGreaterThan(1e-3);
    const card = JSON.parse(readFileSync(path.join(dir, 'continued', 'card.json'), 'utf8'));
    expect(card.training.initialised_from).toMatchObject({ model: 'first', steps: 3 });
    expect(card.training.initialised_from.card_sha256).toMatch(/^[0-9a-f]{64}$/);
  }, 300_000);

  test('refuses the weights of another architecture, naming what is missing', () => {
    const other = train('other', ['--denoiser-layers', '4', '--init-from', path.join(dir, 'first')]);
    expect(other.status).not.toBe(0);
    expect(other.stderr).toContain('--init-from');
    expect(other.stderr).toContain('denoiser.blocks.2.weight');
  }, 300_000);
});

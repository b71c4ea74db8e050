import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, expect, test } from '@jest/globals';

import { writeTrainingShards } from '../../src/sim/shards.js';
import { describeIf, hasTorch, repoRoot } from '../helpers/shared.js';

describeIf(hasTorch(), 'Debian python3-torch and python3-onnx are not installed', 'train.py --shards with several folders', () => {
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vis-agn-folders-'));
    await writeTrainingShards({ count: 150, seed: 9, out: path.join(dir, 'a'), stamp: 72, shardSize: 50, workers: 1 });
    await writeTrainingShards({ count: 100, seed: 10, out: path.join(dir, 'b'), stamp: 72, shardSize: 50, workers: 1 });
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A tiny model trained for 2 steps on `folders`; returns its card's training record. */
  function trainOn(name: string, folders: string[], extra: string[] = []): { data: Record<string, unknown> & { used: number } } {
    const result = spawnSync(
      '/usr/bin/python3',
      [
        path.join(repoRoot, 'pipelines', 'train', 'train.py'), '--shards', ...folders.map((f) => path.join(dir, f)), '--out', path.join(dir, name),
        '--width', '8', '--hidden', '32', '--batch', '16', '--draws', '2', '--max-steps', '2', '--eval-every', '2', '--threads', '1',
        '--target', 'galaxies', '--seed', '1', ...extra,
      ],
      { encoding: 'utf8', timeout: 300_000 },
    );
    expect(result.stderr).not.toMatch(/Traceback/);
    expect(result.status).toBe(0);
    return JSON.parse(readFileSync(path.join(dir, name, 'card.json'), 'utf8')).training;
  }

  test('trains on the normal galaxies of every folder and records each manifest', () => {
    const validation = ['--val-shards', path.join(dir, 'b')];
    const a = trainOn('a-only', ['a'], validation);
    const b = trainOn('b-only', ['b'], validation);
    const both = trainOn('both', ['a', 'b'], validation);

    expect(a.data.used).toBeGreaterThan(0);
    expect(b.data.used).toBeGreaterThan(0);
    expect(both.data.used).toBe(a.data.used + b.data.used);
    expect(both.data).toMatchObject({ stamps: 250, folders: [{ seed: 9, stamps: 150 }, { seed: 10, stamps: 100 }] });
    // One folder keeps the card's single-manifest form.
    expect(a.data).toMatchObject({ seed: 9, stamps: 150, manifest: path.join(dir, 'a', 'manifest.json') });
  }, 300_000);
});

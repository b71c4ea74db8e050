import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, expect, test } from '@jest/globals';

import { samplingOf, defaultDetectionSettings } from '../../src/detect/settings.js';
import { MER_RMS_TO_SIGMA } from '../../src/ground/vis.js';
import { defaultCardPath } from '../../src/model/card.js';
import { CoreGenerator } from '../../src/model/generator.js';
import { readShardArrays, readShards } from '../../src/sim/read-shards.js';
import { writeTrainingShards } from '../../src/sim/shards.js';
import { cleaningRound, writeExclusions } from '../../src/stamps/clean.js';
import { describeIf, hasTorch, repoRoot } from '../helpers/shared.js';

let dir: string;
const shards = () => path.join(dir, 'shards');

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vis-agn-clean-'));
  await writeTrainingShards({ count: 160, seed: 9, out: shards(), stamp: 72, shardSize: 80, workers: 1 });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a cleaning round leaves out the bright point sources of an unlabelled survey mix, by the model alone', async () => {
  const generator = await CoreGenerator.load(defaultCardPath(), { device: 'cpu', threads: 1 });
  try {
    const sampling = { ...samplingOf(defaultDetectionSettings(generator.loaded.card)), jointFit: generator.jointFit };
    const round = await cleaningRound(generator, readShardArrays(shards()), { fraction: 0.15, sampling, rmsToSigma: MER_RMS_TO_SIGMA });
    expect(round.scored).toBe(160);
    expect(round.excluded).toHaveLength(24);
    expect([...round.excluded].sort((a, b) => a - b)).toEqual(round.excluded);
    // The truth is read only here, to check what the model chose without it.
    const { truth } = readShards(shards());
    const brightPointLike = truth.flatMap((t, i) => (t.fps >= 0.8 && t.mag < 22.5 ? [i] : []));
    expect(brightPointLike.length).toBeGreaterThan(0);
    for (const i of brightPointLike) expect(round.excluded).toContain(i);
    const galaxiesLeftOut = round.excluded.filter((i) => truth[i]!.fps === 0).length;
    const galaxyShare = truth.filter((t) => t.fps === 0).length / truth.length;
    expect(galaxiesLeftOut / round.excluded.length).toBeLessThan(galaxyShare);

    const list = path.join(dir, 'clean-1.txt');
    await writeExclusions(list, round, 'test');
    const lines = readFileSync(list, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^# test: 24 of 160 stamps, raw z >= /);
    expect(lines.slice(1).map(Number)).toEqual(round.excluded);
  } finally {
    await generator.release();
  }
}, 120_000);

test('a cleaning fraction outside (0, 1) is refused before any scoring', async () => {
  const generator = await CoreGenerator.load(defaultCardPath(), { device: 'cpu', threads: 1 });
  try {
    const sampling = samplingOf(defaultDetectionSettings(generator.loaded.card));
    await expect(cleaningRound(generator, readShardArrays(shards()), { fraction: 1, sampling, rmsToSigma: MER_RMS_TO_SIGMA })).rejects.toThrow(/cleaning fraction/);
  } finally {
    await generator.release();
  }
});

describeIf(hasTorch(), 'Debian python3-torch and python3-onnx are not installed', 'train.py --exclude', () => {
  test('the listed stamps are left out of training and the card records the list', () => {
    const list = path.join(dir, 'exclude.txt');
    writeFileSync(list, '# three stamps\n0\n5\n5\n159\n');
    const out = path.join(dir, 'model');
    const result = spawnSync(
      '/usr/bin/python3',
      [
        path.join(repoRoot, 'pipelines', 'train', 'train.py'), '--shards', shards(), '--val-shards', shards(), '--out', out, '--checkpoint', path.join(dir, 'model.pt'),
        '--target', 'observed', '--exclude', list, '--width', '8', '--hidden', '32', '--batch', '16', '--draws', '1', '--max-steps', '1', '--eval-every', '1', '--threads', '1',
      ],
      { encoding: 'utf8' },
    );
    expect(result.stderr.slice(-2000)).not.toMatch(/Traceback/);
    expect(result.status).toBe(0);
    const card = JSON.parse(readFileSync(path.join(out, 'card.json'), 'utf8')) as { training: { data: { used: number; excluded: { stamps: number; sha256: string } } } };
    expect(card.training.data.excluded.stamps).toBe(3);
    expect(card.training.data.excluded.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(card.training.data.used).toBe(157);
  }, 180_000);
});

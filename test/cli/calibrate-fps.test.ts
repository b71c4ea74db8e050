import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { defaultCardPath, readCard, type FpsCalibration } from '../../src/model/card.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
let card: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vis-agn-calibrate-fps-'));
  cpSync(path.dirname(defaultCardPath()), path.join(dir, 'model'), { recursive: true });
  card = path.join(dir, 'model', 'card.json');
  const simulated = await runCli(['simulate', 'shards', '--n', '400', '--seed', '41', '--stamp', '72', '--mix', 'grid', '--fps', '0,0.2,0.5,1', '--mag', '19,22', '--workers', '1', '--out', path.join(dir, 'grid')]);
  expect(simulated.code).toBe(0);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vis-agn calibrate-fps', () => {
  test('fits the f_PS regression per magnitude bin and writes it into the card with where it came from', async () => {
    const before = JSON.parse(readFileSync(card, 'utf8'));
    const { code, stdout } = await runCli(['calibrate-fps', '--model', card, '--shards', path.join(dir, 'grid'), '--per-magnitude', '100', '--threads', '1', '--write-card']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/f_PS regression: \d+ sources, 4 magnitude bins/);
    const after = readCard(card).card;
    const fit = after.significance!.f_ps! as FpsCalibration & { readonly shards: readonly { readonly seed: number }[] };
    expect(fit.magnitudes).toHaveLength(4);
    expect(fit.shards.map((s) => s.seed)).toEqual([41]);
    expect(fit.joint_fit).toBe(before.sampler.joint_fit);
    expect(fit.morphology_radius).toBe(before.significance.morphology_radius);
    // Nothing else in the card moved.
    const { f_ps: _new, ...maps } = after.significance!;
    const { f_ps: _old, ...mapsBefore } = before.significance;
    expect(maps).toEqual(mapsBefore);
  }, 120_000);

  test('refuses shards without AGN, QSOs or stars to fit on', async () => {
    const galaxies = path.join(dir, 'galaxies');
    expect((await runCli(['simulate', 'shards', '--n', '150', '--seed', '42', '--stamp', '72', '--mix', 'grid', '--fps', '0', '--workers', '1', '--out', galaxies])).code).toBe(0);
    const { code, stderr } = await runCli(['calibrate-fps', '--model', card, '--shards', galaxies, '--per-magnitude', '100', '--threads', '1']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/no AGN or QSO among the shards/);
  }, 120_000);
});

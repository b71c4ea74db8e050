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
  expect((await runCli(['simulate', 'shards', '--n', '150', '--seed', '42', '--stamp', '72', '--mix', 'grid', '--fps', '0', '--workers', '1', '--out', path.join(dir, 'galaxies')])).code).toBe(0);
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
    expect(fit.ps_flux_err_scale).toHaveLength(4);
    fit.ps_flux_err_scale!.forEach((factor) => expect(factor).toBeGreaterThanOrEqual(0.5));
    expect(stdout).toMatch(/ps_flux_err x \d+\.\d\d/);
    expect(fit.shards.map((s) => s.seed)).toEqual([41]);
    expect(fit.joint_fit).toBe(before.sampler.joint_fit);
    expect(fit.morphology_radius).toBe(before.significance.morphology_radius);
    // Nothing else in the card moved.
    const { f_ps: _new, ...maps } = after.significance!;
    const { f_ps: _old, ...mapsBefore } = before.significance;
    expect(maps).toEqual(mapsBefore);
  }, 120_000);

  test('refuses shards without AGN, QSOs or stars to fit on', async () => {
    const { code, stderr } = await runCli(['calibrate-fps', '--model', card, '--shards', path.join(dir, 'galaxies'), '--per-magnitude', '100', '--threads', '1']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/no AGN or QSO among the shards/);
  }, 120_000);
});

describe("vis-agn calibrate and the card's f_PS regression", () => {
  const calibrate = (...extra: string[]) => runCli(['calibrate', '--model', card, '--shards', path.join(dir, 'galaxies'), '--limit', '150', '--per-magnitude', '0', '--threads', '1', '--write-card', ...extra]);

  test('keeps it where the SPREAD_MODEL radius and the joint fit stay, and drops it, saying so, where they change', async () => {
    const radius = String(readCard(card).card.significance!.morphology_radius);
    const fitted = readCard(card).card.significance!.f_ps;
    expect(fitted).toBeDefined();
    const same = await calibrate('--morphology-radius', radius);
    expect(same.code).toBe(0);
    expect(readCard(card).card.significance!.f_ps).toEqual(fitted);
    const other = await calibrate('--morphology-radius', '4');
    expect(other.code).toBe(0);
    expect(other.stdout).toMatch(/dropped the card's f_PS regression \(fitted with joint fit on and SPREAD_MODEL over \d+(\.\d+)? px\): refit it with vis-agn calibrate-fps/);
    const after = readCard(card).card.significance!;
    expect(after.f_ps).toBeUndefined();
    expect(after.morphology_radius).toBe(4);
  }, 120_000);

  test('stores the generative statistic it fitted agn_z on (the studentised matched filter by default) and the maps\' tail slopes', async () => {
    const studentised = await calibrate();
    expect(studentised.code).toBe(0);
    expect(studentised.stdout).toMatch(/agn_z from the PSF's matched filter, studentised/);
    const fitted = readCard(card).card.significance!;
    expect(fitted.generative_statistic).toBe('studentised_matched_filter');
    expect(fitted.knots!.tail_scales!.upper).toBeGreaterThan(0);
    expect(fitted.combined!.knots!.tail_scales!.lower).toBeGreaterThan(0);
    const projection = await calibrate('--generative-statistic', 'projection');
    expect(projection.code).toBe(0);
    expect(projection.stdout).toMatch(/agn_z from the excess along the PSF over its spread/);
    const stored = readCard(card).card.significance!;
    expect(stored.generative_statistic).toBe('projection');
    // The same galaxies, another statistic: another map.
    expect(stored.knots!.from).not.toEqual(fitted.knots!.from);
    const wrong = await calibrate('--generative-statistic', 'gls');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--generative-statistic must be one of studentised_matched_filter, matched_filter, projection, got 'gls'/);
  }, 180_000);

  test('stores the nucleus allowance it fitted with (5% of the light by default), and none where it is 0', async () => {
    expect((await calibrate()).code).toBe(0);
    const allowing = readCard(card).card.significance!;
    expect(allowing.nucleus_allowance).toBe(0.05);
    expect((await calibrate('--nucleus-allowance', '0')).code).toBe(0);
    const none = readCard(card).card.significance!;
    expect(none.nucleus_allowance).toBeUndefined();
    // A null without the nucleus: the same galaxies sit higher.
    expect(none.offset).toBeGreaterThan(allowing.offset);
    const wrong = await calibrate('--nucleus-allowance', '0.6');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--nucleus-allowance/);
  }, 180_000);
});

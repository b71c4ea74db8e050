import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, expect, test } from '@jest/globals';

import { crosscheckSet, crosscheckUnavailable } from '../../src/bench/crosscheck-set.js';
import { readCutout } from '../../src/cutout/from-files.js';
import { MAGZERO } from '../../src/ground/vis.js';
import { describeIf } from '../helpers/shared.js';

const unavailable = crosscheckUnavailable();

describeIf(unavailable === null, unavailable ?? '', 'the independent evaluation set (pipelines/crosscheck/make_set.py)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-crosscheck-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const recipe = { seed: 3, galaxies: 6, agnPerFps: 2, stars: 3, fps: [0.2, 0.8], mag: [20, 21] as const };

  test('renders the recipe as Q1-layout cutouts that the pipeline reads, with truth for every one', async () => {
    const set = await crosscheckSet(dir, recipe);
    expect(set.files).toHaveLength(6 + 2 * 2 + 3);
    expect(set.truth.map((t) => t.cls).sort()).toEqual([...Array(6).fill('galaxy'), 'agn', 'agn', 'qso', 'qso', 'star', 'star', 'star'].sort());
    for (const t of set.truth) expect(t.mag).toBeGreaterThanOrEqual(20);
    // Files and truth rows in the same order, by object id (the peers' subset relies on it).
    expect(set.files.map((f) => readCutout(f, { side: 64 }).objectId)).toEqual(set.truth.map((t) => t.objectId));
    // A star's light is all there: the central 21x21 pixels hold its flux to within the noise and the PSF's cut wings.
    const star = set.truth.findIndex((t) => t.cls === 'star');
    const cutout = readCutout(set.files[star]!, { side: 21 });
    const flux = cutout.pixels.reduce((a, v) => a + v, 0);
    expect(flux / 10 ** (-0.4 * (set.truth[star]!.mag - MAGZERO))).toBeCloseTo(1, 1);
  }, 120_000);

  test('reuses a set of the same recipe and renders again for another', async () => {
    const truth = path.join(dir, 'truth.csv');
    const before = statSync(truth).mtimeMs;
    await crosscheckSet(dir, recipe);
    expect(statSync(truth).mtimeMs).toBe(before);
    const other = await crosscheckSet(dir, { ...recipe, galaxies: 2 });
    expect(other.files).toHaveLength(2 + 2 * 2 + 3);
  }, 120_000);
});

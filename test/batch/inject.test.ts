import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { runInjection, type InjectionOptions } from '../../src/batch/inject.js';
import { defaultDetectionSettings } from '../../src/detect/settings.js';
import { defaultCardPath, readCard } from '../../src/model/card.js';
import { simulateCutouts } from '../../src/sim/cutouts.js';

describe('runInjection', () => {
  let dir: string;
  let files: string[];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-inject-seed-'));
    files = (await simulateCutouts({ count: 5, seed: 43, out: path.join(dir, 'sims'), workers: 1 })).files;
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const options = (fps: number[]): InjectionOptions => ({
    inputs: files,
    fps,
    magEdges: [19, 25],
    cardPath: defaultCardPath(),
    device: 'cpu',
    threads: 1,
    batch: 2,
    settings: defaultDetectionSettings(readCard(defaultCardPath()).card, 9),
  });

  test('the rows of one f_PS do not depend on which other f_PS values are injected', async () => {
    const alone = await runInjection(options([0.3]));
    const among = await runInjection(options([0.05, 0.1, 0.3, 0.5]));
    const at = (results: typeof alone.results) => results.filter((r) => r.fps === 0.3).map((r) => ({ ...r, objectId: String(r.objectId) }));
    expect(at(alone.results).length).toBe(alone.sources);
    expect(alone.sources).toBeGreaterThan(0);
    expect(at(among.results)).toEqual(at(alone.results));
    // The same f_PS at another seed draws other positions and noise, so the equality above is not vacuous.
    const reseeded = await runInjection({ ...options([0.3]), settings: { ...options([0.3]).settings, seed: 10 } });
    expect(at(reseeded.results).map((r) => r.agnZ)).not.toEqual(at(alone.results).map((r) => r.agnZ));
  }, 120_000);
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, expect, test } from '@jest/globals';

import { describeIf, repoRoot } from '../helpers/shared.js';

const index = path.join(repoRoot, 'dist', 'bench', 'index.js');

// Every benchmark in its CI mode: it must run and write its figures. Nothing is asserted about speed.
describeIf(existsSync(index), 'dist/ is not built (npm run build)', 'npm run bench -- --quick', () => {
  const results = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-bench-quick-'));
  afterAll(() => rmSync(results, { recursive: true, force: true }));

  test('every benchmark runs and writes its JSON and markdown', () => {
    const run = spawnSync(process.execPath, [index, '--quick', '--results', results], { cwd: repoRoot, encoding: 'utf8', timeout: 600_000 });
    expect(run.stderr).not.toMatch(/benchmarks failed/);
    expect(run.status).toBe(0);
    const read = (name: string) => JSON.parse(readFileSync(path.join(results, `${name}.json`), 'utf8')) as Record<string, any>;
    for (const name of ['fits', 'sim', 'model', 'stages', 'detect', 'run']) {
      expect(existsSync(path.join(results, `${name}.md`))).toBe(true);
      expect(typeof read(name)).toBe('object');
    }
    const stages = read('stages');
    for (const stage of ['read', 'preprocess', 'encoder', 'denoiser', 'scoring', 'write']) expect(stages.stagesMs[stage]).toBeGreaterThan(0);
    expect(stages.tileCutting.objects).toBeGreaterThan(0);
    expect(stages.grid[0].endToEndPerSecond).toBeGreaterThan(0);
    expect(stages.machine.onnxruntime).toMatch(/^\d+\.\d+/);
    expect(read('model').ours.sourcesPerSecond).toBeGreaterThan(0);
  }, 600_000);
});

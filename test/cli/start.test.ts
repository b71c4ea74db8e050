import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from '@jest/globals';

import { readCatalog } from '../../src/catalog/read.js';
import { EXIT_CODES } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';

describe('vis-agn start (npm start)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-start-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('simulates, detects, and leaves a catalogue, a completeness plot, an inspection panel and a summary', async () => {
    const out = path.join(dir, 'demo');
    const { code, stdout } = await runCli(['start', '--out', out, '--n', '30']);
    expect(code).toBe(EXIT_CODES.ok);
    expect(stdout).toMatch(/normal galaxies: 12, selected \(false positives\): \d+\/12 = [\d.]+% \[[\d.]+%, [\d.]+%\] \(68% Wilson interval\)/);
    expect(stdout).toMatch(/\| completeness of the selection \[68% Wilson interval\] \|/);
    expect(stdout).toMatch(/\| 0\.20 \| 3 \|/);
    const catalog = await readCatalog(path.join(out, 'catalog.arrow'));
    expect(catalog.rows).toHaveLength(30);
    const panel = stdout.match(/inspection panel: (\S+)/)![1]!;
    for (const file of [path.join(out, 'completeness.png'), panel]) expect(readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toMatch(/\| true f_PS \|/);
    expect(existsSync(path.join(out, 'sims', 'truth.arrow'))).toBe(true);
  }, 120_000);
});

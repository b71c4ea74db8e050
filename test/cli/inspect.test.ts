import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from '@jest/globals';

import { readCatalog } from '../../src/catalog/read.js';
import { EXIT_CODES } from '../../src/errors.js';
import { simulateCutouts } from '../../src/sim/cutouts.js';
import { runCli } from '../helpers/cli.js';

describe('vis-agn inspect', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-inspect-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("recomputes a catalogue's source with the run's settings and writes its panel", async () => {
    const sims = await simulateCutouts({ count: 3, seed: 17, out: path.join(dir, 'sims'), workers: 1 });
    const run = path.join(dir, 'run');
    expect((await runCli(['run', ...sims.files, '--out', run, '--seed', '5', '--quiet'])).code).toBe(EXIT_CODES.ok);
    const row = (await readCatalog(path.join(run, 'catalog.arrow'))).rows[1]!;
    const out = path.join(dir, 'panel.png');
    const result = await runCli(['inspect', '--catalog', path.join(run, 'catalog.arrow'), '--id', String(row.object_id), '--out', out]);
    expect(result.code).toBe(EXIT_CODES.ok);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`agn_z ${row.agn_z!.toFixed(2)}`);
    expect(result.stdout).toMatch(/class (none|agn|qso|point_like)/);
    expect(result.stdout).toMatch(/flags: none/);
    expect(readFileSync(out).subarray(1, 4).toString()).toBe('PNG');
    // The file inspected directly with the run's seed gives the same panel, byte for byte.
    const direct = path.join(dir, 'direct.png');
    expect((await runCli(['inspect', row.source_file, '--seed', '5', '--out', direct])).code).toBe(EXIT_CODES.ok);
    expect(readFileSync(direct).equals(readFileSync(out))).toBe(true);
  }, 60_000);

  it('refuses unknown ids and incomplete requests', async () => {
    const run = path.join(dir, 'run', 'catalog.arrow');
    expect((await runCli(['inspect', '--catalog', run, '--id', '999999'])).code).toBe(EXIT_CODES.invalidInput);
    expect((await runCli(['inspect', '--catalog', run])).code).toBe(EXIT_CODES.usage);
    expect((await runCli(['inspect'])).code).toBe(EXIT_CODES.usage);
  }, 30_000);
});

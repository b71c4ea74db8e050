import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, test } from '@jest/globals';

import { EXIT_CODES } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { describeIf, repoRoot } from '../helpers/shared.js';

const root = mkdtempSync(path.join(tmpdir(), 'vis-agn-simulate-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const refusal = (file: string): string => `error: ${file}: already exists; give --overwrite to replace it\n`;

describe('outputs that already exist', () => {
  test('simulate shards into a folder with a manifest is refused, naming it, unless given --overwrite', async () => {
    const out = path.join(root, 'shards');
    const shards = (...extra: string[]) => runCli(['simulate', 'shards', '--n', '2', '--stamp', '16', '--workers', '1', '--out', out, ...extra]);
    expect((await shards('--seed', '1')).code).toBe(EXIT_CODES.ok);
    const manifest = path.join(out, 'manifest.json');
    const first = readFileSync(manifest, 'utf8');

    const refused = await shards('--seed', '2');
    expect(refused).toMatchObject({ code: EXIT_CODES.outputFailed, stdout: '', stderr: refusal(manifest) });
    expect(readFileSync(manifest, 'utf8')).toBe(first);

    expect((await shards('--seed', '2', '--overwrite')).code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(readFileSync(manifest, 'utf8'))).toMatchObject({ seed: 2 });
  });

  test('slurm --out and model-quality --out are refused before any work, naming the file', async () => {
    const cutouts = path.join(root, 'cutouts');
    expect((await runCli(['simulate', 'cutouts', '--n', '2', '--size', '32', '--workers', '1', '--out', cutouts])).code).toBe(EXIT_CODES.ok);
    const plan = path.join(root, 'plan.json');
    expect((await runCli(['plan', path.join(cutouts, 'cutouts'), '--shards', '1', '--out', plan])).code).toBe(EXIT_CODES.ok);
    const script = path.join(root, 'array.sbatch');
    writeFileSync(script, 'mine\n');
    const slurm = (...extra: string[]) => runCli(['slurm', '--manifest', plan, '--parts', path.join(root, 'parts'), '--out', script, ...extra]);
    expect(await slurm()).toMatchObject({ code: EXIT_CODES.outputFailed, stdout: '', stderr: refusal(script) });
    expect(readFileSync(script, 'utf8')).toBe('mine\n');
    expect((await slurm('--overwrite')).code).toBe(EXIT_CODES.ok);
    expect(readFileSync(script, 'utf8')).toMatch(/^#!/);

    // The shards do not exist: without the refusal this would fail later, on reading them.
    const report = path.join(root, 'quality.json');
    writeFileSync(report, 'mine\n');
    expect(await runCli(['model-quality', '--shards', path.join(root, 'none'), '--out', report])).toMatchObject({ code: EXIT_CODES.outputFailed, stderr: refusal(report) });
    expect(readFileSync(report, 'utf8')).toBe('mine\n');
  });
});

// A pipe is what a log file or CI sees: stderr is not a terminal there.
const cli = path.join(repoRoot, 'dist', 'cli', 'index.js');
describeIf(existsSync(cli), `${cli} not built (run npm run build)`, 'simulate progress in a log', () => {
  test('is the run progress line with rate and ETA, once at the end of a short run, then the summary', () => {
    const out = path.join(root, 'logged');
    const result = spawnSync(process.execPath, [cli, 'simulate', 'cutouts', '--n', '40', '--size', '32', '--workers', '1', '--out', out], { encoding: 'utf8' });
    expect(result.status).toBe(EXIT_CODES.ok);
    // No bar and no carriage returns: those are for a terminal. A run under 10 s gives only its last line.
    expect(result.stderr).toMatch(/^simulate: 40\/40 cutouts, \d+\/s, ETA 0 s\n$/);
    expect(result.stdout).toBe(`simulate: 40 cutouts in ${path.join(out, 'cutouts')}, truth in ${path.join(out, 'truth.arrow')}\n`);
  });
});

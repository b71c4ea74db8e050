import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { readCatalog } from '../../src/catalog/read.js';
import { EXIT_CODES } from '../../src/errors.js';
import { simulateCutouts } from '../../src/sim/cutouts.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared.js';

const cli = path.join(repoRoot, 'dist', 'cli', 'index.js');

/** Starts a shard in a child process and kills it (SIGKILL) once its first chunk is on disk. */
async function killAfterFirstChunk(args: string[], chunks: string): Promise<void> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (existsSync(chunks) && readdirSync(chunks).some((f) => f.endsWith('.arrow'))) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  await exited;
}

describe('sharded runs', () => {
  let dir: string;
  let inputs: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-shards-'));
    await simulateCutouts({ count: 45, seed: 13, out: path.join(dir, 'sims'), workers: 1 });
    inputs = path.join(dir, 'sims', 'cutouts');
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('killed with SIGKILL mid-shard and rerun, the merged catalogue equals one uninterrupted run, row for row', async () => {
    const single = path.join(dir, 'single');
    expect((await runCli(['run', inputs, '--out', single, '--quiet', '--threads', '1'])).code).toBe(EXIT_CODES.ok);
    const manifest = path.join(dir, 'manifest.json');
    expect((await runCli(['plan', inputs, '--shards', '3', '--out', manifest])).stdout).toMatch(/45 inputs in 3 shards of 15-15/);
    const parts = path.join(dir, 'parts');
    const shardArgs = (k: number) => ['run', '--manifest', manifest, '--shard', String(k), '--out', parts, '--chunk', '4', '--quiet', '--threads', '1'];

    await killAfterFirstChunk(shardArgs(1), path.join(parts, 'part-00001.chunks'));
    expect(existsSync(path.join(parts, 'part-00001.done'))).toBe(false);
    // Merging now must refuse: shard 1 is unfinished, 0 and 2 never ran.
    const early = await runCli(['merge', '--manifest', manifest, '--parts', parts, '--out', path.join(dir, 'early.arrow')]);
    expect(early.code).toBe(EXIT_CODES.invalidInput);
    expect(early.stderr).toMatch(/shards not done: 0, 1, 2/);

    const resumed = await runCli(shardArgs(1));
    expect(resumed.stdout).toMatch(/shard 1: 15 rows, resumed after [1-3] finished chunks/);
    for (const k of [0, 2]) expect((await runCli(shardArgs(k))).code).toBe(EXIT_CODES.ok);
    expect((await runCli(shardArgs(0))).stdout).toMatch(/already done, skipped/);
    expect(existsSync(path.join(parts, 'part-00001.chunks'))).toBe(false);

    const merged = path.join(dir, 'merged.arrow');
    expect((await runCli(['merge', '--manifest', manifest, '--parts', parts, '--out', merged])).code).toBe(EXIT_CODES.ok);
    const a = (await readCatalog(path.join(single, 'catalog.arrow'))).rows;
    const b = (await readCatalog(merged)).rows;
    expect(b).toHaveLength(45);
    expect(b).toEqual(a);
  }, 180_000);

  test('a done shard whose chunk folder survived a kill (after the done marker, before the cleanup) loses it on the rerun', async () => {
    const manifest = path.join(dir, 'small-manifest.json');
    const files = readdirSync(inputs).filter((f) => f.endsWith('.fits')).sort().slice(0, 3).map((f) => path.join(inputs, f));
    expect((await runCli(['plan', ...files, '--shards', '1', '--out', manifest])).code).toBe(EXIT_CODES.ok);
    const parts = path.join(dir, 'small-parts');
    const shardArgs = ['run', '--manifest', manifest, '--shard', '0', '--out', parts, '--chunk', '2', '--quiet', '--threads', '1'];
    expect((await runCli(shardArgs)).code).toBe(EXIT_CODES.ok);
    const chunks = path.join(parts, 'part-00000.chunks');
    expect(existsSync(chunks)).toBe(false);
    // What the kill left: the finished chunks, still in their folder beside the done part.
    mkdirSync(chunks);
    copyFileSync(path.join(parts, 'part-00000.arrow'), path.join(chunks, 'chunk-000000.arrow'));
    writeFileSync(path.join(chunks, 'chunking.json'), JSON.stringify({ chunk: 2 }));
    expect((await runCli(shardArgs)).stdout).toMatch(/already done, skipped/);
    expect(existsSync(chunks)).toBe(false);
    expect(readdirSync(parts).sort()).toEqual(['part-00000.arrow', 'part-00000.done', 'part-00000.errors.jsonl']);
  }, 60_000);

  test('a sharded run needs both --manifest and --shard, and a shard inside the manifest', async () => {
    const manifest = path.join(dir, 'manifest.json');
    expect((await runCli(['run', '--manifest', manifest, '--out', dir])).code).toBe(EXIT_CODES.usage);
    expect((await runCli(['run', '--manifest', manifest, '--shard', '3', '--out', dir])).code).toBe(EXIT_CODES.usage);
    expect((await runCli(['run', inputs, '--manifest', manifest, '--shard', '0', '--out', dir])).code).toBe(EXIT_CODES.usage);
  }, 30_000);
});

/**
 * Stopping and resuming (issue 15): SIGTERM mid-shard ends with 143, keeps the finished chunks, leaves
 * no temporary file and says what to rerun; the resumed shard equals an uninterrupted run; what a kill
 * -9 left is cleaned up; resume and merge refuse parts made with another seed. Kills at seeded random
 * moments reach the states no progress line marks (loading the model, writing a chunk, joining them).
 */

import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { readCatalog } from '../../src/catalog/read.js';
import { EXIT_CODES } from '../../src/errors.js';
import { simulateCutouts } from '../../src/sim/cutouts.js';
import { runCli } from '../helpers/cli.js';
import { seededRandom } from '../helpers/random.js';
import { repoRoot } from '../helpers/shared.js';

const cli = path.join(repoRoot, 'dist', 'cli', 'index.js');

/** Every file under `dir`, recursively, as paths relative to it. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

/** Runs the built CLI and sends `signal` when stderr first shows `trigger`; its exit code and stderr. */
function signalWhen(args: string[], trigger: RegExp, signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!sent && trigger.test(stderr)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/**
 * Runs the built CLI and sends `signal` once `ready()` holds, unless it ended first; its exit code, or
 * the signal that ended it, and stderr.
 */
async function signalOnce(args: string[], ready: () => boolean, signal: NodeJS.Signals): Promise<{ code: number | null; killedBy: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (code, killedBy) => resolve([code, killedBy])));
  let running = true;
  void exited.then(() => (running = false));
  while (running && !ready()) await new Promise((resolve) => setTimeout(resolve, 10));
  child.kill(signal);
  const [code, killedBy] = await exited;
  return { code, killedBy, stderr };
}

/** The temporary files under `dir` (none when it was never made). */
function temporaries(dir: string): string[] {
  return existsSync(dir) ? listing(dir).filter((name) => name.endsWith('.tmp')) : [];
}

/** A catalogue's bytes with its creation time blanked out: all else of a resumed run must match to the byte. */
async function bytesBesideCreationTime(file: string): Promise<string> {
  const { createdAt } = (await readCatalog(file)).metadata;
  return readFileSync(file, 'latin1').split(createdAt).join('<created>');
}

describe('interrupted runs', () => {
  let dir: string;
  let inputs: string;
  let manifest: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-interrupt-'));
    await simulateCutouts({ count: 40, seed: 17, out: path.join(dir, 'sims'), workers: 1 });
    inputs = path.join(dir, 'sims', 'cutouts');
    manifest = path.join(dir, 'manifest.json');
    expect((await runCli(['plan', inputs, '--shards', '2', '--out', manifest])).code).toBe(EXIT_CODES.ok);
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const shardArgs = (parts: string, k: number, extra: string[] = []) => ['run', '--manifest', manifest, '--shard', String(k), '--out', parts, '--chunk', '2', '--batch', '2', '--threads', '1', '--workers', '1', ...extra];

  test('SIGTERM mid-shard: exit 143, finished chunks kept, no temporary file, the rerun named; the resumed part equals an uninterrupted one', async () => {
    const whole = path.join(dir, 'whole');
    expect((await runCli([...shardArgs(whole, 0), '--quiet'])).code).toBe(EXIT_CODES.ok);

    const parts = path.join(dir, 'parts');
    // Two workers: threads terminated mid-inference once aborted the process (SIGABRT) instead of ending it with 143.
    const stopped = await signalWhen(shardArgs(parts, 0, ['--workers', '2']), /shard 0: 2\/20 sources/, 'SIGTERM');
    expect(stopped.code).toBe(143);
    expect(stopped.stderr).toMatch(/interrupted by SIGTERM.*rerun vis-agn run --manifest .* --shard 0/);
    expect(stopped.stderr).not.toMatch(/    at /);
    expect(temporaries(parts)).toEqual([]);
    expect(existsSync(path.join(parts, 'part-00000.done'))).toBe(false);
    expect(listing(parts).some((name) => /chunk-000000\.arrow$/.test(name))).toBe(true);

    // What a kill -9 would have left: temporary files of this shard's outputs and chunks.
    const staleChunk = path.join(parts, 'part-00000.chunks', '.chunk-000009.arrow.4242.0badf00d.tmp');
    const stalePart = path.join(parts, '.part-00000.arrow.4242.deadbeef.tmp');
    const otherShard = path.join(parts, '.part-00001.arrow.4242.deadbeef.tmp');
    for (const file of [staleChunk, stalePart, otherShard]) writeFileSync(file, 'partial');

    const otherSeed = await runCli([...shardArgs(parts, 0), '--seed', '2', '--quiet']);
    expect(otherSeed.code).toBe(EXIT_CODES.usage);
    expect(otherSeed.stderr).toMatch(/other settings than this run \(seed 1 vs 2\)/);

    const resumed = await runCli([...shardArgs(parts, 0), '--quiet']);
    expect(resumed.code).toBe(EXIT_CODES.ok);
    expect(resumed.stdout).toMatch(/resumed after [1-9]\d* finished chunks/);
    expect(existsSync(staleChunk) || existsSync(stalePart)).toBe(false);
    // Another shard's files are not this shard's to remove (it may be running elsewhere).
    expect(existsSync(otherShard)).toBe(true);
    const rows = (await readCatalog(path.join(parts, 'part-00000.arrow'))).rows;
    expect(rows).toEqual((await readCatalog(path.join(whole, 'part-00000.arrow'))).rows);
  }, 120_000);

  const resumable = [
    {
      name: 'a shard, resumed from its chunks',
      folder: 'shard',
      args: (out: string, workers: number) => [...shardArgs(out, 1, ['--workers', String(workers)]), '--quiet'],
      catalogue: 'part-00001.arrow',
      errors: 'part-00001.errors.jsonl',
    },
    {
      name: 'a plain run, rerun',
      folder: 'plain',
      args: (out: string, workers: number) => ['run', inputs, '--out', out, '--overwrite', '--batch', '2', '--threads', '1', '--workers', String(workers), '--quiet'],
      catalogue: 'catalog.arrow',
      errors: 'errors.jsonl',
    },
  ];

  test.each(resumable)('kill -9 and SIGTERM at seeded random moments of $name: the catalogue is the uninterrupted one to the byte but for its creation time, and no temporary file is left', async ({ folder, args, catalogue, errors }) => {
    const random = seededRandom(15);
    const whole = path.join(dir, `random-whole-${folder}`);
    const started = Date.now();
    await promisify(execFile)(process.execPath, [cli, ...args(whole, 1)]);
    // Moments are drawn over the length of a whole run, so they fall anywhere from start-up to the end.
    const length = Date.now() - started;

    const out = path.join(dir, `random-${folder}`);
    let interrupted = 0;
    for (const [attempt, signal] of (['SIGKILL', 'SIGTERM', 'SIGKILL', 'SIGTERM'] as const).entries()) {
      const at = Date.now() + random() * length;
      // Worker counts alternate: a chunk must not depend on how many workers scored it.
      const stopped = await signalOnce(args(out, 1 + (attempt % 2)), () => Date.now() >= at, signal);
      const end = stopped.killedBy ?? stopped.code;
      if (end !== EXIT_CODES.ok) interrupted++;
      if (signal === 'SIGKILL') {
        expect([EXIT_CODES.ok, 'SIGKILL']).toContain(end);
        continue;
      }
      // Before its handler is installed SIGTERM ends the process outright, leaving what a kill -9 left;
      // after, the run ends with 143 and no temporary file (or 0, when it was done first).
      expect([EXIT_CODES.ok, 143, 'SIGTERM']).toContain(end);
      expect(stopped.stderr).not.toMatch(/    at /);
      if (end !== 'SIGTERM') expect(temporaries(out)).toEqual([]);
    }
    // A seed whose moments all fell after the end would test nothing.
    expect(interrupted).toBeGreaterThan(0);

    expect((await runCli(args(out, 2))).code).toBe(EXIT_CODES.ok);
    expect(temporaries(out)).toEqual([]);
    expect(listing(out).filter((file) => file.includes('.chunks'))).toEqual([]);
    expect(await bytesBesideCreationTime(path.join(out, catalogue))).toEqual(await bytesBesideCreationTime(path.join(whole, catalogue)));
    expect(readFileSync(path.join(out, errors), 'utf8')).toEqual(readFileSync(path.join(whole, errors), 'utf8'));
  }, 120_000);

  test('SIGINT on a plain run: exit 130, no catalogue and no temporary file', async () => {
    const out = path.join(dir, 'plain');
    // The catalogue's temporary file exists from before the first source is scored until the end.
    const writing = () => existsSync(out) && listing(out).some((name) => name.startsWith('.catalog.arrow.'));
    const stopped = await signalOnce(['run', inputs, '--out', out, '--batch', '2', '--threads', '1', '--workers', '1'], writing, 'SIGINT');
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/interrupted by SIGINT.*rerun the same command/);
    expect(listing(out)).toEqual([]);
  }, 60_000);

  test('a done shard rerun or merged with another seed is refused, naming the difference', async () => {
    const parts = path.join(dir, 'seeds');
    expect((await runCli([...shardArgs(parts, 0), '--quiet'])).code).toBe(EXIT_CODES.ok);
    expect((await runCli([...shardArgs(parts, 1), '--seed', '5', '--quiet'])).code).toBe(EXIT_CODES.ok);
    const rerun = await runCli([...shardArgs(parts, 1), '--quiet']);
    expect(rerun.code).toBe(EXIT_CODES.usage);
    expect(rerun.stderr).toMatch(/seed 5 vs 1/);
    const merged = await runCli(['merge', '--manifest', manifest, '--parts', parts, '--out', path.join(dir, 'seeds.arrow')]);
    expect(merged.code).toBe(EXIT_CODES.invalidInput);
    expect(merged.stderr).toMatch(/part-00001\.arrow was made with other settings than .*part-00000\.arrow \(seed 1 vs 5\)/);
    expect(existsSync(path.join(dir, 'seeds.arrow'))).toBe(false);
  }, 120_000);
});

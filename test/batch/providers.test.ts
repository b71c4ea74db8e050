/**
 * The provider hold-back of issue 15: a catalogue records the execution provider its workers report
 * having used (not the one asked for: `--device auto` here), and with `--workers` above 1 the main
 * thread opens no model at all; it once loaded one only to name the provider in the metadata. The
 * built CLI runs with a preload that logs every ONNX session each thread opens
 * (test/helpers/session-log.mjs).
 */

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { providerList } from '../../src/batch/metadata.js';
import { readCatalog } from '../../src/catalog/read.js';
import { cudaProviderInstalled } from '../../src/model/runtime.js';
import { simulateCutouts } from '../../src/sim/cutouts.js';
import { repoRoot } from '../helpers/shared.js';

const cli = path.join(repoRoot, 'dist', 'cli', 'index.js');
const preload = pathToFileURL(path.join(repoRoot, 'test', 'helpers', 'session-log.mjs')).href;

interface Session {
  readonly thread: 'main' | 'worker';
  readonly threadId: number;
  readonly providers: readonly string[];
  readonly file: string;
}

describe('execution providers and where the model is loaded', () => {
  let dir: string;
  let inputs: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-providers-'));
    await simulateCutouts({ count: 4, seed: 31, out: path.join(dir, 'sims'), workers: 1 });
    inputs = path.join(dir, 'sims', 'cutouts');
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** `vis-agn run` on the cutouts, built, with the session log; its sessions and what it wrote. */
  async function run(name: string, workers: number) {
    const out = path.join(dir, name);
    const log = path.join(dir, `${name}.sessions.jsonl`);
    const args = ['--import', preload, cli, 'run', inputs, '--out', out, '--workers', String(workers), '--batch', '2', '--threads', '1', '--device', 'auto', '--quiet'];
    const { stdout } = await promisify(execFile)(process.execPath, args, { env: { ...process.env, VIS_AGN_SESSION_LOG: log } });
    const sessions = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Session) : [];
    const catalog = await readCatalog(path.join(out, 'catalog.arrow'));
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { provider: string };
    return { stdout, sessions, catalog, summary };
  }

  let two: ReturnType<typeof run> | undefined;
  const twoWorkers = () => (two ??= run('two', 2));

  test('with two workers, only the workers open the model, and the catalogue records the provider they used', async () => {
    const { stdout, sessions, catalog, summary } = await twoWorkers();
    expect(stdout).toMatch(/^4 sources/);
    expect(sessions.filter((s) => s.thread === 'main')).toEqual([]);
    // Two tasks of two cutouts: each worker scored one and opened the encoder and the denoiser.
    expect(new Set(sessions.map((s) => s.threadId)).size).toBe(2);
    expect(sessions).toHaveLength(4);
    const used = providerList(sessions.flatMap((s) => s.providers));
    if (!cudaProviderInstalled()) expect(used).toBe('cpu');
    expect(catalog.metadata.executionProvider).toBe(used);
    expect(summary.provider).toBe(used);
  }, 120_000);

  test('a pool of one scores in the main thread, loading the model there once; its rows equal the two workers\'', async () => {
    const { sessions, catalog } = await run('one', 1);
    expect(sessions.length).toBe(2);
    expect(sessions.every((s) => s.thread === 'main')).toBe(true);
    expect(catalog.metadata.executionProvider).toBe(providerList(sessions.flatMap((s) => s.providers)));
    expect(catalog.rows).toEqual((await twoWorkers()).catalog.rows);
  }, 120_000);
});

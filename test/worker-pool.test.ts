import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, test } from '@jest/globals';

import { repoRoot } from './helpers/shared.js';

// The compiled pool: from TypeScript sources (ts-jest) it runs every task in this thread.
const { orderedPool } = (await import(path.join(repoRoot, 'dist', 'worker-pool.js'))) as typeof import('../src/worker-pool.js');
const worker = new URL(`file://${path.join(repoRoot, 'test', 'fixtures', 'pool', 'flaky-worker.mjs')}`);

interface Task {
  value: number;
  crash?: 'once' | 'always';
  marker?: string;
}

async function collect(tasks: Task[], onFailure?: { substitute: (task: Task, error: unknown) => number; maxConsecutive?: number }): Promise<number[]> {
  const results: number[] = [];
  for await (const result of orderedPool<Task, number>(worker, tasks, { workers: 2, ...(onFailure === undefined ? {} : { onFailure }) }, () => Number.NaN)) results.push(result);
  return results;
}

describe('worker threads', () => {
  test("load the worker module by import(), never through Node's require(esm)", async () => {
    const argvWorker = new URL(`file://${path.join(repoRoot, 'test', 'fixtures', 'pool', 'argv-worker.mjs')}`);
    const seen: string[] = [];
    for await (const argv of orderedPool<number, string>(argvWorker, [1, 2], { workers: 2 }, () => '')) seen.push(argv);
    expect(seen).toHaveLength(2);
    if (process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module')) for (const argv of seen) expect(argv).toContain('--no-experimental-require-module');
  });
});

describe('worker pool faults', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-pool-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a task whose worker thread dies is retried once on a fresh thread; results stay in task order', async () => {
    const tasks: Task[] = [1, 2, 3, 4, 5, 6].map((value) => ({ value }));
    tasks[2] = { value: 3, crash: 'once', marker: path.join(dir, 'crashed-once') };
    expect(await collect(tasks, { substitute: () => -1 })).toEqual([2, 4, 6, 8, 10, 12]);
  });

  test('a task that fails twice is replaced by its substitute, and the run goes on', async () => {
    const failures: string[] = [];
    const tasks: Task[] = [{ value: 1 }, { value: 2, crash: 'always' }, { value: 3 }];
    const substitute = (task: Task, error: unknown) => (failures.push(`${task.value}: ${(error as Error).message}`), -task.value);
    expect(await collect(tasks, { substitute })).toEqual([2, -2, 6]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^2: .*exit/i);
  });

  test('failures in a row are taken as systematic and end the run', async () => {
    const tasks: Task[] = [{ value: 1 }, { value: 2, crash: 'always' }, { value: 3, crash: 'always' }, { value: 4 }];
    await expect(collect(tasks, { substitute: () => 0, maxConsecutive: 2 })).rejects.toThrow(/exit/i);
  });

  test('a task that throws is not retried, and its error keeps its class, file and HDU across the thread boundary', async () => {
    const { InvalidInputError } = (await import(path.join(repoRoot, 'dist', 'errors.js'))) as typeof import('../src/errors.js');
    const throwing = new URL(`file://${path.join(repoRoot, 'test', 'fixtures', 'pool', 'throwing-worker.mjs')}`);
    const marker = path.join(dir, 'attempts');
    const tasks = [{ value: 1, marker: `${marker}-1` }, { value: -1, marker }];
    const results: number[] = [];
    const run = async () => {
      for await (const result of orderedPool(throwing, tasks, { workers: 2, onFailure: { substitute: () => 0 } }, () => Number.NaN)) results.push(result);
    };
    const error = await run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe('task.fits, HDU 2: negative value');
    expect(results).toEqual([2]);
    expect(readFileSync(marker, 'utf8')).toBe('x');
  });

  test('aborted, the pool starts no new task and rejects with the reason', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const tasks = (function* () {
      for (let value = 1; value <= 100; value++) yield { value };
    })();
    const run = async () => {
      for await (const result of orderedPool<Task, number>(worker, tasks, { workers: 2, signal: controller.signal }, () => Number.NaN)) {
        seen.push(result);
        if (seen.length === 3) controller.abort(new Error('stop'));
      }
    };
    await expect(run()).rejects.toThrow('stop');
    expect(seen).toEqual([2, 4, 6]);
    // Beyond the three seen, at most the tasks in flight (two per worker) and the one drawn ahead were taken.
    expect(tasks.next().value?.value).toBeLessThanOrEqual(3 + 4 + 1 + 1);
  });

  test('without a failure policy the first failure ends the run', async () => {
    await expect(collect([{ value: 1, crash: 'always' }])).rejects.toThrow(/exit/i);
  });
});

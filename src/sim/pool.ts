/**
 * Runs simulation tasks on worker threads and hands their results back in task order, so whatever
 * the number of workers the output files are assembled identically. With one worker, or when running
 * from TypeScript sources (tests), tasks run in this thread.
 */

import { availableParallelism } from 'node:os';

import { Piscina } from 'piscina';

import { runTask, type SimResult, type SimTask } from './tasks.js';

export function defaultWorkers(): number {
  return availableParallelism();
}

/** Worker threads need the compiled worker; under ts-jest the sources are .ts files. */
const compiled = import.meta.url.endsWith('.js');

/**
 * Yields the result of each task in order, keeping at most two tasks per worker in flight (bounded
 * memory however many tasks there are).
 */
export async function* runOrdered<T extends SimTask>(tasks: Iterable<T>, workers: number): AsyncGenerator<SimResult<T>> {
  if (workers <= 1 || !compiled) {
    for (const task of tasks) yield await runTask(task);
    return;
  }
  const pool = new Piscina({ filename: new URL('./worker.js', import.meta.url).href, minThreads: workers, maxThreads: workers });
  const pending: Promise<SimResult<T>>[] = [];
  try {
    const iterator = tasks[Symbol.iterator]();
    let next = iterator.next();
    const fill = (): void => {
      while (!next.done && pending.length < 2 * workers) {
        const promise = pool.run(next.value) as Promise<SimResult<T>>;
        // Failures surface when the result is awaited in order; this keeps them from going unhandled.
        promise.catch(() => undefined);
        pending.push(promise);
        next = iterator.next();
      }
    };
    fill();
    while (pending.length > 0) {
      const result = await pending.shift()!;
      fill();
      yield result;
    }
  } finally {
    await pool.destroy();
  }
}

/**
 * Tasks on piscina worker threads with their results handed back in task order, so outputs are
 * assembled identically whatever the number of workers. At most two tasks per worker are in flight
 * (bounded memory however many tasks there are). With one worker, or when running from TypeScript
 * sources (tests under ts-jest, where no compiled worker exists), tasks run in this thread.
 */

import { Piscina } from 'piscina';

const compiled = import.meta.url.endsWith('.js');

export async function* orderedPool<T, R>(worker: URL, tasks: Iterable<T>, workers: number, inThread: (task: T) => Promise<R> | R): AsyncGenerator<R> {
  if (workers <= 1 || !compiled) {
    for (const task of tasks) yield await inThread(task);
    return;
  }
  const pool = new Piscina({ filename: worker.href, minThreads: workers, maxThreads: workers });
  const pending: Promise<R>[] = [];
  try {
    const iterator = tasks[Symbol.iterator]();
    let next = iterator.next();
    const fill = (): void => {
      while (!next.done && pending.length < 2 * workers) {
        const promise = pool.run(next.value) as Promise<R>;
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

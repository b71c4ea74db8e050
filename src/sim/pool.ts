/** Simulation tasks on worker threads (src/worker-pool.ts), results in task order. */

import { availableParallelism } from 'node:os';

import { orderedPool } from '../worker-pool.js';
import { runTask, type SimResult, type SimTask } from './tasks.js';

export function defaultWorkers(): number {
  return availableParallelism();
}

export function runOrdered<T extends SimTask>(tasks: Iterable<T>, workers: number): AsyncGenerator<SimResult<T>> {
  return orderedPool(new URL('./worker.js', import.meta.url), tasks, { workers }, (task: T) => runTask(task));
}

/**
 * Tasks on piscina worker threads with their results handed back in task order, so outputs are
 * assembled identically whatever the number of workers. At most two tasks per worker are in flight
 * (bounded memory however many tasks there are). With one worker, or when running from TypeScript
 * sources (tests under ts-jest, where no compiled worker exists), tasks run in this thread through
 * the same loop: a pool of one.
 *
 * Two kinds of failure are told apart. A task that throws fails the same way every time (bad input, a
 * broken model): its error ends the run at once, with its class intact, and is never retried. A
 * worker thread that dies (a native crash, an out-of-memory abort) says nothing about the task, so the
 * task is retried once on a fresh thread before the failure policy takes over.
 */

import { Piscina } from 'piscina';

import { restoreError, transferError, type TransferredError } from './errors.js';

const compiled = import.meta.url.endsWith('.js');

/**
 * Piscina loads a worker's module with require() first. Node 20.19+ lets require() load an ES module,
 * and that path can abort the whole process (V8 "IsGraphAsync must be used on an instantiated module";
 * it ended one CI run in bench:stages). With require(esm) off in the workers, require() throws
 * ERR_REQUIRE_ESM and piscina falls back to import(), as on older Node.
 */
const WORKER_EXEC_ARGV = process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module')
  ? [...process.execArgv, '--no-experimental-require-module']
  : process.execArgv;

export interface TaskFailurePolicy<T, R> {
  /**
   * The result standing in for a task whose worker thread died twice. The run goes on; the substitute
   * records the failure.
   */
  readonly substitute: (task: T, error: unknown) => R;
  /**
   * Crashed tasks in a row after which the crashes are taken as systematic (a broken installation,
   * too little memory for any task) and rethrown; default 3.
   */
  readonly maxConsecutive?: number;
}

export interface PoolOptions<T, R> {
  /** Worker threads; with 1 (or from TypeScript sources) tasks run in this thread. */
  readonly workers: number;
  /** Without a policy, the first crash ends the run. */
  readonly onFailure?: TaskFailurePolicy<T, R>;
  /** Aborted: no new task is started and the pool rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** What a worker entry returns in place of throwing (see `reportingErrors`). */
export interface TaskError {
  readonly visAgnTaskError: TransferredError;
}

function isTaskError(value: unknown): value is TaskError {
  return typeof value === 'object' && value !== null && 'visAgnTaskError' in value;
}

/**
 * A worker entry's task function whose errors come back as values, so the pool can tell a task that
 * threw (deterministic, not retried, class kept) from a thread that died (retried).
 */
export function reportingErrors<T, R>(run: (task: T) => Promise<R> | R): (task: T) => Promise<R | TaskError> {
  return async (task) => {
    try {
      return await run(task);
    } catch (error) {
      return { visAgnTaskError: transferError(error) };
    }
  };
}

/** A task's own error, as opposed to its thread's death. */
class TaskThrew {
  constructor(readonly error: unknown) {}
}

export async function* orderedPool<T, R>(worker: URL, tasks: Iterable<T>, options: PoolOptions<T, R>, inThread: (task: T) => Promise<R> | R): AsyncGenerator<R> {
  const { workers, onFailure, signal } = options;
  // A worker turns over its tasks' garbage quickly; V8's default young generation for a thread lets it
  // grow to tens of MB before collecting, which showed as ~70 MB more peak RSS on 10^4 cutouts for ~3%
  // of speed.
  const resourceLimits = { maxYoungGenerationSizeMb: 16 };
  const pool = workers <= 1 || !compiled ? undefined : new Piscina({ filename: worker.href, minThreads: workers, maxThreads: workers, resourceLimits, execArgv: WORKER_EXEC_ARGV });
  // Tasks on worker threads, until they settle: the pool is destroyed only when none is left.
  const running = new Set<Promise<unknown>>();
  const attempt = (task: T): Promise<R> => {
    if (pool === undefined) {
      return Promise.resolve()
        .then(() => inThread(task))
        .catch((error: unknown) => Promise.reject(new TaskThrew(error)));
    }
    const run = pool.run(task) as Promise<R | TaskError>;
    running.add(run);
    void run.finally(() => running.delete(run)).catch(() => undefined);
    return run.then((value) => (isTaskError(value) ? Promise.reject(new TaskThrew(restoreError(value.visAgnTaskError))) : value));
  };
  const inFlight = pool === undefined ? 1 : 2 * workers;
  // Errors piscina raises outside any task: while the pool is being destroyed, a worker answering a task
  // the pool has already dropped ("Unexpected message from Worker", after an abort); otherwise a fault of
  // the pool itself, which ends the run at the next result.
  let closing = false;
  let poolFault: unknown;
  pool?.on('error', (error: unknown) => {
    if (!closing) poolFault ??= error;
  });
  let consecutive = 0;
  const settle = async (task: T, result: Promise<R>): Promise<R> => {
    try {
      const value = await result;
      consecutive = 0;
      return value;
    } catch (crash) {
      if (crash instanceof TaskThrew) throw crash.error;
      if (onFailure === undefined) throw crash;
      try {
        const value = await attempt(task);
        consecutive = 0;
        return value;
      } catch (again) {
        if (again instanceof TaskThrew) throw again.error;
        if (++consecutive >= (onFailure.maxConsecutive ?? 3)) throw again;
        return onFailure.substitute(task, again);
      }
    }
  };
  const aborted = new Promise<never>((_, reject) => {
    if (signal === undefined) return;
    const stop = () => reject(signal.reason);
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  aborted.catch(() => undefined);
  const pending: { task: T; result: Promise<R> }[] = [];
  try {
    const iterator = tasks[Symbol.iterator]();
    let next = iterator.next();
    const fill = (): void => {
      while (!next.done && pending.length < inFlight && signal?.aborted !== true) {
        const result = attempt(next.value);
        // Failures surface when the result is settled in order; this keeps them from going unhandled.
        result.catch(() => undefined);
        pending.push({ task: next.value, result });
        next = iterator.next();
      }
    };
    fill();
    while (pending.length > 0) {
      const { task, result } = pending.shift()!;
      const value = await Promise.race([settle(task, result), aborted]);
      if (poolFault !== undefined) throw poolFault;
      fill();
      yield value;
    }
    if (signal?.aborted === true) throw signal.reason;
  } finally {
    closing = true;
    // A thread terminated in the middle of an inference aborts the whole process (onnxruntime throws a
    // Napi::Error into the dead thread: SIGABRT instead of exit 143 after SIGTERM), so a run that stops
    // early first lets the tasks in hand finish.
    await Promise.allSettled(running);
    await pool?.destroy();
  }
}

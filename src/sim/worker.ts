/** Worker-thread entry of the simulation pool (piscina): one task in, its result out. */

import { runTask, type SimTask } from './tasks.js';

export default function simulateTask(task: SimTask): Promise<unknown> {
  return runTask(task);
}

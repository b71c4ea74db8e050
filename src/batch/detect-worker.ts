/** Worker-thread entry of the detection pool (piscina): a group of sources in, their rows out. */

import { reportingErrors } from '../worker-pool.js';
import { runDetectTask } from './detect-task.js';

export default reportingErrors(runDetectTask);

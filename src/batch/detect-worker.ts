/** Worker-thread entry of the detection pool (piscina): a group of files in, their rows out. */

import { runDetectTask, type DetectResult, type DetectTask } from './detect-task.js';

export default function detect(task: DetectTask): Promise<DetectResult> {
  return runDetectTask(task);
}

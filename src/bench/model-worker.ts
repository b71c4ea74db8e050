/**
 * A piscina worker for bench:stages: the model alone (encoder, then S x K denoiser evaluations) on a
 * batch of prepared crops, so the pipeline's throughput can be set against the model's in the same
 * worker layout.
 */

import { CoreGenerator } from '../model/generator.js';
import type { FlowSolverOptions } from '../model/sampler.js';

export interface ModelTask {
  readonly cardPath: string;
  readonly threads: number;
  readonly crops: Float32Array;
  readonly sigma: Float32Array;
  readonly noise: Float32Array;
  readonly samples: number;
  readonly solver: FlowSolverOptions;
}

let loaded: { key: string; generator: Promise<CoreGenerator> } | undefined;

export async function runModelTask(task: ModelTask): Promise<number> {
  const key = `${task.cardPath}:${task.threads}`;
  if (loaded?.key !== key) loaded = { key, generator: CoreGenerator.load(task.cardPath, { device: 'cpu', threads: task.threads }) };
  const generator = await loaded.generator;
  await generator.sample(await generator.encode(task.crops, task.sigma), task.samples, task.noise, task.solver);
  return task.sigma.length;
}

export default runModelTask;

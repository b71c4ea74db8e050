/**
 * Checks an exported model against the PyTorch outputs the trainer saved beside it
 * (reference/*.f32 + index.json): the ONNX graphs must reproduce them to `tolerance`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ModelError } from '../errors.js';
import { CoreGenerator } from './generator.js';

export interface ParityReport {
  readonly maxAbsDiff: Record<string, number>;
  readonly worst: number;
  readonly tolerance: number;
  readonly ok: boolean;
}

function readReference(dir: string): Record<string, Float32Array> {
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as { shapes: Record<string, number[]> };
  const arrays: Record<string, Float32Array> = {};
  for (const name of Object.keys(index.shapes)) {
    const bytes = readFileSync(path.join(dir, `${name}.f32`));
    arrays[name] = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  return arrays;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

export async function checkParity(cardPath: string, tolerance = 1e-4): Promise<ParityReport> {
  const refDir = path.join(path.dirname(cardPath), 'reference');
  let ref: Record<string, Float32Array>;
  try {
    ref = readReference(refDir);
  } catch (error) {
    throw new ModelError(`no PyTorch reference outputs beside the card: ${String(error)}`, { file: refDir }, { cause: error });
  }
  const generator = await CoreGenerator.load(cardPath, { device: 'cpu', threads: 1 });
  try {
    const encoded = await generator.encode(ref.image!, ref.sigma!);
    const diffs: Record<string, number> = {
      features: maxAbsDiff(encoded.features, ref.features!),
      core_offset: maxAbsDiff(encoded.coreOffset, ref.core_offset!),
      core_scale: maxAbsDiff(encoded.coreScale, ref.core_scale!),
    };
    // One denoiser step with t given: compare the velocity through a solver-free call.
    const rows = ref.t!.length;
    const velocity = await generator.velocity(ref.z_t!, ref.t!, ref.features!, rows);
    diffs.velocity = maxAbsDiff(velocity, ref.velocity!);
    const worst = Math.max(...Object.values(diffs));
    return { maxAbsDiff: diffs, worst, tolerance, ok: worst <= tolerance };
  } finally {
    await generator.release();
  }
}

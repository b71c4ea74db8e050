/**
 * Few-step solvers for the learned flow, as pure functions of arrays. The velocity field is passed in,
 * so the same code runs against onnxruntime, a test double, or anything else; nothing here knows
 * about sessions or tensors.
 *
 * Time runs from t = 0 (standard normal) to t = 1 (data), matching the trainer's convention
 * z_t = (1 - t) z0 + t z1 with velocity target z1 - z0.
 */

/** Batched velocity: rows of `dims` values at per-row times; returns one velocity per value. */
export type VelocityField = (z: Float32Array, t: Float32Array) => Promise<Float32Array>;

export type FlowMethod = 'euler' | 'heun';

export interface FlowSolverOptions {
  readonly steps: number;
  readonly method: FlowMethod;
}

/** Number of velocity evaluations a solve costs: what the benchmarks count as model passes. */
export function evaluationsPerSolve({ steps, method }: FlowSolverOptions): number {
  return method === 'heun' ? 2 * steps - 1 : steps;
}

/**
 * Integrates every row of `z0` (rows x dims, row-major) from t = 0 to 1 in `steps` equal steps.
 * Heun's method skips the corrector on the final step, as the velocity at t = 1 is least reliable
 * there and the saving is one full evaluation.
 */
export async function solveFlow(
  z0: Float32Array,
  dims: number,
  velocity: VelocityField,
  { steps, method }: FlowSolverOptions,
): Promise<Float32Array> {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, got ${steps}`);
  if (z0.length % dims !== 0) throw new RangeError(`z0 length ${z0.length} is not a multiple of ${dims}`);
  const rows = z0.length / dims;
  const z = Float32Array.from(z0);
  const times = new Float32Array(rows);
  const predicted = method === 'heun' ? new Float32Array(z.length) : undefined;
  const h = 1 / steps;
  for (let step = 0; step < steps; step++) {
    const t = step * h;
    times.fill(t);
    const v1 = await velocity(z, times);
    if (predicted === undefined || step === steps - 1) {
      for (let i = 0; i < z.length; i++) z[i] = z[i]! + h * v1[i]!;
      continue;
    }
    for (let i = 0; i < z.length; i++) predicted[i] = z[i]! + h * v1[i]!;
    times.fill(t + h);
    const v2 = await velocity(predicted, times);
    for (let i = 0; i < z.length; i++) z[i] = z[i]! + 0.5 * h * (v1[i]! + v2[i]!);
  }
  return z;
}

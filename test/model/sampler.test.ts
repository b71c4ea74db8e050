import { evaluationsPerSolve, solveFlow, type VelocityField } from '../../src/model/sampler.js';

/** v(z, t) = z: the exact solution from t = 0 to 1 multiplies by e. */
const growth: VelocityField = async (z) => Float32Array.from(z);

describe('flow solvers', () => {
  it('integrate a constant velocity exactly with either method', async () => {
    const constant: VelocityField = async (z) => new Float32Array(z.length).fill(0.5);
    for (const method of ['euler', 'heun'] as const) {
      const z = await solveFlow(Float32Array.of(1, -2, 3, 0), 2, constant, { steps: 3, method });
      expect(Array.from(z)).toEqual([1.5, -1.5, 3.5, 0.5].map((v) => expect.closeTo(v, 6)));
    }
  });

  it("Euler follows (1 + 1/K)^K and Heun is closer to e", async () => {
    const euler = await solveFlow(Float32Array.of(1), 1, growth, { steps: 4, method: 'euler' });
    expect(euler[0]).toBeCloseTo((1 + 1 / 4) ** 4, 5);
    const heun = await solveFlow(Float32Array.of(1), 1, growth, { steps: 4, method: 'heun' });
    // Three Heun steps (factor 1 + h + h^2/2) then one Euler step.
    const h = 1 / 4;
    expect(heun[0]).toBeCloseTo((1 + h + (h * h) / 2) ** 3 * (1 + h), 5);
    expect(Math.abs(heun[0]! - Math.E)).toBeLessThan(Math.abs(euler[0]! - Math.E));
  });

  it('passes the right times and counts evaluations as the benchmarks do', async () => {
    const seen: number[] = [];
    const recorder: VelocityField = async (z, t) => {
      seen.push(t[0]!);
      return new Float32Array(z.length);
    };
    await solveFlow(new Float32Array(2), 1, recorder, { steps: 2, method: 'heun' });
    expect(seen).toEqual([0, 0.5, 0.5]);
    expect(evaluationsPerSolve({ steps: 2, method: 'heun' })).toBe(seen.length);
    expect(evaluationsPerSolve({ steps: 8, method: 'euler' })).toBe(8);
  });

  it('does not modify its input and rejects bad step counts and shapes', async () => {
    const z0 = Float32Array.of(1, 2);
    await solveFlow(z0, 1, growth, { steps: 2, method: 'euler' });
    expect(Array.from(z0)).toEqual([1, 2]);
    await expect(solveFlow(z0, 1, growth, { steps: 0, method: 'euler' })).rejects.toThrow(RangeError);
    await expect(solveFlow(Float32Array.of(1, 2, 3), 2, growth, { steps: 1, method: 'euler' })).rejects.toThrow(RangeError);
  });
});

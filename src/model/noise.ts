/**
 * Standard normal starting points for the sampler, seeded from (run seed, object id), so a source's
 * samples never depend on batch, worker or run-shard layout. Object ids are signed 64-bit (Euclid MER ids
 * exceed 2^53), so they enter the key as two 32-bit words.
 */
import { Rng, STREAM, deriveKey } from '../random.js';

export function samplerNoise(seed: number, objectId: bigint, samples: number, pixels: number, out = new Float32Array(samples * pixels)): Float32Array {
  const word = BigInt.asUintN(64, objectId);
  const rng = new Rng(deriveKey(seed, Number(word & 0xffffffffn), Number(word >> 32n), STREAM.sampler));
  for (let i = 0; i < samples * pixels; i++) out[i] = rng.normal();
  return out;
}

/**
 * Seedable random numbers for the simulator and the sampler. Every draw is a pure function of a key built from the run
 * seed, the object id and a purpose (a "stream"), never of how many objects a worker has drawn before,
 * so outputs are byte-identical whatever the worker count or order.
 *
 * Two tools: `Rng`, a xoshiro128** stream for the sequential draws of one object (population
 * parameters, neighbour positions), and `fillNormals`, a counter-based field where each pixel's deviate
 * is a hash of (key, x, y), so any window of a noise field can be drawn on its own (tile strips, a stamp
 * that must equal the centre crop of a larger cutout).
 */

// Module-level aliases: under Jest's vm context every lookup of the global Math costs ~0.4 us,
// which made the simulator 30x slower in tests than in production.
const { cos, exp, floor, imul, log, max, round, sin, sqrt } = Math;

/** 64-bit key as two 32-bit lanes; 64 bits keep 10^5..10^8 objects free of colliding streams. */
export interface Key {
  readonly hi: number;
  readonly lo: number;
}

const TWO_32 = 4294967296;

/** A strong 32-bit finaliser (the "lowbias32" constants from Wellons' hash prospector). */
function mix32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A second, independent finaliser so the two key lanes never move together. */
function mix32b(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 15;
  x = imul(x, 0x2c1b3c6d);
  x ^= x >>> 12;
  x = imul(x, 0x297a2d39);
  x ^= x >>> 15;
  return x >>> 0;
}

function absorb(key: Key, word: number): Key {
  return {
    hi: mix32((key.hi ^ mix32b(word + 0x9e3779b9)) + 0x632be5ab),
    lo: mix32b((key.lo + mix32(word ^ 0x85ebca6b)) ^ 0x5bd1e995),
  };
}

const ROOT: Key = { hi: 0x243f6a88, lo: 0x85a308d3 };

/**
 * Derives a key from integers (seed, object id, stream, cell indices, ...). Each part may be any safe
 * integer, negative included: it is absorbed as its low and high 32-bit words, so ids up to 2^53 and
 * negative MER-style ids stay distinct.
 */
export function deriveKey(...parts: readonly number[]): Key {
  return subKey(ROOT, ...parts);
}

/** Extends a key with more parts (e.g. an object's key with a stream id). */
export function subKey(key: Key, ...parts: readonly number[]): Key {
  let out = key;
  for (const part of parts) {
    if (!Number.isSafeInteger(part)) throw new RangeError(`key part ${part} is not a safe integer`);
    out = absorb(absorb(out, part >>> 0), floor(part / TWO_32) >>> 0);
  }
  return out;
}

/** Streams: one per purpose, so adding draws to one purpose never shifts another's. */
export const STREAM = {
  population: 1,
  neighbours: 2,
  noise: 3,
  coverage: 4,
  placement: 5,
  field: 6,
  /** Starting noise of the core sampler (src/model/noise.ts). */
  sampler: 101,
  /** Position and shot noise of an injected point source (src/sim/inject.ts). */
  injection: 102,
} as const;

/** xoshiro128** (Blackman & Vigna), seeded from a key through distinct finalisers. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = Number.NaN;

  constructor(key: Key) {
    this.s0 = mix32(key.hi ^ 0xa0761d65);
    this.s1 = mix32b(key.lo ^ 0xe7037ed1);
    this.s2 = mix32(key.lo + 0x8ebc6af0);
    this.s3 = mix32b(key.hi + 0x589965cc) | 1; // never the all-zero state
  }

  /** Uniform 32-bit unsigned integer. */
  next32(): number {
    const result = imul(rotl(imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const high = this.next32() >>> 5;
    const low = this.next32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Uniform in [a, b). */
  between(a: number, b: number): number {
    return a + (b - a) * this.uniform();
  }

  /** Log-uniform in [a, b), a > 0. */
  logBetween(a: number, b: number): number {
    return a * exp(log(b / a) * this.uniform());
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return floor(this.uniform() * n);
  }

  /** Standard normal deviate (Box-Muller; the second deviate of each pair is kept for the next call). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const z = this.spare;
      this.spare = Number.NaN;
      return z;
    }
    const u = 1 - this.uniform();
    const r = sqrt(-2 * log(u));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * sin(theta);
    return r * cos(theta);
  }

  /** Poisson deviate; the means used here are small (source counts per cell), so Knuth's product suffices. */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) return max(0, round(mean + sqrt(mean) * this.normal()));
    const limit = exp(-mean);
    let k = 0;
    let p = this.uniform();
    while (p > limit) {
      k++;
      p *= this.uniform();
    }
    return k;
  }

  /** Index drawn with probability proportional to `weights` (non-negative, not all zero). */
  pick(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    let u = this.uniform() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i]!;
      if (u < 0) return i;
    }
    return weights.length - 1;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const INV_2_32 = 1 / TWO_32;

/**
 * Fills `out` (row-major, `width` x `height`) with standard normal deviates for the pixels
 * (x0 + i, y0 + j) of the field `key`. Neighbouring pixel pairs (2k, 2k+1) share one Box-Muller pair,
 * so the value at a pixel does not depend on the window asked for.
 */
export function fillNormals(out: Float64Array, key: Key, x0: number, y0: number, width: number, height: number): void {
  for (let j = 0; j < height; j++) {
    const y = y0 + j;
    const rowHi = mix32(key.hi ^ mix32b(y + 0x7f4a7c15));
    const rowLo = mix32b(key.lo + mix32(y ^ 0x3c6ef372));
    const row = j * width;
    let i = 0;
    while (i < width) {
      const x = x0 + i;
      const pair = floor(x / 2);
      const a = mix32(rowHi ^ mix32b(pair));
      const b = mix32b(rowLo + mix32(pair ^ 0x1b873593));
      const r = sqrt(-2 * log((a + 1) * INV_2_32));
      const theta = 2 * Math.PI * (b * INV_2_32);
      if ((x & 1) === 0) {
        out[row + i] = r * cos(theta);
        if (i + 1 < width) out[row + i + 1] = r * sin(theta);
        i += 2;
      } else {
        out[row + i] = r * sin(theta);
        i += 1;
      }
    }
  }
}

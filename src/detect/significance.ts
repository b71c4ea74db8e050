/**
 * From the raw excess to a Gaussian significance. The spread of the regenerated PSF flux is estimated
 * from S samples, so under the null (the observed core is one more draw of the same distribution)
 *
 *     (F_obs - mean F_samples) / (sd F_samples * sqrt(1 + 1/S))  ~  Student t with S - 1 dof,
 *
 * whose tails are far heavier than a Gaussian's at S = 16 (P(t > 3) = 0.45% against 0.13%). The raw
 * z is therefore mapped through the t distribution to the Gaussian z with the same upper-tail
 * probability; the map is monotone, so rankings (and completeness at a fixed false-positive rate) are
 * unchanged, only the tail probabilities become right.
 */

import { upperTailPValue } from './core-scores.js';

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: ~15 significant digits). */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < 9; i++) sum += c[i]! / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** P(T > t) for Student's t with `dof` degrees of freedom. */
export function studentUpperTail(t: number, dof: number): number {
  const tail = 0.5 * incompleteBeta(dof / (dof + t * t), dof / 2, 0.5);
  return t >= 0 ? tail : 1 - tail;
}

/** The z with P(Z > z) = p for a standard normal Z (bisection on the erfc-based tail; p in (0, 1)). */
export function gaussianUpperQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`tail probability must lie in (0, 1), got ${p}`);
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = 0.5 * (lo + hi);
    if (upperTailPValue(mid) > p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** Largest |z| whose tail probability double precision still resolves (P ~ 1e-300). */
const Z_LIMIT = 37;

/** The Gaussian z with the same tail probability as the raw excess of one observation against S samples. */
export function gaussianisedZ(rawZ: number, samples: number): number {
  const t = rawZ / Math.sqrt(1 + 1 / samples);
  const upper = studentUpperTail(t, samples - 1);
  if (upper <= 0) return Z_LIMIT;
  if (upper >= 1) return -Z_LIMIT;
  // The smaller tail keeps its precision; the other follows by symmetry.
  return upper <= 0.5 ? gaussianUpperQuantile(upper) : -gaussianUpperQuantile(1 - upper);
}

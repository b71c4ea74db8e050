/**
 * The statistics of the completeness reports, pure and small enough to check by hand: binomial
 * intervals, ROC AUC, the score threshold for a false-positive rate, and binning.
 */

import { UsageError } from '../errors.js';

/**
 * Interval coverages offered. 0.68 is the astronomers' "1 sigma" and is computed with z = 1 exactly
 * (coverage 68.27%), so an interval reads like an error bar; 0.95 uses z = 1.96.
 */
export type Confidence = 0.68 | 0.95;

export const DEFAULT_CONFIDENCE: Confidence = 0.68;

const Z_OF: Readonly<Record<Confidence, number>> = { 0.68: 1, 0.95: 1.959963984540054 };

/** A fraction k/n with its Wilson score interval; `value` is null when there were no trials. */
export interface Proportion {
  readonly successes: number;
  readonly trials: number;
  readonly value: number | null;
  readonly lower: number;
  readonly upper: number;
}

/**
 * The Wilson score interval: unlike the normal approximation it stays within [0, 1] and does not
 * collapse to zero width at k = 0 or k = n, which is where completeness and false-positive rates live.
 */
export function wilsonInterval(successes: number, trials: number, confidence: Confidence = DEFAULT_CONFIDENCE): Proportion {
  if (!Number.isInteger(successes) || !Number.isInteger(trials) || successes < 0 || successes > trials) {
    throw new RangeError(`${successes} successes out of ${trials} trials is not a binomial count`);
  }
  if (trials === 0) return { successes, trials, value: null, lower: 0, upper: 1 };
  const z2 = Z_OF[confidence] ** 2;
  const p = successes / trials;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (Math.sqrt(z2) / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  // At k = 0 (k = n) the lower (upper) bound is exactly 0 (1); rounding would miss it by an ulp.
  return { successes, trials, value: p, lower: successes === 0 ? 0 : centre - half, upper: successes === trials ? 1 : centre + half };
}

function sortedCopy(values: ArrayLike<number>, what: string): Float64Array {
  const sorted = Float64Array.from(values);
  if (sorted.some(Number.isNaN)) throw new RangeError(`${what} holds NaN; pass a missing score as -Infinity`);
  return sorted.sort();
}

/**
 * ROC AUC as the Mann–Whitney statistic: the chance that a random positive scores above a random
 * negative, a tie counting one half. Null when either side is empty. Scores may be ±Infinity.
 */
export function rocAuc(positives: ArrayLike<number>, negatives: ArrayLike<number>): number | null {
  if (positives.length === 0 || negatives.length === 0) return null;
  const pos = sortedCopy(positives, 'positives');
  const neg = sortedCopy(negatives, 'negatives');
  let below = 0;
  let tied = 0;
  let wins = 0;
  for (let i = 0; i < pos.length; i++) {
    const p = pos[i]!;
    // Positives ascend, so both pointers only move forward: one merge pass after the sorts.
    while (below < neg.length && neg[below]! < p) below++;
    tied = Math.max(tied, below);
    while (tied < neg.length && neg[tied] === p) tied++;
    wins += below + 0.5 * (tied - below);
  }
  return wins / (pos.length * neg.length);
}

/**
 * The lowest score threshold t for which the fraction of `negatives` strictly above t is at most
 * `fpr`: a selection "score > t" then has a false-positive rate <= fpr on these negatives. It is
 * always one of the negatives' scores (ties can make the realised rate lower than `fpr`); null
 * without negatives.
 */
export function thresholdAtFpr(negatives: ArrayLike<number>, fpr: number): number | null {
  if (!(fpr >= 0 && fpr < 1)) throw new RangeError(`false-positive rate ${fpr} is not in [0, 1)`);
  const n = negatives.length;
  if (n === 0) return null;
  const descending = sortedCopy(negatives, 'negatives').reverse();
  // Most negatives allowed above the threshold, judged in the same arithmetic as "m / n <= fpr" so
  // that e.g. fpr = 0.29 with n = 100 allows 29 although 0.29 * 100 < 29 in floating point.
  let allowed = Math.floor(fpr * n);
  if ((allowed + 1) / n <= fpr) allowed++;
  return descending[allowed]!;
}

/** Magnitude bins of the reports: I_E 19 to 25 in steps of 1, where Euclid VIS AGN searches work. */
export const DEFAULT_MAG_EDGES: readonly number[] = [19, 20, 21, 22, 23, 24, 25];

/** Bin edges must be finite and strictly increasing, at least two of them. */
export function checkEdges(edges: readonly number[], what: string): void {
  if (edges.length < 2 || edges.some((edge) => !Number.isFinite(edge)) || edges.some((edge, i) => i > 0 && edge <= edges[i - 1]!)) {
    throw new UsageError(`${what} must be at least two finite, strictly increasing numbers, got ${edges.join(',')}`);
  }
}

/** The bin i with edges[i] <= value < edges[i + 1], or -1 outside the edges (and for NaN). */
export function binOf(edges: readonly number[], value: number): number {
  if (!(value >= edges[0]! && value < edges[edges.length - 1]!)) return -1;
  let lo = 0;
  let hi = edges.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (value >= edges[mid]!) lo = mid;
    else hi = mid;
  }
  return lo;
}

export interface Moments {
  readonly n: number;
  readonly mean: number | null;
  /** Sample standard deviation (n - 1); null below two values. */
  readonly sd: number | null;
}

export function moments(values: readonly number[]): Moments {
  const n = values.length;
  if (n === 0) return { n, mean: null, sd: null };
  const mean = values.reduce((sum, v) => sum + v, 0) / n;
  const sd = n < 2 ? null : Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1));
  return { n, mean, sd };
}

export interface ErrorSummary {
  readonly n: number;
  /** Mean of estimate - truth. */
  readonly bias: number | null;
  readonly rmse: number | null;
}

/** Bias and RMSE of estimates against true values, pairs given as [estimate, truth]. */
export function errorSummary(pairs: readonly (readonly [number, number])[]): ErrorSummary {
  const n = pairs.length;
  if (n === 0) return { n, bias: null, rmse: null };
  let sum = 0;
  let squares = 0;
  for (const [estimate, truth] of pairs) {
    sum += estimate - truth;
    squares += (estimate - truth) ** 2;
  }
  return { n, bias: sum / n, rmse: Math.sqrt(squares / n) };
}

/** A fraction as a percentage, `digits` after the point; '–' for none. */
export function percent(p: number | null, digits = 1): string {
  return p === null ? '–' : `${(100 * p).toFixed(digits)}%`;
}

/** "12/40 = 30.0% [23.1%, 37.9%]", or "0/0" without trials. */
export function formatProportion(p: Proportion): string {
  return p.value === null ? '0/0' : `${p.successes}/${p.trials} = ${percent(p.value)} [${percent(p.lower)}, ${percent(p.upper)}]`;
}

export function markdownRow(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** The line under a Markdown table's header row: the first column left-aligned, the numbers right-aligned. */
export function markdownRule(columns: number): string {
  return `|---|${'---:|'.repeat(columns - 1)}`;
}

/**
 * The statistics the simulator, the scores, the model checks and the baselines share, so that each
 * estimator has one definition: the median, numpy's quantile, the MAD sigma and the mean.
 */

// Module-level aliases: under Jest's vm context every lookup of the global Math costs ~0.4 us,
// which made the simulator 30x slower in tests than in production.
const { abs, floor, min } = Math;

/**
 * Rearranges a[lo..hi] so that a[k] holds the value a full ascending sort would put there, smaller or
 * equal values before it and larger or equal after (Hoare's selection: linear time on average, where
 * a sort costs n log n; the median of every cutout's RMS window is on the hot path of a run).
 */
function selectInPlace(a: Float64Array, k: number, lo = 0, hi = a.length - 1): void {
  while (hi > lo) {
    const pivot = a[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/** The median as a full sort would give it (NaN sorting last, as typed-array sort puts it). */
export function median(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const ordered = new Float64Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v === v) ordered[m++] = v;
  }
  const numbers = ordered.subarray(0, m);
  const at = (k: number): number => {
    if (k >= m) return Number.NaN;
    selectInPlace(numbers, k);
    return numbers[k]!;
  };
  if (n % 2 === 1) return at((n - 1) / 2);
  const upper = at(n / 2);
  // After selecting n/2, everything below it is no larger: the largest of them is the element before.
  let lower = -Infinity;
  for (let i = 0; i < Math.min(n / 2, m); i++) if (numbers[i]! > lower) lower = numbers[i]!;
  return 0.5 * (lower + upper);
}

/** Linear-interpolated quantile of ascending values (numpy's default). */
export function quantileOf(sorted: ArrayLike<number>, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = floor(pos);
  const hi = min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Gaussian-equivalent sigma from the median absolute deviation. */
export function madSigma(values: ArrayLike<number>): number {
  const m = median(values);
  const dev = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) dev[i] = abs(values[i]! - m);
  return 1.4826 * median(dev);
}

/** The arithmetic mean, summed in order. */
export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

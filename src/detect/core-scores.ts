/**
 * Scores of one source's observed core against its regenerated samples, as pure functions.
 *
 * The samples are draws of the *observed* core given the rest of the cutout (the generator learned
 * from noisy images), so their spread already holds the pixel noise; the pixel variance is added to
 * the sample covariance as well, because 16 samples of 25 pixels give a singular covariance. That
 * makes chi2 and z conservative (slightly too small) rather than overconfident.
 *
 *   C        = Cov(samples) + diag(sigma^2)
 *   chi2     = d^T C^-1 d,  d = observed - mean(samples)
 *   F(x)     = (w^T x) / (w^T w)                the PSF amplitude fitted to a core x
 *   ps_flux  = F(observed) - mean_s F(sample_s)
 *   ps_err   = sd_s F(sample_s)
 *   z        = ps_flux / ps_err                 one-sided: an AGN adds light
 *   matched  = w^T C^-1 d / sqrt(w^T C^-1 w)   the PSF's matched filter through C
 *   t        = matched / min(L, sqrt((chi2 - matched^2 + k (P - 1)) / ((1 + k) (P - 1))))
 * with w the PSF's pixels under the core, the PSF normalised to unit total flux, so ps_flux is the
 * point source's total flux in image units. z weighs the residual by the samples' spread along the PSF
 * alone; the matched filter weighs it by their whole covariance, so a PSF-shaped excess stands out in
 * the directions where the regenerations agree, even where they disagree on how bright the core is. On normal
 * galaxies the matched filter's tail is heavy (a covariance of 25 pixels estimated from tens of samples),
 * which its calibration takes care of; at equal false positives it finds 1.4-2 times the AGN of f_PS
 * 0.05-0.2 that z finds at I_E 19-23 (docs/detection.md).
 *
 * t studentises the matched filter: C is the generator's belief about how far the core may stray, and
 * where it is too narrow for a source (a galaxy unlike those it learned), the residual is large in every
 * direction, not only along the PSF. Its part orthogonal to the PSF (chi2 - matched^2, chi-square with
 * P - 1 degrees of freedom where C is right) measures that source's own scale, so a galaxy the generator
 * misjudges is scaled down while a point source, whose residual lies along the PSF, keeps its
 * significance. k weighs C's own scale as a prior of k (P - 1) degrees of freedom, so an orthogonal
 * residual of nothing cannot send t to infinity. A bright point source leaves some residual off the PSF
 * too (its template placed a fraction of a pixel off, or a PSF not quite the image's), growing with its
 * flux, so t would level off as it brightens: the scale is trusted up to L, and a source misjudged by
 * more keeps matched / L. On normal galaxies this trims the tail that set the threshold: at 1% false
 * positives it finds 1.3-1.8 times the AGN of f_PS 0.05-0.2 at I_E 19-23 (docs/detection.md).
 */

/** Weight of the regenerations' own scale against the residual's in t, in units of the residual's P - 1 degrees of freedom. */
const COVARIANCE_SCALE_PRIOR = 0.1;
/**
 * L, the largest residual scale t divides by. Simulated point sources leave little off the PSF
 * (orthogonal chi2 / matched^2 0.005-0.013 at I_E < 22), points injected into the real Q1 cutouts
 * 0.08-0.18: unbounded, their scale reached 12-15 and agn_z stopped at 2.7 for f_PS 0.5. A bound of
 * 3 or 4 changed no completeness on seven simulated grids by more than a point.
 */
const MAX_RESIDUAL_SCALE = 3;

export interface CoreScores {
  /** Paper-style error: sum (observed - mean)^2 / sum observed^2 over the masked pixels. */
  readonly reconError: number;
  readonly chi2: number;
  readonly dof: number;
  readonly psFlux: number;
  readonly psFluxErr: number;
  readonly z: number;
  /** The PSF's matched filter through the regenerations' covariance. */
  readonly matchedZ: number;
  /** matchedZ of a point source of unit flux: sqrt(w' C^-1 w), so a point source of flux a adds a times it. */
  readonly matchedZPerFlux: number;
  /** matchedZ over the scale of the residual orthogonal to the PSF (what agn_z calibrates on current cards). */
  readonly studentisedZ: number;
  /**
   * That scale, min(L, sqrt(...)): how much wider than the regenerations' spread this source's residual is
   * off the PSF (about 1 where the generator judged the source right).
   */
  readonly residualScale: number;
}

/** Lower-triangular Cholesky factor of a symmetric positive-definite n x n matrix (row-major). */
export function cholesky(matrix: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = matrix[i * n + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (!(sum > 0)) throw new RangeError('covariance is not positive definite');
        l[i * n + i] = Math.sqrt(sum);
      } else {
        l[i * n + j] = sum / l[j * n + j]!;
      }
    }
  }
  return l;
}

/** Solves L y = b (forward substitution); whitening: y^T y = b^T C^-1 b for C = L L^T. */
export function whiten(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= l[i * n + k]! * y[k]!;
    y[i] = sum / l[i * n + i]!;
  }
  return y;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/**
 * `samples`: S x P row-major starting at `offset`; `observed`, `psfWeights`, `pixelSigma`: P values.
 */
export function scoreCore(
  observed: ArrayLike<number>,
  samples: ArrayLike<number>,
  sampleCount: number,
  psfWeights: ArrayLike<number>,
  pixelSigma: ArrayLike<number>,
  offset = 0,
): CoreScores {
  const p = observed.length;
  if (sampleCount < 2) throw new RangeError('scores need at least two samples');
  const mean = new Float64Array(p);
  for (let s = 0; s < sampleCount; s++) for (let i = 0; i < p; i++) mean[i]! += samples[offset + s * p + i]! / sampleCount;
  const covariance = new Float64Array(p * p);
  for (let s = 0; s < sampleCount; s++) {
    const base = offset + s * p;
    for (let i = 0; i < p; i++) {
      const di = samples[base + i]! - mean[i]!;
      for (let j = 0; j <= i; j++) covariance[i * p + j]! += (di * (samples[base + j]! - mean[j]!)) / (sampleCount - 1);
    }
  }
  for (let i = 0; i < p; i++) {
    covariance[i * p + i]! += pixelSigma[i]! ** 2;
    for (let j = 0; j < i; j++) covariance[j * p + i] = covariance[i * p + j]!;
  }
  const residual = Float64Array.from(observed, (v, i) => v - mean[i]!);
  const factor = cholesky(covariance, p);
  const wr = whiten(factor, p, residual);
  const ww = whiten(factor, p, psfWeights);
  const norm = dot(psfWeights, psfWeights);
  const fluxes = Array.from({ length: sampleCount }, (_, s) => {
    let sum = 0;
    for (let i = 0; i < p; i++) sum += psfWeights[i]! * samples[offset + s * p + i]!;
    return sum / norm;
  });
  const meanFlux = fluxes.reduce((a, b) => a + b, 0) / sampleCount;
  const psFlux = dot(psfWeights, observed) / norm - meanFlux;
  const psFluxErr = Math.sqrt(fluxes.reduce((a, f) => a + (f - meanFlux) ** 2, 0) / (sampleCount - 1));
  const chi2 = dot(wr, wr);
  const matchedZ = dot(ww, wr) / Math.sqrt(dot(ww, ww));
  const orthogonalChi2 = Math.max(0, chi2 - matchedZ * matchedZ);
  const residualScale = Math.min(MAX_RESIDUAL_SCALE, Math.sqrt((orthogonalChi2 + COVARIANCE_SCALE_PRIOR * (p - 1)) / ((1 + COVARIANCE_SCALE_PRIOR) * (p - 1))));
  return {
    reconError: dot(residual, residual) / dot(observed, observed),
    chi2,
    dof: p,
    psFlux,
    psFluxErr,
    z: psFlux / psFluxErr,
    matchedZ,
    matchedZPerFlux: Math.sqrt(dot(ww, ww)),
    studentisedZ: matchedZ / residualScale,
    residualScale,
  };
}

/** One-sided p-value of a standard normal z: P(Z > z). */
export function upperTailPValue(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/**
 * Injection–recovery: a PSF point source of chosen f_PS added to a real or simulated cutout, through
 * the cutout's own PSF and on top of its own noise, with the shot noise the new light brings. The
 * point lands at the cutout centre (the catalogue position) with a random sub-pixel offset, rendered
 * exactly as the simulator renders AGN, so recovery is measured as the sims measure it.
 */

import type { Psf } from '../ground/psf.js';
import { MER_RMS_TO_SIGMA, MER_VIS_GAIN } from '../ground/vis.js';
import { Rng, STREAM, deriveKey } from '../random.js';
import { renderSignal } from './scene.js';

export interface Injection {
  /** The f_PS asked for: F_point / (F_point + F_host). */
  readonly fps: number;
  /** Injected flux, image units. */
  readonly flux: number;
  /** Offset from the window centre, pixels. */
  readonly dx: number;
  readonly dy: number;
}

/** The point flux that gives `fps` on a host of `hostFlux`. */
export function pointFluxFor(fps: number, hostFlux: number): number {
  if (!(fps >= 0 && fps < 1)) throw new RangeError(`f_PS must lie in [0, 1), got ${fps}`);
  return (fps / (1 - fps)) * hostFlux;
}

/**
 * `pixels` (side x side, the source at floor(side / 2)) with a point of f_PS `fps` added. Every draw
 * comes from (seed, object id, injection index), so injections are reproducible.
 *
 * The shot noise is the mosaic's: variance light / gain in the RMS map's terms, times the per-pixel
 * scatter over the RMS level (`rmsToSigma`, the resampling's share, as the simulator draws it). At
 * the RMS map's full level, an injected point carried 2.5 times the variance a simulated one does,
 * and its residual off the PSF grew with it.
 */
export function injectPointSource(
  pixels: Float32Array,
  side: number,
  psf: Psf,
  hostFlux: number,
  fps: number,
  draw: { readonly seed: number; readonly objectId: bigint; readonly index: number },
  gain = MER_VIS_GAIN,
  rmsToSigma = MER_RMS_TO_SIGMA,
): { pixels: Float32Array; injection: Injection } {
  const word = BigInt.asUintN(64, draw.objectId);
  const rng = new Rng(deriveKey(draw.seed, Number(word & 0xffffffffn), Number(word >> 32n), draw.index, STREAM.injection));
  const dx = rng.uniform() - 0.5;
  const dy = rng.uniform() - 0.5;
  const flux = pointFluxFor(fps, hostFlux);
  const out = pixels.slice();
  if (flux > 0) {
    const window = { x0: -Math.floor(side / 2), y0: -Math.floor(side / 2), width: side, height: side };
    // Rendered as the simulator renders AGN; sigma 0 keeps every PSF wing.
    const point = renderSignal([{ x: dx, y: dy, fluxPoint: flux, components: [] }], psf, window, 0);
    for (let i = 0; i < out.length; i++) {
      const light = point[i]!;
      if (light > 0) out[i]! += light + rmsToSigma * Math.sqrt(light / gain) * rng.normal();
    }
  }
  return { pixels: out, injection: { fps, flux, dx, dy } };
}

/**
 * A piscina worker for bench:detect: the project's own peers (Sérsic + PSF fit, concentration index)
 * on a block of cutouts, each with its cutout's PSF stamp (the true PSF for simulations).
 */

import { concentrationIndex } from '../baseline/concentration.js';
import { fitSersicPsf } from '../baseline/sersic-psf.js';
import { readCutout } from '../cutout/from-files.js';
import { defaultVisPsf } from '../ground/psf.js';

/** Read around the centre: the 25-pixel fit plus room for the concentration's sky annulus. */
const WINDOW = 41;

export interface PeerTask {
  readonly files: readonly string[];
}

export interface PeerMeasure {
  readonly fps: number | null;
  readonly fpsError: number | null;
  /** sqrt of the chi2 gain of the point source over the host alone. */
  readonly significance: number;
  readonly concentration: number | null;
  /** CPU time of the fit, seconds. */
  readonly fitSeconds: number;
}

export function measurePeers(task: PeerTask): PeerMeasure[] {
  return task.files.map((file) => {
    const cutout = readCutout(file, { side: WINDOW });
    const psf = cutout.psf ?? defaultVisPsf();
    const started = performance.now();
    const fit = fitSersicPsf({ pixels: cutout.pixels, rms: cutout.rms, side: cutout.side, psf });
    const fitSeconds = (performance.now() - started) / 1000;
    return { fps: fit.fps, fpsError: fit.fpsError, significance: fit.significance, concentration: concentrationIndex(cutout.pixels, cutout.side), fitSeconds };
  });
}

export default measurePeers;

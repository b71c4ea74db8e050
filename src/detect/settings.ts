/**
 * The one settings object of detection: everything that decides a source's row, and so everything a
 * resumed run shard or a merge must find unchanged (batch/metadata.ts compares them). How the model runs
 * (device, threads, workers, batch size) is not part of it: that changes no result.
 */

import { DEFAULT_HDU_NAMES, type HduNames } from '../cutout/from-files.js';
import { MER_RMS_TO_SIGMA } from '../ground/vis.js';
import { cardSolverMethod, type LoadedCard, type ModelCard, type SignificanceCalibration } from '../model/card.js';
import type { FlowMethod } from '../model/sampler.js';
import { DEFAULT_THRESHOLDS, UNCALIBRATED, type SamplingOptions, type Thresholds } from './detect.js';

export interface DetectionSettings {
  readonly samples: number;
  readonly steps: number;
  readonly method: FlowMethod;
  readonly seed: number;
  readonly thresholds: Thresholds;
  readonly hduNames: HduNames;
  /** RMS-map level to per-pixel sigma (MER mosaics: MER_RMS_TO_SIGMA). */
  readonly rmsToSigma: number;
  readonly temperature?: number;
}

/** A model card's sampler with the default thresholds, HDU names and MER noise conversion. */
export function defaultDetectionSettings(card: ModelCard, seed = 1): DetectionSettings {
  return {
    samples: card.sampler.samples,
    steps: card.sampler.steps,
    method: cardSolverMethod(card),
    seed,
    thresholds: DEFAULT_THRESHOLDS,
    hduNames: DEFAULT_HDU_NAMES,
    rmsToSigma: MER_RMS_TO_SIGMA,
  };
}

/** What the sampler takes of the settings (the joint fit is the model card's choice). */
export function samplingOf(settings: DetectionSettings): SamplingOptions {
  return {
    samples: settings.samples,
    solver: { steps: settings.steps, method: settings.method },
    seed: settings.seed,
    ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
  };
}

/** The significance calibration the card's scores were fitted with, or none. */
export function significanceCalibration(card: LoadedCard): SignificanceCalibration {
  return card.card.significance ?? UNCALIBRATED;
}

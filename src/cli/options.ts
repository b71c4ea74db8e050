/**
 * Options several commands share, read the same way by each: numbers with their ranges, the device,
 * the detection options of the commands that score sources (run, inject, inspect), and the card and
 * scoring of the commands that calibrate it (calibrate, calibrate-fps).
 */

import { availableParallelism } from 'node:os';

import type { Command } from 'commander';

import type { ScoringOptions } from '../batch/run.js';
import { DEFAULT_HDU_NAMES } from '../cutout/from-files.js';
import { DEFAULT_THRESHOLDS, type SamplingOptions } from '../detect/detect.js';
import { defaultDetectionSettings, samplingOf, type DetectionSettings } from '../detect/settings.js';
import { UsageError } from '../errors.js';
import { MER_RMS_TO_SIGMA } from '../ground/vis.js';
import { cardSolverMethod, defaultCardPath, readCard } from '../model/card.js';
import { CoreGenerator } from '../model/generator.js';
import type { DeviceRequest } from '../model/runtime.js';

/** A finite number (integer when asked) within [min, max], or a UsageError naming the option. */
export function numberOption(name: string, text: string, { min = -Infinity, max = Infinity, integer = false } = {}): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const range = [min > -Infinity ? `>= ${min}` : '', max < Infinity ? `<= ${max}` : ''].filter(Boolean).join(' and ');
    throw new UsageError(`${name} must be ${integer ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}, not ${JSON.stringify(text)}`);
  }
  return value;
}

export function deviceOption(text: string): DeviceRequest {
  if (text !== 'cpu' && text !== 'cuda' && text !== 'auto') throw new UsageError(`--device must be cpu, cuda or auto, not ${text}`);
  return text;
}

function names(option: string | undefined, fallback: readonly string[]): readonly string[] {
  return option === undefined ? fallback : option.split(',').map((s) => s.trim()).filter(Boolean);
}

export interface DetectionCommandOptions {
  model?: string;
  samples?: string;
  steps?: string;
  seed: string;
  zThreshold: string;
  qsoFps: string;
  pointLikeFps: string;
  fluxHdu?: string;
  rmsHdu?: string;
  psfHdu?: string;
  rmsToSigma: string;
  device: string;
  threads?: string;
  workers: string;
  batch: string;
  quiet?: boolean;
}

/** The options every command that runs detection shares (run, inject, inspect). */
export function detectionOptions(command: Command): Command {
  return command
    .option('--model <card>', 'model card', defaultCardPath())
    .option('--samples <n>', "regenerated cores per source (default: the model card's sampler.samples)")
    .option('--steps <n>', "flow solver steps (default: the card's)")
    .option('--seed <n>', 'run seed: with the object id it fixes every random draw', '1')
    .option('--z-threshold <z>', 'selection score (combined_z; agn_z where the model card has no combined calibration) above which a source is a candidate', String(DEFAULT_THRESHOLDS.z))
    .option('--qso-fps <f>', 'f_ps from which a candidate is a QSO rather than an AGN', String(DEFAULT_THRESHOLDS.qsoFps))
    .option('--point-like-fps <f>', 'f_ps from which a significant source is point-like (star or host-less QSO), not a candidate', String(DEFAULT_THRESHOLDS.pointLikeFps))
    .option('--flux-hdu <names>', `VIS image HDU names to try, comma-separated (default ${DEFAULT_HDU_NAMES.flux.join(',')}; a file with one image needs none)`)
    .option('--rms-hdu <names>', `RMS map HDU names (default ${DEFAULT_HDU_NAMES.rms.join(',')})`)
    .option('--psf-hdu <names>', `PSF stamp HDU names (default ${DEFAULT_HDU_NAMES.psf.join(',')}; without one, the mean Q1 VIS PSF)`)
    .option('--rms-to-sigma <f>', 'per-pixel noise over the RMS map level (MER mosaics: correlated noise)', MER_RMS_TO_SIGMA.toFixed(4))
    .option('--device <device>', 'cpu, cuda or auto (auto falls back to the CPU; cuda never does)', 'cpu')
    .option('--workers <n>', 'worker threads cutting and scoring sources', String(availableParallelism()))
    .option('--threads <n>', 'onnxruntime threads per worker (default: the cores shared among the workers)')
    .option('--batch <n>', 'sources per model batch', '128')
    .option('--quiet', 'no progress lines');
}

/** The settings and the model execution the detection options give; `workers` sources are scored at once. */
export function scoringOptionsFrom(options: DetectionCommandOptions): ScoringOptions & { readonly workers: number } {
  const cardPath = options.model ?? defaultCardPath();
  const card = readCard(cardPath).card;
  const workers = numberOption('--workers', options.workers, { min: 1, integer: true });
  const settings: DetectionSettings = {
    samples: options.samples === undefined ? card.sampler.samples : numberOption('--samples', options.samples, { min: 2, integer: true }),
    steps: options.steps === undefined ? card.sampler.steps : numberOption('--steps', options.steps, { min: 1, integer: true }),
    method: cardSolverMethod(card),
    seed: numberOption('--seed', options.seed, { min: 0, max: 2 ** 32 - 1, integer: true }),
    thresholds: {
      z: numberOption('--z-threshold', options.zThreshold),
      qsoFps: numberOption('--qso-fps', options.qsoFps),
      pointLikeFps: numberOption('--point-like-fps', options.pointLikeFps),
    },
    hduNames: { flux: names(options.fluxHdu, DEFAULT_HDU_NAMES.flux), rms: names(options.rmsHdu, DEFAULT_HDU_NAMES.rms), psf: names(options.psfHdu, DEFAULT_HDU_NAMES.psf) },
    rmsToSigma: numberOption('--rms-to-sigma', options.rmsToSigma, { min: 0 }),
  };
  return {
    cardPath,
    device: deviceOption(options.device),
    threads: options.threads === undefined ? Math.max(1, Math.floor(availableParallelism() / workers)) : numberOption('--threads', options.threads, { min: 1, integer: true }),
    workers,
    batch: numberOption('--batch', options.batch, { min: 1, integer: true }),
    settings,
  };
}

/** What the calibrating commands (calibrate, calibrate-fps) share: the card, and how its scores are drawn. */
export interface CalibrationCommandOptions {
  model: string;
  seed: string;
  threads: string;
}

export function calibrationOptions(command: Command): Command {
  return command
    .option('--model <card>', 'model card', defaultCardPath())
    .option('--seed <n>', 'sampler seed', '1')
    .option('--threads <n>', 'onnxruntime threads', String(availableParallelism()));
}

/**
 * The card's generator on the CPU and the scoring a calibration is fitted with (it holds only for
 * those scores): the card's sampler, and the joint fit `jointFit` or else the card's.
 */
export async function calibrationScoring(options: CalibrationCommandOptions, jointFit?: boolean): Promise<{ generator: CoreGenerator; sampling: SamplingOptions }> {
  const seed = numberOption('--seed', options.seed, { min: 0, integer: true });
  const generator = await CoreGenerator.load(options.model, { device: 'cpu', threads: numberOption('--threads', options.threads, { min: 1, integer: true }) });
  return { generator, sampling: { ...samplingOf(defaultDetectionSettings(generator.loaded.card, seed)), jointFit: jointFit ?? generator.jointFit } };
}

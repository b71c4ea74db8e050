/**
 * The full recipe of a simulation run (population, neighbourhood, noise, PSF): the defaults, the
 * command-line overrides, and a digest written into every output so a file names the recipe it came
 * from.
 */

import { createHash } from 'node:crypto';

import { UsageError } from '../errors.js';
import { Q1_NOISE } from './calibration.js';
import { DEFAULT_POPULATION, POPULATIONS } from './population.js';
import { DEFAULT_NEIGHBOURHOOD, type PsfChoice, type SimRecipe } from './scene.js';

export const DEFAULT_RECIPE: SimRecipe = {
  population: DEFAULT_POPULATION,
  neighbourhood: DEFAULT_NEIGHBOURHOOD,
  noise: Q1_NOISE,
  psf: { kind: 'q1' },
};

export interface RecipeOptions {
  /** A named population (POPULATIONS): 'realistic' (the default) or 'stress'. */
  readonly population?: string;
  readonly mix?: 'survey' | 'grid';
  /** f_PS values of the grid mix. */
  readonly gridFps?: readonly number[];
  readonly psf?: PsfChoice;
  /** Target magnitude range. */
  readonly magnitude?: readonly [number, number];
}

export function buildRecipe(options: RecipeOptions = {}, base: SimRecipe = DEFAULT_RECIPE): SimRecipe {
  if (options.gridFps !== undefined && (options.gridFps.length === 0 || options.gridFps.some((f) => !(f >= 0 && f <= 1)))) {
    throw new UsageError(`grid f_PS values must lie in [0, 1], got ${options.gridFps.join(',')}`);
  }
  if (options.magnitude !== undefined && !(options.magnitude[0] < options.magnitude[1])) {
    throw new UsageError(`magnitude range needs min < max, got ${options.magnitude.join('..')}`);
  }
  if (options.psf?.kind === 'moffat' && !(options.psf.fwhm[0] > 0 && options.psf.fwhm[1] >= options.psf.fwhm[0] && options.psf.beta > 1)) {
    throw new UsageError('a Moffat PSF needs 0 < FWHM min <= FWHM max and beta > 1');
  }
  const named = options.population === undefined ? base.population : POPULATIONS[options.population];
  if (named === undefined) throw new UsageError(`unknown population '${options.population}': one of ${Object.keys(POPULATIONS).join(', ')}`);
  const population = {
    ...named,
    mix: options.mix ?? named.mix,
    gridFps: options.gridFps ?? named.gridFps,
    magnitude: options.magnitude === undefined ? named.magnitude : { ...named.magnitude, min: options.magnitude[0], max: options.magnitude[1] },
  };
  return { ...base, population, psf: options.psf ?? base.psf };
}

/** First 16 hex digits of the SHA-256 of the recipe's JSON: short enough for a FITS card. */
export function recipeDigest(recipe: SimRecipe): string {
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 16);
}

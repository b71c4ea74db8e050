/**
 * The independent evaluation set of `bench:detect` (population `crosscheck`): cutouts rendered by
 * pipelines/crosscheck/make_set.py, which shares no code with src/sim, so the model is measured on
 * galaxies drawn and rendered by other rules than those it was trained on. Python with numpy, scipy
 * and astropy (Debian: python3-astropy) renders them; `VIS_AGN_PYTHON` picks another interpreter.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { readTruthTable, type TruthObject } from '../completeness/truth.js';
import { decodeFloat32LE } from '../ground/psf.js';
import { Q1_VIS_PSF_STAMPS } from '../ground/q1-psf-stamps.js';
import { pythonExecutable as python } from '../stamps/train.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = path.join(repoRoot, 'pipelines', 'crosscheck', 'make_set.py');

/** Why the set cannot be made here, or null when it can. */
export function crosscheckUnavailable(): string | null {
  const probe = spawnSync(python(), ['-c', 'import numpy, scipy, astropy'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `${python()} cannot be run (${probe.error.message})`;
  return probe.status === 0 ? null : `${python()} lacks numpy, scipy or astropy (Debian: apt install python3-astropy)`;
}

export interface CrosscheckRecipe {
  readonly seed: number;
  readonly galaxies: number;
  readonly agnPerFps: number;
  readonly stars: number;
  readonly fps: readonly number[];
  readonly mag: readonly [number, number];
}

export interface CrosscheckSet {
  readonly files: string[];
  readonly truth: TruthObject[];
  readonly recipe: CrosscheckRecipe;
}

/** Makes the set in `dir`, or reuses it when `dir` already holds one of the same recipe. */
export async function crosscheckSet(dir: string, recipe: CrosscheckRecipe): Promise<CrosscheckSet> {
  const recipeFile = path.join(dir, 'recipe.json');
  const truthFile = path.join(dir, 'truth.csv');
  const wanted = JSON.stringify(recipe);
  const reusable = existsSync(truthFile) && existsSync(recipeFile) && readFileSync(recipeFile, 'utf8') === wanted;
  const cutouts = path.join(dir, 'cutouts');
  if (!reusable) {
    // Cutouts of an earlier recipe must not stay beside the new ones.
    rmSync(cutouts, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const stampsFile = path.join(dir, 'psf-stamps.json');
    const stamps = Q1_VIS_PSF_STAMPS.map((s) => ({ file: s.file, size: s.size, values: Array.from(decodeFloat32LE(s.base64)) }));
    writeFileSync(stampsFile, JSON.stringify(stamps));
    const args = [
      script,
      '--out', dir,
      '--psf-json', stampsFile,
      '--seed', String(recipe.seed),
      '--galaxies', String(recipe.galaxies),
      '--agn-per-fps', String(recipe.agnPerFps),
      '--stars', String(recipe.stars),
      '--fps', recipe.fps.join(','),
      '--mag', recipe.mag.join(','),
    ];
    const made = spawnSync(python(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (made.status !== 0) throw new Error(`pipelines/crosscheck/make_set.py failed (exit ${made.status}): ${(made.stderr ?? '').trim().split('\n').slice(-3).join(' / ')}`);
    writeFileSync(recipeFile, wanted);
  }
  const files = readdirSync(cutouts).filter((f) => f.endsWith('.fits')).sort().map((f) => path.join(cutouts, f));
  return { files, truth: await readTruthTable(truthFile), recipe };
}

/**
 * Catalogue rows and metadata for the round-trip tests: seeded random values plus the awkward ones
 * every format must carry (int64 extremes, uint32 with the top bit, nulls, -0, subnormals, strings
 * with commas, quotes, line breaks and non-ASCII characters).
 */

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { COLUMNS, encodeFlags, FLAGS, type CatalogRow, type RunMetadata } from '../../src/catalog/index.js';
import { CANDIDATE_CLASSES } from '../../src/detect/detect.js';
import { seededRandom } from '../helpers/random.js';

export const METADATA: RunMetadata = {
  modelName: 'core-flow-s16',
  modelCardSha256: 'a3f1c09b6e2d4f5a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a',
  executionProvider: 'cpu',
  config: { sampler: { method: 'flow-heun', samples: 16, steps: 8 }, threshold: { agn_z: 5 }, note: 'Zürich run, "quoted"' },
  seed: 20250318,
  visAgnVersion: '0.1.0',
  nodeVersion: 'v20.19.0',
  onnxruntimeVersion: '1.30.0',
  inputs: Array.from({ length: 12 }, (_, i) => `/data/euclid-q1/EUC_MER_BGSUB-MOSAIC-VIS_TILE1020186${String(i).padStart(2, '0')}-ABC123_20241017T032151.234567Z_00.00.fits`),
  createdAt: '2025-03-18T12:34:56.789Z',
};


const AWKWARD_FILES = ['tile,with comma.fits', 'say "cheese".fits', 'line\nbreak.fits', 'Zürich-π.fits', 'plain.fits', ''];
const AWKWARD_FLOATS = [-0, 5e-324, 1.7976931348623157e308, -1.2345678901234567e-300, 0.1 + 0.2, 1 / 3];

/** `n` rows; the first ones carry the edge cases, the rest are random. */
export function makeRows(n: number, seed = 1): CatalogRow[] {
  const next = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const maybe = <T>(value: T, nullChance = 0.15): T | null => (next() < nullChance ? null : value);
  const float = (scale: number) => (next() - 0.5) * scale;
  return Array.from({ length: n }, (_, i): CatalogRow => {
    const edge = i < AWKWARD_FLOATS.length;
    const cls = pick(CANDIDATE_CLASSES);
    const flagNames = FLAGS.filter(() => next() < 0.2).map((flag) => flag.name);
    return {
      object_id: i === 0 ? -(2n ** 63n) : i === 1 ? 2n ** 63n - 1n : BigInt(Math.floor(float(2 ** 52))) * 1000n + BigInt(i),
      source_file: i < AWKWARD_FILES.length ? AWKWARD_FILES[i]! : `tile_${i % 7}.fits`,
      hdu: i % 3 === 0 ? 'VIS_FLUX' : String(i % 5),
      ra: maybe(next() * 360),
      dec: maybe(next() * 180 - 90),
      x_center: maybe(next() * 19200),
      y_center: maybe(next() * 19200),
      mag_vis: maybe(18 + next() * 8),
      // The top bit set on some rows checks unsigned handling in every format.
      flags: i === 2 ? 0xffffffff : (encodeFlags(flagNames) | (i % 11 === 0 ? 0x80000000 : 0)) >>> 0,
      is_candidate: cls !== 'none' && next() < 0.7,
      candidate_class: cls,
      recon_error: edge ? AWKWARD_FLOATS[i]! : maybe(next() * 10),
      chi2_core: maybe(next() * 100),
      chi2_dof: maybe(24.5),
      agn_z: maybe(float(20)),
      agn_pvalue: maybe(next() ** 8),
      ps_flux: maybe(float(50)),
      ps_flux_err: maybe(next()),
      ps_flux_ujy: maybe(float(50) * 0.5248),
      ps_flux_ujy_err: maybe(next() * 0.5248),
      f_ps: maybe(next()),
      f_ps_err: maybe(next() * 0.1),
      f_ps_generative: maybe(next() * 1.2 - 0.1),
      spread_model: maybe(float(0.02)),
      noise_sigma: maybe(0.0027 + next() * 0.001),
      n_samples: i === 3 ? 2 ** 31 - 1 : maybe(16),
      core_x: maybe(Math.floor(next() * 19200)),
      core_y: maybe(Math.floor(next() * 19200)),
      // Drawn last, so the columns before them keep the values earlier tests were written against.
      morph_z: maybe(float(8)),
      combined_z: maybe(float(20)),
    };
  });
}

/** A fresh directory under the OS temp dir, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), `vis-agn-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Names in `dir`, so a test can check that a failed write left nothing behind. */
export function listing(dir: string): string[] {
  return readdirSync(dir).sort();
}

export const COLUMN_NAMES = COLUMNS.map((column) => column.name);

/** Positions, magnitudes, fluxes and noise levels: each is meaningless without its unit, in every format that carries units. */
export const DIMENSIONAL_COLUMNS = ['ra', 'dec', 'x_center', 'y_center', 'mag_vis', 'ps_flux', 'ps_flux_err', 'ps_flux_ujy', 'ps_flux_ujy_err', 'noise_sigma', 'core_x', 'core_y'];

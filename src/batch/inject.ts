/**
 * `vis-agn inject`: injection–recovery on real or simulated cutouts. Each cutout is scored as it is
 * (f_PS 0: what the selection does to the sources as they are) and with a point source of each chosen
 * f_PS added; completeness is the fraction of injected copies selected, per f_PS and per magnitude of
 * the original source.
 */

import type { CatalogRow } from '../catalog/schema.js';
import { wilsonInterval, type Proportion } from '../completeness/stats.js';
import { listInputFiles, readCutout, type CutoutSource } from '../cutout/from-files.js';
import { VisAgnError } from '../errors.js';
import { CoreGenerator } from '../model/generator.js';
import { deriveKey } from '../random.js';
import { injectPointSource } from '../sim/inject.js';
import { CORE_SEARCH } from '../detect/prepare.js';
import { significanceCalibration, type DetectionSettings } from '../detect/settings.js';
import { defaultVisPsf } from '../ground/psf.js';
import { median } from '../ground/stats.js';
import { MER_VIS_GAIN } from '../ground/vis.js';
import { prepareCutout, scorePrepared, type ModelExecution, type PreparedCutout } from './run.js';

export interface InjectionOptions extends ModelExecution {
  readonly inputs: readonly string[];
  /** f_PS values to inject, each in (0, 1). */
  readonly fps: readonly number[];
  readonly magEdges: readonly number[];
  readonly batch: number;
  readonly settings: DetectionSettings;
  readonly onProgress?: (done: number, total: number) => void;
  readonly onInputError?: (file: string, error: VisAgnError) => void;
}

export interface InjectedResult {
  readonly file: string;
  readonly objectId: bigint;
  /** Magnitude of the source before injection (null when its flux is not positive). */
  readonly mag: number | null;
  readonly fps: number;
  readonly selected: boolean;
  readonly agnZ: number | null;
  readonly fpsEstimate: number | null;
}

export interface InjectionCell {
  readonly fps: number;
  readonly mag: readonly [number, number] | null;
  readonly completeness: Proportion;
  /** Median of the estimated f_ps of the injected copies (null without estimates). */
  readonly medianFpsEstimate: number | null;
}

export interface InjectionReport {
  readonly sources: number;
  readonly unreadable: number;
  /** Selected fraction of the cutouts as they are (no injection). */
  readonly selectedAsIs: Proportion;
  /** Per f_PS over all magnitudes (mag null), then per f_PS and magnitude bin. */
  readonly cells: readonly InjectionCell[];
  readonly results: readonly InjectedResult[];
}

function cell(results: readonly InjectedResult[], fps: number, mag: readonly [number, number] | null): InjectionCell {
  const chosen = results.filter((r) => r.fps === fps && (mag === null || (r.mag !== null && r.mag >= mag[0] && r.mag < mag[1])));
  const estimates = chosen.flatMap((r) => (r.fpsEstimate === null ? [] : [r.fpsEstimate]));
  return {
    fps,
    mag,
    completeness: wilsonInterval(chosen.filter((r) => r.selected).length, chosen.length),
    medianFpsEstimate: estimates.length === 0 ? null : median(estimates),
  };
}

/**
 * The draw index of one injection, a hash of (f_PS, magnitude) alone: an object's position and shot
 * noise at one f_PS then do not depend on which other f_PS values the run injects, so published
 * figures reproduce with any --fps list.
 */
export function injectionDrawIndex(fps: number, mag: number | null): number {
  const words = new Uint32Array(new Float64Array([fps, mag ?? Number.NaN]).buffer);
  const key = deriveKey(...words);
  // 53 bits, the most a key part may carry.
  return (key.hi >>> 11) * 2 ** 32 + key.lo;
}

function resultOf(file: string, row: CatalogRow, fps: number, mag: number | null): InjectedResult {
  return { file, objectId: row.object_id, mag, fps, selected: row.is_candidate, agnZ: row.agn_z, fpsEstimate: row.f_ps };
}

export async function runInjection(options: InjectionOptions): Promise<InjectionReport> {
  for (const f of options.fps) if (!(f > 0 && f < 1)) throw new RangeError(`injected f_PS must lie in (0, 1), got ${f}`);
  const files = listInputFiles(options.inputs);
  const generator = await CoreGenerator.load(options.cardPath, { device: options.device, threads: options.threads });
  const calibration = significanceCalibration(generator.loaded);
  const side = generator.crop + CORE_SEARCH - 1;
  const results: InjectedResult[] = [];
  let unreadable = 0;
  try {
    for (let start = 0; start < files.length; start += options.batch) {
      const originals: { file: string; cutout: CutoutSource; prepared: PreparedCutout }[] = [];
      for (const file of files.slice(start, start + options.batch)) {
        try {
          const cutout = readCutout(file, { hduNames: options.settings.hduNames, side });
          originals.push({ file, cutout, prepared: prepareCutout(cutout, generator.crop, generator, options.settings.rmsToSigma) });
        } catch (error) {
          if (!(error instanceof VisAgnError)) throw error;
          options.onInputError?.(file, error);
          unreadable++;
        }
      }
      const usable = originals.filter((o) => o.prepared.prepared.scorable && o.prepared.prepared.totalFlux > 0);
      const asIs = await scorePrepared(generator, usable.map((o) => o.prepared), options.settings, calibration);
      const mags = asIs.map((s) => s.row.mag_vis);
      usable.forEach((o, k) => results.push(resultOf(o.file, asIs[k]!.row, 0, mags[k]!)));
      for (const fps of options.fps) {
        const injected = usable.map((o, k) => {
          const index = injectionDrawIndex(fps, mags[k]!);
          const { pixels } = injectPointSource(o.cutout.pixels, side, o.cutout.psf ?? defaultVisPsf(), o.prepared.prepared.totalFlux, fps, { seed: options.settings.seed, objectId: o.cutout.objectId, index }, MER_VIS_GAIN, options.settings.rmsToSigma);
          return prepareCutout({ ...o.cutout, pixels }, generator.crop, generator, options.settings.rmsToSigma);
        });
        const scored = await scorePrepared(generator, injected, options.settings, calibration);
        usable.forEach((o, k) => results.push(resultOf(o.file, scored[k]!.row, fps, mags[k]!)));
      }
      options.onProgress?.(Math.min(files.length, start + options.batch), files.length);
    }
  } finally {
    await generator.release();
  }
  const cells: InjectionCell[] = [];
  for (const fps of options.fps) cells.push(cell(results, fps, null));
  for (const fps of options.fps) {
    for (let b = 0; b + 1 < options.magEdges.length; b++) cells.push(cell(results, fps, [options.magEdges[b]!, options.magEdges[b + 1]!]));
  }
  const asIs = results.filter((r) => r.fps === 0);
  return { sources: asIs.length, unreadable, selectedAsIs: wilsonInterval(asIs.filter((r) => r.selected).length, asIs.length), cells, results };
}

/**
 * Which observed sources become training stamps (`vis-agn stamps`, docs/model.md "Training on survey
 * stamps"). The rules are the method's: the paper's code drops a cutout that leaves the tile or holds
 * any pixel exactly 0, and a core that cannot be scored (NaN or zero pixels, no noise level) cannot be
 * learned either. The catalogue adds a magnitude range, blending, and cuts on any column.
 */

import type { CutoutSource } from '../cutout/from-files.js';
import { PIXEL_LIMIT } from '../cutout/validate.js';
import type { PreparedSource } from '../detect/prepare.js';
import { UsageError } from '../errors.js';
import { AB_MAG_OF_MICROJANSKY } from '../ground/vis.js';

/** Rejection reasons in the order they are tested; a source counts under the first it fails. */
export const REJECTIONS = ['edge', 'blank', 'core', 'noise', 'magnitude', 'blended', 'excluded'] as const;
export type Rejection = (typeof REJECTIONS)[number];

/** The rules that can be switched off (`--skip-rules`); magnitude and catalogue cuts are set by their options. */
export const SWITCHABLE: readonly Rejection[] = ['edge', 'blank', 'core', 'blended'];

export type CutOperator = '>' | '>=' | '<' | '<=' | '==' | '!=';

/** `--exclude COLUMN>VALUE`: sources whose catalogue value satisfies it are left out. */
export interface ColumnCut {
  readonly column: string;
  readonly op: CutOperator;
  readonly value: number;
}

export function parseCut(text: string): ColumnCut {
  const match = /^\s*([A-Za-z_][\w.-]*)\s*(>=|<=|==|!=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/.exec(text);
  if (match === null) throw new UsageError(`--exclude takes COLUMN OP NUMBER with OP one of > >= < <= == != (e.g. point_like_prob>0.9), got '${text}'`);
  return { column: match[1]!, op: match[2] as CutOperator, value: Number(match[3]) };
}

/** A missing (NaN) value never satisfies a cut: a source is excluded only on the catalogue's word. */
export function satisfies(value: number, cut: ColumnCut): boolean {
  switch (cut.op) {
    case '>':
      return value > cut.value;
    case '>=':
      return value >= cut.value;
    case '<':
      return value < cut.value;
    case '<=':
      return value <= cut.value;
    case '==':
      return value === cut.value;
    case '!=':
      return !Number.isNaN(value) && value !== cut.value;
  }
}

export interface Selection {
  /** I_E AB range, min inclusive, max exclusive. */
  readonly magnitude: readonly [number, number];
  /** Where magnitudes come from: a catalogue magnitude or uJy flux column, else the Kron aperture on the stamp. */
  readonly magnitudeFrom: { readonly kind: 'magnitude' | 'flux'; readonly column: string } | { readonly kind: 'kron' };
  /** Switched-off rules. */
  readonly skip: readonly Rejection[];
  /** Catalogue column whose nonzero value (or any of `bits`) marks a blend; null when the catalogue has none. */
  readonly blend: { readonly column: string; readonly bits: number | null } | null;
  readonly exclude: readonly ColumnCut[];
}

/** The catalogue's values for one source, NaN where missing or without a catalogue. */
export interface CatalogueValues {
  readonly magnitude: number;
  readonly blend: number;
  readonly cuts: readonly number[];
}

export const NO_CATALOGUE_VALUES = (cuts: number): CatalogueValues => ({ magnitude: Number.NaN, blend: Number.NaN, cuts: new Array<number>(cuts).fill(Number.NaN) });

/** AB magnitude of a flux in uJy. */
export const uJyToMag = (flux: number): number => (flux > 0 ? AB_MAG_OF_MICROJANSKY - 2.5 * Math.log10(flux) : Number.NaN);

/** The paper's rule: no pixel of the stamp exactly 0 (tile edges, gaps), none NaN or unphysical. */
function hasBlankPixel(pixels: Float32Array): boolean {
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i]!;
    if (v === 0 || !(Math.abs(v) < PIXEL_LIMIT)) return true;
  }
  return false;
}

/** The source's magnitude under `selection`: the catalogue's, else from the Kron flux of the prepared crop. */
export function magnitudeOf(selection: Selection, values: CatalogueValues, prepared: PreparedSource, magzero: number): number {
  if (selection.magnitudeFrom.kind !== 'kron') return values.magnitude;
  return prepared.totalFlux > 0 ? magzero - 2.5 * Math.log10(prepared.totalFlux) : Number.NaN;
}

/** Why `source` is rejected, or undefined when it is kept. */
export function rejection(selection: Selection, source: CutoutSource, prepared: PreparedSource, values: CatalogueValues): Rejection | undefined {
  const on = (rule: Rejection): boolean => !selection.skip.includes(rule);
  if (on('edge') && (source.flags.includes('off_tile_edge') || source.flags.includes('core_near_edge') || prepared.flags.includes('core_near_edge'))) return 'edge';
  if (on('blank') && hasBlankPixel(source.pixels)) return 'blank';
  if (on('core') && (prepared.flags.includes('nan_pixels_in_core') || prepared.flags.includes('zero_pixels_in_core') || prepared.flags.includes('core_near_edge'))) return 'core';
  if (!(prepared.sigma > 0 && Number.isFinite(prepared.sigma))) return 'noise';
  const mag = magnitudeOf(selection, values, prepared, source.magzero);
  if (!(mag >= selection.magnitude[0] && mag < selection.magnitude[1])) return 'magnitude';
  if (on('blended') && selection.blend !== null) {
    const flag = values.blend;
    const blended = selection.blend.bits === null ? !Number.isNaN(flag) && flag !== 0 : (Number(flag) & selection.blend.bits) !== 0;
    if (blended) return 'blended';
  }
  if (selection.exclude.some((cut, i) => satisfies(values.cuts[i]!, cut))) return 'excluded';
  return undefined;
}

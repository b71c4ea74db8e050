/**
 * One source recomputed exactly as a run computed it (same seed, same object id, same batching rule),
 * with everything a person vetting it wants: every score with its uncertainty, the flags in words, the
 * class with the threshold that decided it, and the inspection panel.
 */

import path from 'node:path';

import type { RunConfig } from '../batch/metadata.js';
import { prepareCutout, scorePrepared, type PreparedCutout } from '../batch/run.js';
import { decodeFlags, FLAGS } from '../ground/flags.js';
import { selectionScore, type CatalogRow } from '../catalog/schema.js';
import { readCutout } from '../cutout/from-files.js';
import { TileReader } from '../cutout/from-tile.js';
import { InvalidInputError } from '../errors.js';
import type { CoreGenerator } from '../model/generator.js';
import { contextWithoutPointSource } from '../detect/joint-fit.js';
import { CORE_SEARCH } from '../detect/prepare.js';
import { significanceCalibration, type DetectionSettings } from '../detect/settings.js';
import { microjanskyPerUnit } from '../ground/vis.js';
import { renderInspectionPanel, type PanelInput } from './panel.js';
import type { Figure } from './figure.js';


export interface Inspection {
  readonly row: CatalogRow;
  readonly lines: readonly string[];
  readonly panel: Figure;
}

function withError(value: number | null, error: number | null, digits = 3): string {
  if (value === null) return 'n/a';
  return error === null ? value.toPrecision(digits) : `${value.toPrecision(digits)} ± ${error.toPrecision(2)}`;
}

/** The decision in words, naming the score and the threshold that made it. */
export function decisionText(row: CatalogRow, config: DetectionSettings): string {
  const t = config.thresholds;
  const { name, z } = selectionScore(row);
  if (z === null) return 'class none: no significance (the core could not be scored)';
  if (row.candidate_class === 'none') return `class none: ${name} ${z.toFixed(2)} <= threshold ${t.z}`;
  const fps = row.f_ps === null ? 'n/a' : row.f_ps.toFixed(2);
  switch (row.candidate_class) {
    case 'point_like':
      return `class point_like (not a candidate): ${name} ${z.toFixed(2)} > ${t.z} and f_ps ${fps} >= ${t.pointLikeFps}`;
    case 'qso':
      return `class qso (candidate): ${name} ${z.toFixed(2)} > ${t.z} and ${t.qsoFps} <= f_ps ${fps} < ${t.pointLikeFps}`;
    default:
      return `class agn (candidate): ${name} ${z.toFixed(2)} > ${t.z} and f_ps ${fps} < ${t.qsoFps}`;
  }
}

export function scoreLines(row: CatalogRow, config: DetectionSettings): string[] {
  const flags = decodeFlags(row.flags);
  const described = flags.map((name) => `${name} (${FLAGS.find((f) => f.name === name)?.description ?? 'unknown bit'})`);
  return [
    `object_id ${row.object_id}   ${path.basename(row.source_file)} [${row.hdu}]   ra ${row.ra?.toFixed(6) ?? 'n/a'}  dec ${row.dec?.toFixed(6) ?? 'n/a'}   mag_vis ${row.mag_vis?.toFixed(2) ?? 'n/a'}`,
    `agn_z ${row.agn_z?.toFixed(2) ?? 'n/a'}  (p ${row.agn_pvalue?.toExponential(2) ?? 'n/a'})   f_ps ${withError(row.f_ps, row.f_ps_err)}   ps_flux ${withError(row.ps_flux_ujy, row.ps_flux_ujy_err)} uJy`,
    `spread_model ${row.spread_model?.toFixed(4) ?? 'n/a'}   morph_z ${row.morph_z?.toFixed(2) ?? 'n/a'}   combined_z ${row.combined_z?.toFixed(2) ?? 'n/a'}`,
    `chi2_core ${row.chi2_core?.toFixed(1) ?? 'n/a'} / ${row.chi2_dof ?? 'n/a'} dof   recon_error ${row.recon_error?.toPrecision(3) ?? 'n/a'}   noise_sigma ${row.noise_sigma?.toPrecision(3) ?? 'n/a'}   samples ${row.n_samples ?? 'n/a'}`,
    decisionText(row, config),
    `flags: ${described.length === 0 ? 'none' : described.join('; ')}`,
  ];
}

const percent = (fraction: number): string => `${(100 * fraction).toFixed(Math.abs(fraction) < 0.1 ? 1 : 0)}%`;

/**
 * The scores in sentences for a person looking at the panel: what agn_z, morph_z, f_ps and chi2/dof
 * mean for this source, and what the class decision rests on.
 */
export function plainSummary(row: CatalogRow, config: DetectionSettings): string[] {
  const t = config.thresholds;
  if (row.agn_z === null) return [`Not scored: the core could not be measured (flags: ${decodeFlags(row.flags).join(', ') || 'none'}).`];
  const z = row.agn_z;
  const p = row.agn_pvalue === null ? '' : ` (a normal galaxy does this with probability ${row.agn_pvalue.toExponential(1)})`;
  const excess =
    z >= 0
      ? `The core is brighter along the PSF than the model's regenerations of a normal galaxy predict: an excess at ${z.toFixed(1)} sigma${p}.`
      : `The core is fainter than the model's regenerations predict (${z.toFixed(1)} sigma): no sign of a point source.`;
  const morphology =
    row.morph_z === null
      ? undefined
      : row.morph_z >= 0
        ? `Its profile is more point-like than normal galaxies of its magnitude at ${row.morph_z.toFixed(1)} sigma (spread_model ${row.spread_model?.toFixed(4) ?? 'n/a'}).`
        : `Its profile is as extended as normal galaxies of its magnitude or more (morph_z ${row.morph_z.toFixed(1)}).`;
  const selection = row.combined_z === null ? 'sigma' : `sigma in the combined score (the more significant of the two tests, or the morphology test alone for faint sources; ${row.combined_z.toFixed(1)} here)`;
  const fps = row.f_ps === null ? undefined : `${percent(row.f_ps)}${row.f_ps_err === null ? '' : ` ± ${percent(row.f_ps_err)}`}`;
  const share = fps === undefined ? 'no point-source fraction could be fitted' : `a point source would carry ${fps} of the light (f_ps)`;
  const decision = {
    none: `Not a candidate: candidates need more than ${t.z} ${selection}; ${share}.`,
    agn: `AGN candidate: above ${t.z} ${selection}, and ${share}, below the ${percent(t.qsoFps)} that makes a QSO.`,
    qso: `QSO candidate: above ${t.z} ${selection}, and ${share}, at least ${percent(t.qsoFps)} (point-like from ${percent(t.pointLikeFps)}).`,
    point_like: `Point-like, not a candidate: ${share}, at least ${percent(t.pointLikeFps)}: a star or a quasar without a visible host.`,
  }[row.candidate_class];
  const sentences = morphology === undefined ? [excess, decision] : [excess, morphology, decision];
  if (row.chi2_core !== null && row.chi2_dof !== null && row.chi2_dof > 0) {
    const ratio = row.chi2_core / row.chi2_dof;
    const stat = `chi2/dof ${ratio.toFixed(1)} over ${row.chi2_dof} core pixels`;
    sentences.push(
      ratio < 2
        ? `Pixel by pixel, the core agrees with the regenerations within the noise and their spread (${stat}).`
        : `Pixel by pixel, the core differs from the regenerations ${ratio.toFixed(ratio < 10 ? 1 : 0)}x more than the noise and their spread allow (${stat}).`,
    );
  }
  const flags = decodeFlags(row.flags);
  if (flags.length > 0) sentences.push(`Flags: ${flags.map((name) => `${name} (${FLAGS.find((f) => f.name === name)?.description ?? 'unknown bit'})`).join('; ')}.`);
  return sentences;
}

/** A cutout read and prepared as a run reads it. */
export function prepareForInspection(file: string, generator: CoreGenerator, config: DetectionSettings): PreparedCutout {
  const cutout = readCutout(file, { hduNames: config.hduNames, side: generator.crop + CORE_SEARCH - 1 });
  return prepareCutout(cutout, generator.crop, generator, config.rmsToSigma);
}

/**
 * A catalogue row's source read again as its run read it: cut from its tile at the row's position in
 * a tile run, else read from its cutout file.
 */
export function prepareRowForInspection(row: CatalogRow, generator: CoreGenerator, config: RunConfig): PreparedCutout {
  const tile = config.tiles?.find((t) => t.tile === row.source_file);
  if (tile === undefined) return prepareForInspection(row.source_file, generator, config);
  if (row.ra === null || row.dec === null) throw new InvalidInputError(`object ${row.object_id} has no position to cut it from the tile at`, { file: tile.tile });
  const reader = TileReader.open(tile, config.hduNames);
  try {
    const [cutout] = reader.cut({ ids: [row.object_id], ra: Float64Array.of(row.ra), dec: Float64Array.of(row.dec) }, generator.crop + CORE_SEARCH - 1);
    return prepareCutout(cutout!, generator.crop, generator, config.rmsToSigma);
  } finally {
    reader.close();
  }
}

export interface InspectedSource {
  readonly row: CatalogRow;
  readonly lines: readonly string[];
  /** What renderInspectionPanel and renderThumbnail draw. */
  readonly view: PanelInput;
}

/** Scores prepared cutouts in one batch (results do not depend on the batch) and gathers what their figures show. */
export async function inspectPrepared(generator: CoreGenerator, group: readonly PreparedCutout[], config: DetectionSettings): Promise<InspectedSource[]> {
  const scored = await scorePrepared(generator, group, config, significanceCalibration(generator.loaded));
  return scored.map(({ row, scores }, k) => {
    const { cutout, prepared } = group[k]!;
    const lines = scoreLines(row, config);
    // Under the joint fit the host was regenerated from the crop less the point source it fitted: the panel shows that input.
    const pointSource = scores?.pointSource;
    const view: PanelInput = {
      title: `${cutout.objectId}  ${path.basename(cutout.sourceFile)}`,
      crop: prepared.crop,
      ...(pointSource !== undefined && pointSource.amplitude > 0 ? { modelInput: contextWithoutPointSource(prepared.crop, generator.crop, prepared.psf, pointSource) } : {}),
      side: generator.crop,
      mask: generator.mask,
      samples: scores?.samples ?? new Float32Array(0),
      sampleCount: scores === undefined ? 0 : config.samples,
      psfWeights: prepared.psfWeights,
      psFlux: scores?.psFlux ?? 0,
      noiseSigma: prepared.sigma,
      uJyPerUnit: microjanskyPerUnit(cutout.magzero),
      summary: plainSummary(row, config),
      lines,
    };
    return { row, lines, view };
  });
}

export async function inspectCutout(file: string, generator: CoreGenerator, config: DetectionSettings): Promise<Inspection> {
  const [{ row, lines, view }] = (await inspectPrepared(generator, [prepareForInspection(file, generator, config)], config)) as [InspectedSource];
  return { row, lines, panel: renderInspectionPanel(view) };
}

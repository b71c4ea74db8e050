/**
 * Completeness and false positives of a catalogue against simulation truth, joined by object_id:
 * how often normal galaxies are selected, how completely AGN and QSOs are found as a function of
 * their point-source fraction f_PS and magnitude (by the run's own selection and at fixed
 * false-positive rates), and how well f_PS is estimated.
 *
 * A null score (inference failed) counts as not selected; in score-based measures (thresholds, AUC)
 * it ranks below every real score, so such an object is never selected at any threshold.
 */

import { selectionScore, type CatalogRow } from '../catalog/schema.js';
import { InvalidInputError, UsageError } from '../errors.js';
import { upperTailPValue } from '../detect/core-scores.js';
import { bigintColumn, numberColumn, readTableColumns, resolveColumn, type TableOptions } from '../ground/table.js';
import {
  binOf,
  checkEdges,
  DEFAULT_CONFIDENCE,
  DEFAULT_MAG_EDGES,
  errorSummary,
  formatProportion,
  markdownRow,
  markdownRule,
  moments,
  percent,
  rocAuc,
  thresholdAtFpr,
  wilsonInterval,
  type Confidence,
  type ErrorSummary,
  type Moments,
  type Proportion,
} from './stats.js';

/** The classes of src/sim/truth.ts. */
export const TRUTH_CLASSES = ['galaxy', 'agn', 'qso', 'star'] as const;
export type TruthClass = (typeof TRUTH_CLASSES)[number];

/** One catalogue row as the evaluation sees it. */
export interface ScoredObject {
  readonly objectId: bigint;
  /** The selection score: combined_z, or agn_z where the catalogue has none; null where inference failed. */
  readonly score: number | null;
  /** is_candidate. */
  readonly selected: boolean;
  /** f_ps as estimated. */
  readonly fpsEstimate: number | null;
  readonly flags: number;
}

/** A catalogue row as the evaluation sees it. */
export function scoredObject(row: Pick<CatalogRow, 'object_id' | 'agn_z' | 'combined_z' | 'is_candidate' | 'f_ps' | 'flags'>): ScoredObject {
  return { objectId: row.object_id, score: selectionScore(row).z, selected: row.is_candidate, fpsEstimate: row.f_ps, flags: row.flags };
}

export interface TruthObject {
  readonly objectId: bigint;
  readonly cls: TruthClass;
  /** True point-source fraction: 0 for galaxies, 1 for stars. */
  readonly fps: number;
  /** Total magnitude (host plus point source); NaN when unknown. */
  readonly mag: number;
}

/** f_PS bin edges of the report: fine where detection turns on (a few per cent), coarse above. */
export const DEFAULT_FPS_EDGES: readonly number[] = [0.01, 0.03, 0.07, 0.15, 0.25, 0.4, 0.6, 1.0001];
export const DEFAULT_FPRS: readonly number[] = [0.01];

export interface TruthOptions {
  /**
   * Edges of the half-open bins [lo, hi) of true f_PS for AGN and QSOs, or 'exact': one bin per
   * distinct value, for grid simulations whose f_PS take few values.
   */
  readonly fpsBins?: readonly number[] | 'exact';
  /** False-positive rates on normal galaxies at which to report completeness. */
  readonly fprs?: readonly number[];
  /** Edges of the magnitude bins. */
  readonly magBins?: readonly number[];
  /** Magnitude bins count AGN and QSOs from this true f_PS up. */
  readonly magMinFps?: number;
  /** The galaxies' score tail P(score > scoreCut) is reported beside a Gaussian's. */
  readonly scoreCut?: number;
  readonly confidence?: Confidence;
}

export interface FprCompleteness {
  readonly fpr: number;
  /** Score above which objects count as selected; null without galaxies to set it (or below every score). */
  readonly threshold: number | null;
  /** null when there is no threshold. */
  readonly completeness: Proportion | null;
}

export interface FpsBinReport {
  /** [lo, hi); lo = hi for an exact-value bin. */
  readonly lo: number;
  readonly hi: number;
  readonly n: number;
  readonly nullScores: number;
  /** Fraction selected by the run (is_candidate). */
  readonly completeness: Proportion;
  readonly atFpr: readonly FprCompleteness[];
  /** ROC AUC of the bin's scores against the normal galaxies'. */
  readonly auc: number | null;
  readonly fpsEstimate: ErrorSummary;
}

export interface MagBinReport {
  readonly lo: number;
  readonly hi: number;
  readonly n: number;
  readonly completeness: Proportion;
  readonly atFpr: readonly FprCompleteness[];
}

export interface TruthReport {
  /** Coverage of every interval in the report. */
  readonly confidence: Confidence;
  readonly objects: {
    readonly truth: number;
    readonly catalogue: number;
    readonly joined: number;
    /** Truth objects the catalogue has no row for (counted nowhere else). */
    readonly missingFromCatalogue: number;
    /** Catalogue rows with an object_id the truth lacks. */
    readonly notInTruth: number;
    /** Joined rows without a score. */
    readonly nullScores: number;
  };
  readonly galaxies: {
    readonly n: number;
    readonly nullScores: number;
    /** Rows with any quality flag set. */
    readonly flagged: number;
    /** The selection's false-positive rate. */
    readonly selected: Proportion;
    readonly scoreCut: number;
    /** Fraction of scored galaxies with score > scoreCut ... */
    readonly aboveCut: Proportion;
    /** ... and what a calibrated Gaussian z-score would give. */
    readonly gaussianAboveCut: number;
    readonly score: Moments;
  };
  readonly stars: { readonly n: number; readonly nullScores: number; readonly selected: Proportion };
  /** Score thresholds set on the normal galaxies, with the false-positive rate they really give there. */
  readonly thresholds: readonly { readonly fpr: number; readonly threshold: number | null; readonly galaxiesAbove: Proportion }[];
  readonly purity: {
    readonly selected: number;
    readonly agnQso: number;
    readonly galaxies: number;
    readonly stars: number;
    /** Selected AGN+QSO over everything selected. */
    readonly all: Proportion;
    /** The same without the stars, which a host-galaxy model is not meant to tell from QSOs. */
    readonly withoutStars: Proportion;
  };
  readonly fpsBins: {
    readonly binning: 'edges' | 'exact';
    readonly bins: readonly FpsBinReport[];
    /** AGN and QSOs whose true f_PS lies outside every bin. */
    readonly outside: number;
  };
  /** Estimated against true f_PS over galaxies, AGN and QSOs with an estimate. */
  readonly fpsEstimate: ErrorSummary;
  readonly magBins: { readonly minFps: number; readonly bins: readonly MagBinReport[]; readonly outside: number };
}

interface Joined {
  readonly truth: TruthObject;
  readonly scored: ScoredObject;
  /** The score with a missing one below every real one. */
  readonly rank: number;
  /** Selected by the run: is_candidate with a score. */
  readonly hit: boolean;
}

function joinById(scored: readonly ScoredObject[], truth: readonly TruthObject[]): { joined: Joined[]; notInTruth: number } {
  const byId = new Map<bigint, TruthObject>();
  for (const object of truth) {
    if (byId.has(object.objectId)) throw new InvalidInputError(`object_id ${object.objectId} appears more than once in the truth table`);
    byId.set(object.objectId, object);
  }
  const seen = new Set<bigint>();
  const joined: Joined[] = [];
  for (const row of scored) {
    if (seen.has(row.objectId)) throw new InvalidInputError(`object_id ${row.objectId} appears more than once in the catalogue`);
    seen.add(row.objectId);
    const match = byId.get(row.objectId);
    if (match === undefined) continue;
    joined.push({ truth: match, scored: row, rank: row.score ?? -Infinity, hit: row.selected && row.score !== null });
  }
  return { joined, notInTruth: scored.length - joined.length };
}

const count = (rows: readonly Joined[], keep: (row: Joined) => boolean) => rows.reduce((n, row) => n + (keep(row) ? 1 : 0), 0);
const nullScores = (rows: readonly Joined[]) => count(rows, (row) => row.scored.score === null);
const fpsPairs = (rows: readonly Joined[]) => rows.flatMap((row) => (row.scored.fpsEstimate === null ? [] : [[row.scored.fpsEstimate, row.truth.fps] as const]));

/** Groups `rows` into the bins of `edges` by `value`; gives the groups and how many fell outside. */
function binRows(rows: readonly Joined[], edges: readonly number[], value: (row: Joined) => number): { groups: Joined[][]; outside: number } {
  const groups: Joined[][] = edges.slice(1).map(() => []);
  let outside = 0;
  for (const row of rows) {
    const bin = binOf(edges, value(row));
    if (bin < 0) outside++;
    else groups[bin]!.push(row);
  }
  return { groups, outside };
}

/** One group per distinct true f_PS, ascending; a missing (NaN) f_PS falls outside. */
function exactGroups(rows: readonly Joined[]): { groups: Joined[][]; outside: number } {
  const groups = new Map<number, Joined[]>();
  for (const row of rows) {
    if (!Number.isFinite(row.truth.fps)) continue;
    const group = groups.get(row.truth.fps);
    if (group === undefined) groups.set(row.truth.fps, [row]);
    else group.push(row);
  }
  return { groups: [...groups.keys()].sort((a, b) => a - b).map((fps) => groups.get(fps)!), outside: count(rows, (row) => !Number.isFinite(row.truth.fps)) };
}

function checkOptions(options: TruthOptions): void {
  if (options.fpsBins !== 'exact') checkEdges(options.fpsBins ?? DEFAULT_FPS_EDGES, 'the f_PS bin edges');
  checkEdges(options.magBins ?? DEFAULT_MAG_EDGES, 'the magnitude bin edges');
  for (const fpr of options.fprs ?? DEFAULT_FPRS) {
    if (!(fpr > 0 && fpr < 1)) throw new UsageError(`a false-positive rate must be in (0, 1), got ${fpr}`);
  }
}

/** Compares a scored catalogue with the truth of the simulation it was run on. */
export function evaluateAgainstTruth(scored: readonly ScoredObject[], truth: readonly TruthObject[], options: TruthOptions = {}): TruthReport {
  checkOptions(options);
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  const interval = (k: number, n: number) => wilsonInterval(k, n, confidence);
  const fraction = (rows: readonly Joined[], keep: (row: Joined) => boolean) => interval(count(rows, keep), rows.length);
  const { joined, notInTruth } = joinById(scored, truth);

  const of = (...classes: TruthClass[]) => joined.filter((row) => classes.includes(row.truth.cls));
  const galaxies = of('galaxy');
  const stars = of('star');
  const agnQso = of('agn', 'qso');

  const galaxyRanks = galaxies.map((row) => row.rank);
  // `cut` is the threshold as applied, -Infinity when unscored galaxies fill the allowed rate; the
  // report shows that as null, which JSON can hold.
  const thresholds = (options.fprs ?? DEFAULT_FPRS).map((fpr) => {
    const cut = thresholdAtFpr(galaxyRanks, fpr);
    return { fpr, threshold: cut !== null && Number.isFinite(cut) ? cut : null, cut };
  });
  const atFpr = (rows: readonly Joined[]): FprCompleteness[] =>
    thresholds.map(({ fpr, threshold, cut }) => ({ fpr, threshold, completeness: cut === null ? null : fraction(rows, (row) => row.rank > cut) }));

  const scoreCut = options.scoreCut ?? 3;
  const scoredGalaxies = galaxies.filter((row) => row.scored.score !== null);

  const fpsBinning = options.fpsBins ?? DEFAULT_FPS_EDGES;
  const exact = fpsBinning === 'exact';
  const fpsEdges = exact ? [] : fpsBinning;
  const fpsGroups = exact ? exactGroups(agnQso) : binRows(agnQso, fpsEdges, (row) => row.truth.fps);
  const fpsBins = fpsGroups.groups.map((rows, i): FpsBinReport => ({
    lo: exact ? rows[0]!.truth.fps : fpsEdges[i]!,
    hi: exact ? rows[0]!.truth.fps : fpsEdges[i + 1]!,
    n: rows.length,
    nullScores: nullScores(rows),
    completeness: fraction(rows, (row) => row.hit),
    atFpr: atFpr(rows),
    auc: rocAuc(
      rows.map((row) => row.rank),
      galaxyRanks,
    ),
    fpsEstimate: errorSummary(fpsPairs(rows)),
  }));

  const magMinFps = options.magMinFps ?? 0.2;
  const magEdges = options.magBins ?? DEFAULT_MAG_EDGES;
  const magGroups = binRows(
    agnQso.filter((row) => row.truth.fps >= magMinFps),
    magEdges,
    (row) => row.truth.mag,
  );

  const selected = joined.filter((row) => row.hit);
  const selectedOf = (...classes: TruthClass[]) => count(selected, (row) => classes.includes(row.truth.cls));
  const selectedAgnQso = selectedOf('agn', 'qso');
  const selectedStars = selectedOf('star');

  return {
    confidence,
    objects: {
      truth: truth.length,
      catalogue: scored.length,
      joined: joined.length,
      missingFromCatalogue: truth.length - joined.length,
      notInTruth,
      nullScores: nullScores(joined),
    },
    galaxies: {
      n: galaxies.length,
      nullScores: nullScores(galaxies),
      flagged: count(galaxies, (row) => row.scored.flags !== 0),
      selected: fraction(galaxies, (row) => row.hit),
      scoreCut,
      aboveCut: fraction(scoredGalaxies, (row) => row.rank > scoreCut),
      gaussianAboveCut: upperTailPValue(scoreCut),
      score: moments(scoredGalaxies.map((row) => row.rank)),
    },
    stars: { n: stars.length, nullScores: nullScores(stars), selected: fraction(stars, (row) => row.hit) },
    thresholds: thresholds.map(({ fpr, threshold, cut }) => ({ fpr, threshold, galaxiesAbove: fraction(galaxies, (row) => cut !== null && row.rank > cut) })),
    purity: {
      selected: selected.length,
      agnQso: selectedAgnQso,
      galaxies: selectedOf('galaxy'),
      stars: selectedStars,
      all: interval(selectedAgnQso, selected.length),
      withoutStars: interval(selectedAgnQso, selected.length - selectedStars),
    },
    fpsBins: { binning: exact ? 'exact' : 'edges', bins: fpsBins, outside: fpsGroups.outside },
    fpsEstimate: errorSummary(fpsPairs(joined.filter((row) => row.truth.cls !== 'star'))),
    magBins: {
      minFps: magMinFps,
      bins: magGroups.groups.map((rows, i) => ({ lo: magEdges[i]!, hi: magEdges[i + 1]!, n: rows.length, completeness: fraction(rows, (row) => row.hit), atFpr: atFpr(rows) })),
      outside: magGroups.outside,
    },
  };
}

/**
 * evaluateAgainstTruth for a catalogue file and a truth file: a truth table that shares no object_id
 * with a non-empty catalogue is the wrong file (or catalogue), not a catalogue that found nothing.
 */
export function evaluateCatalogAgainstTruth(scored: readonly ScoredObject[], truth: readonly TruthObject[], options: TruthOptions, files: { readonly catalog: string; readonly truth: string }): TruthReport {
  const report = evaluateAgainstTruth(scored, truth, options);
  if (report.objects.joined === 0 && scored.length > 0 && truth.length > 0) {
    throw new InvalidInputError(`no catalogue object_id appears in the truth table ${files.truth}`, { file: files.catalog });
  }
  return report;
}

const TRUTH_ROLES = {
  objectId: { what: 'object id', names: ['object_id'] },
  cls: { what: 'class', names: ['class'] },
  fps: { what: 'f_PS', names: ['f_ps'] },
  mag: { what: 'total magnitude', names: ['mag_total', 'mag'] },
} as const;

/** Reads a truth table (src/sim/truth.ts writes them as Arrow; any format readTableColumns reads will do). */
export async function readTruthTable(path: string, options: TableOptions = {}): Promise<TruthObject[]> {
  const { location, names, columns } = await readTableColumns(
    path,
    (available, at) => ({
      objectId: resolveColumn(available, TRUTH_ROLES.objectId, undefined, true, at),
      cls: resolveColumn(available, TRUTH_ROLES.cls, undefined, true, at),
      fps: resolveColumn(available, TRUTH_ROLES.fps, undefined, true, at),
      mag: resolveColumn(available, TRUTH_ROLES.mag, undefined, true, at),
    }),
    options,
  );
  const ids = bigintColumn(columns.objectId!, names.objectId!, location);
  const fps = numberColumn(columns.fps!, names.fps!, location);
  const mag = numberColumn(columns.mag!, names.mag!, location);
  return columns.cls!.map((cell, row): TruthObject => {
    const cls = typeof cell === 'string' ? cell.trim().toLowerCase() : cell;
    if (!TRUTH_CLASSES.includes(cls as TruthClass)) {
      throw new InvalidInputError(`column ${names.cls} row ${row + 1}: ${JSON.stringify(cell)} is not one of ${TRUTH_CLASSES.join(', ')}`, location);
    }
    return { objectId: ids[row]!, cls: cls as TruthClass, fps: fps[row]!, mag: mag[row]! };
  });
}

const fixed = (x: number | null, digits = 3) => (x === null ? '–' : x.toFixed(digits));
export const fprLabel = (fpr: number) => `${+(100 * fpr).toPrecision(6)}%`;

/** The report as Markdown: a summary, then tables by f_PS and by magnitude. */
export function formatTruthReport(report: TruthReport): string {
  const { objects, galaxies, stars, purity } = report;
  const level = `${Math.round(report.confidence * 100)}%`;
  const fprColumns = report.thresholds.map(({ fpr }) => `at FPR ${fprLabel(fpr)}`);
  const atFprCells = (cells: readonly FprCompleteness[]) => cells.map((cell) => (cell.completeness === null ? '–' : formatProportion(cell.completeness)));
  const binLabel = (lo: number, hi: number) => (lo === hi ? `${lo}` : `${lo}–${hi}`);

  const lines = [
    `${objects.joined} objects joined by object_id (truth ${objects.truth}, catalogue ${objects.catalogue}; ${objects.missingFromCatalogue} truth objects missing from the catalogue, ${objects.notInTruth} catalogue rows not in the truth; ${objects.nullScores} without a score, counted as not selected). Intervals: Wilson ${level}.`,
    '',
    markdownRow(['population', 'n', 'selected (is_candidate)', 'no score']),
    markdownRule(4),
    markdownRow(['normal galaxies (false positives)', String(galaxies.n), formatProportion(galaxies.selected), String(galaxies.nullScores)]),
    markdownRow(['stars', String(stars.n), formatProportion(stars.selected), String(stars.nullScores)]),
    '',
    `Normal galaxies: selection z (combined_z, else agn_z) mean ${fixed(galaxies.score.mean)}, sd ${fixed(galaxies.score.sd)}; P(z > ${galaxies.scoreCut}) = ${formatProportion(galaxies.aboveCut)} (Gaussian: ${percent(galaxies.gaussianAboveCut, 2)}); ${galaxies.flagged} flagged.`,
    ...report.thresholds.map(
      ({ fpr, threshold, galaxiesAbove }) => `Threshold for FPR ${fprLabel(fpr)}: z > ${fixed(threshold)} (galaxies above: ${formatProportion(galaxiesAbove)}).`,
    ),
    `Purity of the selection: ${formatProportion(purity.all)} AGN/QSO of ${purity.selected} selected (${purity.galaxies} galaxies, ${purity.stars} stars); without stars ${formatProportion(purity.withoutStars)}.`,
    `f_PS estimate over galaxies, AGN and QSOs: n ${report.fpsEstimate.n}, bias ${fixed(report.fpsEstimate.bias)}, RMSE ${fixed(report.fpsEstimate.rmse)}.`,
    '',
    markdownRow(['true f_PS (AGN+QSO)', 'n', 'completeness (is_candidate)', ...fprColumns, 'AUC vs galaxies', 'f_PS bias', 'f_PS RMSE']),
    markdownRule(6 + fprColumns.length),
    ...report.fpsBins.bins.map((bin) =>
      markdownRow([
        binLabel(bin.lo, bin.hi),
        String(bin.n),
        formatProportion(bin.completeness),
        ...atFprCells(bin.atFpr),
        fixed(bin.auc),
        fixed(bin.fpsEstimate.bias),
        fixed(bin.fpsEstimate.rmse),
      ]),
    ),
    ...(report.fpsBins.outside > 0 ? ['', `${report.fpsBins.outside} AGN/QSO outside the f_PS bins.`] : []),
    '',
    markdownRow([`I_E (f_PS ≥ ${report.magBins.minFps})`, 'n', 'completeness (is_candidate)', ...fprColumns]),
    markdownRule(3 + fprColumns.length),
    ...report.magBins.bins.map((bin) => markdownRow([binLabel(bin.lo, bin.hi), String(bin.n), formatProportion(bin.completeness), ...atFprCells(bin.atFpr)])),
  ];
  return lines.join('\n');
}

/**
 * The figures of `vis-agn report` (and of `completeness --plot`), as charts for renderChart: the
 * catalogue's selection score (combined_z, else agn_z) distribution against the N(0, 1) a calibrated significance gives for normal
 * galaxies, f_ps against magnitude by class, and, against simulation truth, completeness by true
 * f_PS and by magnitude with Wilson intervals.
 */

import { selectionScore, type CatalogRow } from '../catalog/schema.js';
import type { Proportion } from '../completeness/stats.js';
import type { ReferenceReport } from '../completeness/reference-completeness.js';
import { fprLabel, type FprCompleteness, type TruthReport } from '../completeness/truth.js';
import type { CandidateClass, Thresholds } from '../detect/detect.js';
import { upperTailPValue } from '../detect/core-scores.js';
import type { Chart, ChartPoint, ChartSeries } from './charts.js';

export interface ReportPlot {
  /** File name under plots/, without the .svg and .png. */
  readonly name: string;
  readonly title: string;
  readonly caption: string;
  readonly chart: Chart;
}

const CLASS_COLORS: Readonly<Record<CandidateClass, string>> = {
  none: '#aaaaaa',
  point_like: '#009E73',
  agn: '#D55E00',
  qso: '#0072B2',
};

/** Half-unit bins, at most about 100 of them, covering every score. */
function zBins(scores: readonly number[]): { lo: number; width: number; counts: number[] } {
  const lo = Math.floor(Math.min(...scores) * 2) / 2;
  const hi = Math.max(lo + 0.5, Math.ceil(Math.max(...scores) * 2) / 2);
  const width = 0.5 * Math.max(1, Math.ceil((hi - lo) / 50));
  const counts = new Array<number>(Math.max(1, Math.ceil((hi - lo) / width))).fill(0);
  for (const z of scores) counts[Math.min(counts.length - 1, Math.floor((z - lo) / width))]!++;
  return { lo, width, counts };
}

export function selectionZPlot(rows: readonly CatalogRow[], thresholds: Thresholds): ReportPlot | undefined {
  const scores = rows.flatMap((row) => {
    const { z } = selectionScore(row);
    return z === null ? [] : [z];
  });
  if (scores.length === 0) return undefined;
  const name = rows.some((row) => row.combined_z !== null) ? 'combined_z' : 'agn_z';
  const { lo, width, counts } = zBins(scores);
  const centre = (i: number) => lo + (i + 0.5) * width;
  const expected = counts.map((_, i): ChartPoint => ({ x: centre(i), y: scores.length * (upperTailPValue(lo + i * width) - upperTailPValue(lo + (i + 1) * width)) }));
  return {
    name: 'selection-z',
    title: `${name} distribution`,
    caption: `${scores.length} scored rows in bins of ${width}; the dashed curve is N(0, 1) for the same number of rows, what a calibrated significance gives on galaxies without a point source. Rows right of the threshold are the candidates.`,
    chart: {
      title: `${name} of ${scores.length} scored rows`,
      subtitle: 'bars: the catalogue; dashed: N(0, 1), what normal galaxies give',
      xTitle: `${name} (${name === 'agn_z' ? 'significance of the core excess' : 'the more significant of the core excess and the morphology'}, sigma)`,
      yTitle: 'rows per bin',
      bars: { bins: counts.map((count, i) => ({ lo: lo + i * width, hi: lo + (i + 1) * width, count })) },
      series: [{ label: 'N(0, 1) for the same number of rows', points: expected, dashed: true, lineOnly: true, color: '#333333' }],
      references: [{ axis: 'x', value: thresholds.z, label: `candidates: ${name} > ${thresholds.z}` }],
    },
  };
}

const FPS_RANGE: readonly [number, number] = [-0.4, 1.2];

export function fpsMagPlot(rows: readonly CatalogRow[], thresholds: Thresholds): ReportPlot | undefined {
  const usable = rows.filter((row) => row.f_ps !== null && row.mag_vis !== null);
  if (usable.length === 0) return undefined;
  const outside = usable.filter((row) => row.f_ps! < FPS_RANGE[0] || row.f_ps! > FPS_RANGE[1]).length;
  // Candidates last, so they are drawn over the rest.
  const classes: readonly CandidateClass[] = ['none', 'point_like', 'agn', 'qso'];
  const series = classes.flatMap((cls) => {
    const members = usable.filter((row) => row.candidate_class === cls);
    const bars = cls === 'agn' || cls === 'qso';
    const points = members.map((row): ChartPoint => {
      const fps = row.f_ps!;
      const err = row.f_ps_err;
      return bars && err !== null ? { x: row.mag_vis!, y: fps, lower: fps - err, upper: fps + err } : { x: row.mag_vis!, y: fps };
    });
    return members.length === 0 ? [] : [{ label: `${cls} (${members.length})`, points, markersOnly: true, color: CLASS_COLORS[cls] }];
  });
  return {
    name: 'fps-mag',
    title: 'f_ps against magnitude',
    caption: `${usable.length} rows with f_ps and mag_vis, by class; candidates with their f_ps uncertainty. Dashed: the qso and point_like f_ps thresholds.${outside > 0 ? ` ${outside} row${outside === 1 ? '' : 's'} with f_ps outside [${FPS_RANGE.join(', ')}] are off the plot.` : ''}`,
    chart: {
      title: 'f_ps against mag_vis, by class',
      subtitle: 'candidates (agn, qso) with their f_ps uncertainty',
      xTitle: 'mag_vis [AB]',
      yTitle: 'f_ps (point-source fraction)',
      yDomain: FPS_RANGE,
      series,
      references: [
        { axis: 'y', value: thresholds.qsoFps, label: `qso from f_ps ${thresholds.qsoFps}` },
        { axis: 'y', value: thresholds.pointLikeFps, label: `point_like from f_ps ${thresholds.pointLikeFps}` },
      ],
    },
  };
}

export const proportionPoint = (x: number, p: Proportion | null): ChartPoint => (p === null || p.value === null ? { x, y: null } : { x, y: p.value, lower: p.lower, upper: p.upper });

interface CompletenessBin {
  readonly lo: number;
  readonly hi: number;
  readonly completeness: Proportion;
  readonly atFpr: readonly FprCompleteness[];
}

/** Completeness of the run's selection, and at the report's first fixed false-positive rate, per bin. */
function completenessSeries(bins: readonly CompletenessBin[], fpr: number | undefined): ChartSeries[] {
  const at = (bin: CompletenessBin) => (bin.lo + bin.hi) / 2;
  const selection: ChartSeries = { label: 'selection (is_candidate)', points: bins.map((b) => proportionPoint(at(b), b.completeness)) };
  if (fpr === undefined) return [selection];
  return [selection, { label: `at FPR ${fprLabel(fpr)}`, dashed: true, points: bins.map((b) => proportionPoint(at(b), b.atFpr[0]?.completeness ?? null)) }];
}

export function truthPlots(report: TruthReport): ReportPlot[] {
  const level = `${Math.round(report.confidence * 100)}%`;
  const fpr = report.thresholds[0]?.fpr;
  const falsePositives = report.galaxies.selected.value;
  return [
    {
      name: 'completeness-fps',
      title: 'completeness against true f_PS',
      caption: `AGN and QSOs of the truth table by true f_PS (bin centres), Wilson ${level} intervals; dashed line: the selection's false-positive rate on ${report.galaxies.n} normal galaxies.`,
      chart: {
        title: 'completeness against true f_PS',
        subtitle: `AGN and QSOs of the truth table; bars: Wilson ${level} intervals`,
        xTitle: 'true f_PS',
        yTitle: 'completeness',
        yDomain: [0, 1],
        series: completenessSeries(report.fpsBins.bins, fpr),
        references: falsePositives === null ? [] : [{ axis: 'y', value: falsePositives, label: `false-positive rate ${(100 * falsePositives).toFixed(1)}%` }],
      },
    },
    {
      name: 'completeness-mag',
      title: 'completeness against magnitude',
      caption: `AGN and QSOs with true f_PS ≥ ${report.magBins.minFps} by total magnitude (bin centres), Wilson ${level} intervals.`,
      chart: {
        title: `completeness against I_E (true f_PS ≥ ${report.magBins.minFps})`,
        subtitle: `AGN and QSOs of the truth table; bars: Wilson ${level} intervals`,
        xTitle: 'true I_E [AB]',
        yTitle: 'completeness',
        yDomain: [0, 1],
        series: completenessSeries(report.magBins.bins, fpr),
      },
    },
  ];
}

/** Completeness against a reference catalogue by its magnitudes; undefined when it has none. */
export function referencePlot(report: ReferenceReport): ReportPlot | undefined {
  const bins = report.magBins?.bins.filter((bin) => bin.references > 0) ?? [];
  if (report.magBins === null || bins.length === 0) return undefined;
  const level = `${Math.round(report.confidence * 100)}%`;
  const at = (bin: { lo: number; hi: number }) => (bin.lo + bin.hi) / 2;
  return {
    name: 'completeness-mag',
    title: 'completeness against the reference magnitude',
    caption: `${report.totals.references} reference sources matched within ${report.radiusArcsec}" by ${report.magBins.column ?? 'magnitude'} (bin centres), Wilson ${level} intervals.`,
    chart: {
      title: 'completeness against the reference catalogue',
      subtitle: `${report.totals.references} references, matched within ${report.radiusArcsec}"; bars: Wilson ${level} intervals`,
      xTitle: `${report.magBins.column ?? 'magnitude'} (reference)`,
      yTitle: 'completeness',
      yDomain: [0, 1],
      series: [
        { label: 'selected, of all references', points: bins.map((b) => proportionPoint(at(b), b.completeness)) },
        { label: 'selected, of those matched', dashed: true, points: bins.map((b) => proportionPoint(at(b), b.completenessOfMatched)) },
      ],
    },
  };
}

/**
 * Completeness against a list of known AGN/QSOs on the sky: each reference is matched to the nearest
 * catalogue source within a radius and counts as recovered when that source is a candidate. Two
 * completenesses answer different questions: over all references (what a user of the catalogue gets)
 * and over the matched ones (how well the selection does on what was imaged and measured).
 */

import type { CatalogRow } from '../catalog/schema.js';
import { crossMatch, DEFAULT_MATCH_RADIUS_ARCSEC } from './match.js';
import type { PositionTable } from '../ground/table.js';
import {
  binOf,
  checkEdges,
  DEFAULT_CONFIDENCE,
  DEFAULT_MAG_EDGES,
  formatProportion,
  markdownRow,
  markdownRule,
  wilsonInterval,
  type Confidence,
  type Proportion,
} from './stats.js';

/** The catalogue columns the match needs. */
export type MatchableRow = Pick<CatalogRow, 'object_id' | 'ra' | 'dec' | 'is_candidate'>;

/** The reference columns the match needs, as readPositionTable gives them. */
export interface ReferenceSources {
  readonly ra: ArrayLike<number>;
  readonly dec: ArrayLike<number>;
  readonly mag: ArrayLike<number> | null;
  readonly id: readonly (string | null)[] | null;
  /** The magnitude column's name, for the report. */
  readonly columns?: PositionTable['columns'];
}

export interface ReferenceCompletenessOptions {
  readonly radiusArcsec?: number;
  /** Edges of the magnitude bins, over the reference magnitudes. */
  readonly magBins?: readonly number[];
  readonly confidence?: Confidence;
}

export interface ReferenceSourceResult {
  /** Row of the reference table, 0-based. */
  readonly index: number;
  readonly id: string | null;
  readonly ra: number;
  readonly dec: number;
  readonly mag: number | null;
  /** object_id of the matched catalogue source, as text (int64 does not fit a JSON number). */
  readonly objectId: string | null;
  readonly separationArcsec: number | null;
  readonly recovered: boolean;
}

export interface CompletenessCounts {
  readonly references: number;
  readonly matched: number;
  readonly recovered: number;
  /** recovered / references. */
  readonly completeness: Proportion;
  /** recovered / matched. */
  readonly completenessOfMatched: Proportion;
}

export interface ReferenceReport {
  readonly confidence: Confidence;
  readonly radiusArcsec: number;
  readonly totals: CompletenessCounts & { readonly matchedFraction: Proportion };
  readonly catalogue: {
    readonly rows: number;
    /** Rows without RA/Dec, which no reference can match. */
    readonly withoutPosition: number;
    readonly candidates: number;
    /** Fraction of the catalogue selected: with the completeness, what the selection costs. */
    readonly selected: Proportion;
  };
  /** Null when the reference has no magnitudes. */
  readonly magBins: {
    readonly column: string | null;
    readonly bins: readonly (CompletenessCounts & { readonly lo: number; readonly hi: number })[];
    /** References with no magnitude or one outside the bins. */
    readonly outside: number;
  } | null;
  readonly sources: readonly ReferenceSourceResult[];
}

function counts(sources: readonly ReferenceSourceResult[], confidence: Confidence): CompletenessCounts {
  const matched = sources.filter((source) => source.objectId !== null).length;
  const recovered = sources.filter((source) => source.recovered).length;
  return {
    references: sources.length,
    matched,
    recovered,
    completeness: wilsonInterval(recovered, sources.length, confidence),
    completenessOfMatched: wilsonInterval(recovered, matched, confidence),
  };
}

/** Matches `reference` to the catalogue and counts the references recovered as candidates. */
export function completenessAgainstReference(
  catalogRows: readonly MatchableRow[],
  reference: ReferenceSources,
  options: ReferenceCompletenessOptions = {},
): ReferenceReport {
  const radiusArcsec = options.radiusArcsec ?? DEFAULT_MATCH_RADIUS_ARCSEC;
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  const magEdges = options.magBins ?? DEFAULT_MAG_EDGES;
  checkEdges(magEdges, 'the magnitude bin edges');

  const catalogue = {
    ra: Float64Array.from(catalogRows, (row) => row.ra ?? Number.NaN),
    dec: Float64Array.from(catalogRows, (row) => row.dec ?? Number.NaN),
  };
  const matches = crossMatch(reference, catalogue, radiusArcsec);
  const finiteOrNull = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : null);
  const sources = matches.map((match, index): ReferenceSourceResult => {
    const row = match === null ? undefined : catalogRows[match.index]!;
    return {
      index,
      id: reference.id?.[index] ?? null,
      ra: reference.ra[index]!,
      dec: reference.dec[index]!,
      mag: finiteOrNull(reference.mag?.[index]),
      objectId: row === undefined ? null : String(row.object_id),
      separationArcsec: match?.separationArcsec ?? null,
      recovered: row?.is_candidate === true,
    };
  });

  let magBins: ReferenceReport['magBins'] = null;
  if (reference.mag !== null) {
    const groups: ReferenceSourceResult[][] = magEdges.slice(1).map(() => []);
    let outside = 0;
    for (const source of sources) {
      const bin = source.mag === null ? -1 : binOf(magEdges, source.mag);
      if (bin < 0) outside++;
      else groups[bin]!.push(source);
    }
    const bins = groups.map((group, i) => ({ lo: magEdges[i]!, hi: magEdges[i + 1]!, ...counts(group, confidence) }));
    magBins = { column: reference.columns?.mag ?? null, bins, outside };
  }

  const candidates = catalogRows.filter((row) => row.is_candidate).length;
  const totals = counts(sources, confidence);
  return {
    confidence,
    radiusArcsec,
    totals: { ...totals, matchedFraction: wilsonInterval(totals.matched, totals.references, confidence) },
    catalogue: {
      rows: catalogRows.length,
      withoutPosition: catalogRows.filter((row) => row.ra === null || row.dec === null).length,
      candidates,
      selected: wilsonInterval(candidates, catalogRows.length, confidence),
    },
    magBins,
    sources,
  };
}

/** The report as Markdown: the totals, then a table by magnitude when the reference has magnitudes. */
export function formatReferenceReport(report: ReferenceReport): string {
  const { totals, catalogue } = report;
  const lines = [
    `${totals.references} references, match radius ${report.radiusArcsec}": ${totals.matched} matched (${formatProportion(totals.matchedFraction)}), ${totals.recovered} recovered as candidates. Intervals: Wilson ${Math.round(report.confidence * 100)}%.`,
    '',
    markdownRow(['completeness', 'recovered / references', 'recovered / matched']),
    markdownRule(3),
    markdownRow(['all', formatProportion(totals.completeness), formatProportion(totals.completenessOfMatched)]),
    '',
    `Catalogue: ${catalogue.rows} rows (${catalogue.withoutPosition} without a position), ${catalogue.candidates} candidates: ${formatProportion(catalogue.selected)} of the catalogue selected.`,
  ];
  const { magBins } = report;
  if (magBins === null) {
    lines.push('', 'The reference has no magnitude column: no magnitude bins.');
  } else {
    lines.push(
      '',
      markdownRow([`reference ${magBins.column ?? 'magnitude'}`, 'references', 'matched', 'recovered', 'recovered / references', 'recovered / matched']),
      markdownRule(6),
      ...magBins.bins.map((bin) =>
        markdownRow([`${bin.lo}–${bin.hi}`, String(bin.references), String(bin.matched), String(bin.recovered), formatProportion(bin.completeness), formatProportion(bin.completenessOfMatched)]),
      ),
    );
    if (magBins.outside > 0) lines.push('', `${magBins.outside} references without a magnitude or outside the bins.`);
  }
  return lines.join('\n');
}

/**
 * The completeness of a run's catalogue file: against a table of known objects (matched on the sky)
 * or against the truth of the simulation it ran on (joined by object id), as a report and its
 * Markdown. `vis-agn completeness` and `vis-agn merge --truth/--reference` both give this report.
 */

import { rowAt } from '../catalog/batch.js';
import { openCatalog } from '../catalog/read.js';
import type { CatalogRow } from '../catalog/schema.js';
import { readPositionTable, type PositionTableOptions, type TableOptions } from '../ground/table.js';
import { completenessAgainstReference, formatReferenceReport, type ReferenceCompletenessOptions, type ReferenceReport } from './reference-completeness.js';
import { evaluateCatalogAgainstTruth, formatTruthReport, readTruthTable, scoredObject, type TruthOptions, type TruthReport } from './truth.js';

export type CompletenessAgainst =
  | { readonly reference: string; readonly table?: PositionTableOptions; readonly options?: ReferenceCompletenessOptions }
  | { readonly truth: string; readonly table?: TableOptions; readonly options?: TruthOptions };

export type CatalogCompleteness =
  | { readonly against: 'reference'; readonly report: ReferenceReport; readonly text: string }
  | { readonly against: 'truth'; readonly report: TruthReport; readonly text: string };

/** The catalogue's rows in the slim form `pick` gives, read a record batch at a time. */
async function catalogRows<T>(file: string, pick: (row: CatalogRow) => T): Promise<T[]> {
  const catalog = await openCatalog(file);
  const rows: T[] = [];
  for await (const batch of catalog.batches) for (let i = 0; i < batch.length; i++) rows.push(pick(rowAt(batch, i)));
  return rows;
}

export async function catalogCompleteness(catalog: string, against: CompletenessAgainst): Promise<CatalogCompleteness> {
  if ('reference' in against) {
    const reference = await readPositionTable(against.reference, against.table);
    const rows = await catalogRows(catalog, ({ object_id, ra, dec, is_candidate }) => ({ object_id, ra, dec, is_candidate }));
    const report = completenessAgainstReference(rows, reference, against.options);
    return { against: 'reference', report, text: formatReferenceReport(report) };
  }
  const truth = await readTruthTable(against.truth, against.table);
  const scored = await catalogRows(catalog, scoredObject);
  const report = evaluateCatalogAgainstTruth(scored, truth, against.options ?? {}, { catalog, truth: against.truth });
  return { against: 'truth', report, text: formatTruthReport(report) };
}

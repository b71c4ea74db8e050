/**
 * `vis-agn completeness --catalog C (--reference R | --truth T)`: how complete (and, against
 * simulation truth, how pure) a run's candidate selection is. Prints a Markdown report; --out writes
 * it as JSON too, appearing only when complete.
 */

import path from 'node:path';

import type { Command } from 'commander';

import { writeAtomically } from '../../atomic-file.js';
import { rowAt } from '../../catalog/batch.js';
import { openCatalog } from '../../catalog/read.js';
import type { CatalogRow } from '../../catalog/schema.js';
import { DEFAULT_MATCH_RADIUS_ARCSEC } from '../../completeness/match.js';
import { completenessAgainstReference, formatReferenceReport } from '../../completeness/reference-completeness.js';
import { readPositionTable } from '../../ground/table.js';
import type { Confidence } from '../../completeness/stats.js';
import { DEFAULT_FPRS, DEFAULT_FPS_EDGES, evaluateCatalogAgainstTruth, formatTruthReport, readTruthTable, scoredObject } from '../../completeness/truth.js';
import { UsageError } from '../../errors.js';
import { renderChart } from '../../inspect/charts.js';
import { figureBase, writeFigure } from '../../inspect/figure.js';
import { referencePlot, truthPlots, type ReportPlot } from '../../inspect/report-plots.js';
import { overwriteOption, refuseToOverwrite } from '../overwrite.js';

export interface CompletenessOptions {
  catalog: string;
  reference?: string;
  truth?: string;
  hdu?: string;
  matchRadius: string;
  raCol?: string;
  decCol?: string;
  magCol?: string;
  idCol?: string;
  fpr: string;
  fpsBins: string;
  magBins?: string;
  confidence: string;
  out?: string;
  plot?: string;
  overwrite?: boolean;
}

function numbers(text: string, option: string): number[] {
  const values = text.split(',').map((part) => (part.trim() === '' ? Number.NaN : Number(part)));
  if (values.some((value) => !Number.isFinite(value))) throw new UsageError(`${option} takes comma-separated numbers, got '${text}'`);
  return values;
}

/** A FITS HDU given on the command line: digits are an index, anything else an EXTNAME. */
function hduOf(options: CompletenessOptions): { hdu?: number | string } {
  return options.hdu === undefined ? {} : { hdu: /^\d+$/.test(options.hdu) ? Number(options.hdu) : options.hdu };
}

function confidenceOf(text: string): Confidence {
  if (text === '68') return 0.68;
  if (text === '95') return 0.95;
  throw new UsageError(`--confidence must be 68 or 95, got '${text}'`);
}

/** The catalogue's rows in the slim form `pick` gives, read a record batch at a time. */
async function catalogRows<T>(file: string, pick: (row: CatalogRow) => T): Promise<T[]> {
  const catalog = await openCatalog(file);
  const rows: T[] = [];
  for await (const batch of catalog.batches) for (let i = 0; i < batch.length; i++) rows.push(pick(rowAt(batch, i)));
  return rows;
}

interface CompletenessResult {
  readonly report: object;
  readonly text: string;
  readonly plots: readonly ReportPlot[];
}

async function referenceReport(options: CompletenessOptions, confidence: Confidence): Promise<CompletenessResult> {
  const radiusArcsec = numbers(options.matchRadius, '--match-radius');
  if (radiusArcsec.length !== 1) throw new UsageError(`--match-radius takes one number, got '${options.matchRadius}'`);
  const reference = await readPositionTable(options.reference!, {
    ...hduOf(options),
    raColumn: options.raCol,
    decColumn: options.decCol,
    magColumn: options.magCol,
    idColumn: options.idCol,
  });
  const rows = await catalogRows(options.catalog, ({ object_id, ra, dec, is_candidate }) => ({ object_id, ra, dec, is_candidate }));
  const report = completenessAgainstReference(rows, reference, {
    radiusArcsec: radiusArcsec[0]!,
    confidence,
    ...(options.magBins === undefined ? {} : { magBins: numbers(options.magBins, '--mag-bins') }),
  });
  const plot = referencePlot(report);
  return { report, text: formatReferenceReport(report), plots: plot === undefined ? [] : [plot] };
}

async function truthReport(options: CompletenessOptions, confidence: Confidence): Promise<CompletenessResult> {
  const truth = await readTruthTable(options.truth!, hduOf(options));
  const scored = await catalogRows(options.catalog, scoredObject);
  const report = evaluateCatalogAgainstTruth(
    scored,
    truth,
    {
      fprs: numbers(options.fpr, '--fpr'),
      fpsBins: options.fpsBins === 'exact' ? 'exact' : numbers(options.fpsBins, '--fps-bins'),
      confidence,
      ...(options.magBins === undefined ? {} : { magBins: numbers(options.magBins, '--mag-bins') }),
    },
    { catalog: options.catalog, truth: options.truth! },
  );
  return { report, text: formatTruthReport(report), plots: truthPlots(report) };
}

/** The report of a catalogue against a reference or a truth table, as Markdown and as a JSON-able object. */
export async function completenessReport(options: CompletenessOptions): Promise<CompletenessResult> {
  if ((options.reference === undefined) === (options.truth === undefined)) throw new UsageError('give exactly one of --reference and --truth');
  const confidence = confidenceOf(options.confidence);
  return options.reference !== undefined ? referenceReport(options, confidence) : truthReport(options, confidence);
}

/** The options `completeness` takes, at their defaults, for a catalogue and a reference or truth table. */
export function defaultCompletenessOptions(catalog: string, against: { reference?: string; truth?: string }): CompletenessOptions {
  return { catalog, ...against, matchRadius: String(DEFAULT_MATCH_RADIUS_ARCSEC), fpr: DEFAULT_FPRS.join(','), fpsBins: DEFAULT_FPS_EDGES.join(','), confidence: '68' };
}

/** --plot BASE: BASE-fps and BASE-mag against truth, BASE-mag against a reference; each .svg and .png. */
function plotFiles(base: string, names: readonly string[]): string[] {
  return names.flatMap((name) => ['.svg', '.png'].map((ext) => `${figureBase(base)}-${name.replace(/^completeness-/, '')}${ext}`));
}

export function register(program: Command): void {
  overwriteOption(program.command('completeness'))
    .description('completeness (and purity, against simulation truth) of a catalogue\'s candidate selection')
    .requiredOption('--catalog <file>', 'Arrow IPC catalogue written by a run')
    .option('--reference <file>', 'known AGN/QSOs to match on the sky: FITS table, Parquet, CSV with a header row, or Arrow')
    .option('--truth <file>', 'truth table of the simulation the catalogue was run on (joined by object_id)')
    .option('--hdu <hdu>', 'FITS table HDU of the reference or truth, by index or EXTNAME (default: the first table)')
    .option('--match-radius <arcsec>', 'largest separation of a reference and its catalogue match', String(DEFAULT_MATCH_RADIUS_ARCSEC))
    .option('--ra-col <name>', 'reference RA column in degrees (default: ra, right_ascension, RAJ2000, ALPHA_J2000, ...)')
    .option('--dec-col <name>', 'reference Dec column in degrees (default: dec, declination, DEJ2000, DELTA_J2000, ...)')
    .option('--mag-col <name>', 'reference magnitude column (default: mag, mag_vis, mag_total, MAG_AUTO if present)')
    .option('--id-col <name>', 'reference identifier column, carried into the JSON (default: object_id or id if present)')
    .option('--fpr <rates>', 'with --truth: false-positive rates on normal galaxies at which to report completeness, comma-separated', DEFAULT_FPRS.join(','))
    .option('--fps-bins <edges>', "with --truth: true f_PS bin edges, comma-separated, or 'exact' for one bin per value (grid simulations)", DEFAULT_FPS_EDGES.join(','))
    .option('--mag-bins <edges>', 'magnitude bin edges, comma-separated (default: 19,20,...,25)')
    .option('--confidence <percent>', 'coverage of the Wilson intervals: 68 (z = 1, "1 sigma") or 95', '68')
    .option('--out <file>', 'also write the report as JSON')
    .option('--plot <base>', 'also draw the completeness curves: BASE-fps and BASE-mag (truth) or BASE-mag (reference), each as .svg and .png')
    .action(async (options: CompletenessOptions) => {
      if (options.out !== undefined && [options.catalog, options.reference, options.truth].some((input) => input !== undefined && path.resolve(input) === path.resolve(options.out!))) {
        throw new UsageError(`the output ${options.out} would replace an input`);
      }
      const planned = options.plot === undefined ? [] : plotFiles(options.plot, options.truth !== undefined ? ['fps', 'mag'] : ['mag']);
      refuseToOverwrite([...(options.out === undefined ? [] : [options.out]), ...planned], options.overwrite);
      const { report, text, plots } = await completenessReport(options);
      process.stdout.write(`${text}\n`);
      if (options.out !== undefined) await writeAtomically(options.out, (file) => file.write(Buffer.from(`${JSON.stringify(report, null, 1)}\n`)));
      for (const plot of options.plot === undefined ? [] : plots) {
        const files = await writeFigure(`${figureBase(options.plot!)}-${plot.name.replace(/^completeness-/, '')}`, await renderChart(plot.chart));
        process.stdout.write(`plot: ${files.svg}, ${files.png}\n`);
      }
    });
}

/**
 * `vis-agn completeness --catalog C (--reference R | --truth T)`: how complete (and, against
 * simulation truth, how pure) a run's candidate selection is. Prints a Markdown report; --out writes
 * it as JSON too, appearing only when complete.
 */

import path from 'node:path';

import type { Command } from 'commander';

import { writeAtomically } from '../../atomic-file.js';
import { catalogCompleteness, type CompletenessAgainst } from '../../completeness/catalog.js';
import { DEFAULT_MATCH_RADIUS_ARCSEC } from '../../completeness/match.js';
import type { Confidence } from '../../completeness/stats.js';
import { DEFAULT_FPRS, DEFAULT_FPS_EDGES } from '../../completeness/truth.js';
import { UsageError } from '../../errors.js';
import { renderChart } from '../../inspect/charts.js';
import { figureBase, writeFigure } from '../../inspect/figure.js';
import { referencePlot, truthPlots, type ReportPlot } from '../../inspect/report-plots.js';
import { overwriteOption, refuseToOverwrite } from '../overwrite.js';

interface CompletenessOptions {
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

function referenceOptions(options: CompletenessOptions, confidence: Confidence): CompletenessAgainst {
  const radiusArcsec = numbers(options.matchRadius, '--match-radius');
  if (radiusArcsec.length !== 1) throw new UsageError(`--match-radius takes one number, got '${options.matchRadius}'`);
  return {
    reference: options.reference!,
    table: { ...hduOf(options), raColumn: options.raCol, decColumn: options.decCol, magColumn: options.magCol, idColumn: options.idCol },
    options: { radiusArcsec: radiusArcsec[0]!, confidence, ...(options.magBins === undefined ? {} : { magBins: numbers(options.magBins, '--mag-bins') }) },
  };
}

function truthOptions(options: CompletenessOptions, confidence: Confidence): CompletenessAgainst {
  return {
    truth: options.truth!,
    table: hduOf(options),
    options: {
      fprs: numbers(options.fpr, '--fpr'),
      fpsBins: options.fpsBins === 'exact' ? 'exact' : numbers(options.fpsBins, '--fps-bins'),
      confidence,
      ...(options.magBins === undefined ? {} : { magBins: numbers(options.magBins, '--mag-bins') }),
    },
  };
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
      if ((options.reference === undefined) === (options.truth === undefined)) throw new UsageError('give exactly one of --reference and --truth');
      const confidence = confidenceOf(options.confidence);
      const result = await catalogCompleteness(options.catalog, options.reference !== undefined ? referenceOptions(options, confidence) : truthOptions(options, confidence));
      const { report, text } = result;
      const plots = result.against === 'reference' ? [referencePlot(result.report)].filter((plot): plot is ReportPlot => plot !== undefined) : truthPlots(result.report);
      process.stdout.write(`${text}\n`);
      if (options.out !== undefined) await writeAtomically(options.out, (file) => file.write(Buffer.from(`${JSON.stringify(report, null, 1)}\n`)));
      for (const plot of options.plot === undefined ? [] : plots) {
        const files = await writeFigure(`${figureBase(options.plot!)}-${plot.name.replace(/^completeness-/, '')}`, await renderChart(plot.chart));
        process.stdout.write(`plot: ${files.svg}, ${files.png}\n`);
      }
    });
}

/**
 * `vis-agn report --catalog C --out DIR`: a static HTML report of a run that works offline:
 * metadata, plots, and a sortable, filterable table of the most significant candidates with
 * thumbnails and their inspection panels.
 */

import { availableParallelism } from 'node:os';
import path from 'node:path';

import type { Command } from 'commander';

import { CANDIDATE_CLASSES, type CandidateClass } from '../../detect/detect.js';
import { UsageError } from '../../errors.js';
import { writeReport } from '../../inspect/report.js';
import { refuseToOverwrite } from '../overwrite.js';
import { numberOption } from '../options.js';
import { stderrProgress } from '../progress.js';

interface ReportCommandOptions {
  overwrite?: boolean;
  catalog: string;
  out: string;
  maxCandidates: string;
  classes: string;
  truth?: string;
  model?: string;
  quiet?: boolean;
}

function classList(text: string): CandidateClass[] {
  const classes = text.split(',').map((part) => part.trim());
  const unknown = classes.find((cls) => !(CANDIDATE_CLASSES as readonly string[]).includes(cls));
  if (unknown !== undefined) throw new UsageError(`--classes takes a comma-separated list of ${CANDIDATE_CLASSES.join(', ')}; got ${JSON.stringify(unknown)}`);
  return [...new Set(classes as CandidateClass[])];
}

export function register(program: Command): void {
  program
    .command('report')
    .description('static HTML report of a run (offline): metadata, plots, a sortable table of candidates with thumbnails and inspection panels')
    .requiredOption('--catalog <file>', "a run's catalogue (catalog.arrow)")
    .requiredOption('--out <dir>', 'report folder: index.html, thumbs/, panels/, plots/')
    .option('--max-candidates <n>', 'rows in the table, most significant (agn_z) first', '200')
    .option('--classes <list>', 'classes shown in the table, comma-separated (agn, qso, point_like, none)', 'agn,qso')
    .option('--truth <file>', "the simulation's truth table (Arrow, FITS, ...): adds completeness plots")
    .option('--model <card>', "model card to recompute the images with (default: the run's, as recorded in the catalogue)")
    .option('--quiet', 'no progress lines')
    .option('--overwrite', 'replace an existing report in --out')
    .action(async (options: ReportCommandOptions) => {
      const started = performance.now();
      const maxCandidates = numberOption('--max-candidates', options.maxCandidates, { min: 1, integer: true });
      const classes = classList(options.classes);
      refuseToOverwrite([path.join(options.out, 'index.html')], options.overwrite);
      const result = await writeReport({
        catalog: options.catalog,
        out: options.out,
        classes,
        maxCandidates,
        ...(options.truth === undefined ? {} : { truth: options.truth }),
        ...(options.model === undefined ? {} : { cardPath: options.model }),
        threads: availableParallelism(),
        onProgress: stderrProgress('report', options.quiet === true),
        onWarning: (message) => process.stderr.write(`report: warning: ${message}\n`),
      });
      const missing = result.withoutImages > 0 ? ` (${result.withoutImages} without images: cutouts not readable)` : '';
      process.stdout.write(`${result.shown} of ${result.eligible} rows of class ${classes.join(', ')} in the table${missing}\nreport: ${result.index} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
    });
}

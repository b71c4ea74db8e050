/**
 * `vis-agn inspect FILE.fits [--out panel.png]` or `vis-agn inspect --catalog C --id OBJECT_ID`:
 * recomputes one source exactly as a run did (the catalogue's own seed, samples and thresholds) and
 * writes its inspection panel, printing every score, the flags in words and the class decision.
 */

import path from 'node:path';

import type { Command } from 'commander';

import { runConfigOf, type RunConfig } from '../../batch/metadata.js';
import { readCatalog } from '../../catalog/read.js';
import { InvalidInputError, UsageError } from '../../errors.js';
import type { CatalogRow } from '../../catalog/schema.js';
import type { DetectionSettings } from '../../detect/settings.js';
import { inspectPrepared, prepareForInspection, prepareRowForInspection, type InspectedSource } from '../../inspect/inspect.js';
import { figureBase, writeFigure } from '../../inspect/figure.js';
import { renderInspectionPanel } from '../../inspect/panel.js';
import { CoreGenerator } from '../../model/generator.js';
import { overwriteOption, refuseToOverwrite } from '../overwrite.js';
import { detectionOptions, scoringOptionsFrom, type DetectionCommandOptions } from '../options.js';

interface InspectOptions extends DetectionCommandOptions {
  catalog?: string;
  id?: string;
  out?: string;
  overwrite?: boolean;
}

const figureFiles = (out: string): string[] => ['.svg', '.png'].map((ext) => `${figureBase(out)}${ext}`);

export function register(program: Command): void {
  detectionOptions(
    overwriteOption(program.command('inspect'))
      .description('recompute one source and write its inspection panel (observed, regenerations, residuals) with every score')
      .argument('[file]', 'a cutout FITS file (or use --catalog with --id)')
      .option('--catalog <file>', "a run's catalogue: inspect one of its sources with the run's own settings")
      .option('--id <object_id>', 'with --catalog: the object id')
      .option('--out <file>', 'panel as FILE.png and FILE.svg (default inspect-<object_id> in the current folder)'),
  ).action(async (file: string | undefined, options: InspectOptions) => {
    let settings: DetectionSettings;
    let cardPath: string;
    let recorded: { row: CatalogRow; config: RunConfig } | undefined;
    if (options.catalog !== undefined) {
      if (file !== undefined) throw new UsageError('give a cutout file or --catalog with --id, not both');
      if (options.id === undefined || !/^-?\d+$/.test(options.id)) throw new UsageError('--catalog needs --id OBJECT_ID (an integer)');
      const catalog = await readCatalog(options.catalog);
      const id = BigInt(options.id);
      const row = catalog.rows.find((r) => r.object_id === id);
      if (row === undefined) throw new InvalidInputError(`no object ${options.id} in the catalogue`, { file: options.catalog });
      recorded = { row, config: runConfigOf(catalog.metadata, options.catalog) };
      settings = recorded.config;
      cardPath = recorded.config.model;
    } else {
      if (file === undefined) throw new UsageError('give a cutout file, or --catalog with --id');
      ({ settings, cardPath } = scoringOptionsFrom(options));
    }
    // Known before any work only when given; the default name needs the object id.
    if (options.out !== undefined) refuseToOverwrite(figureFiles(options.out), options.overwrite);
    const started = performance.now();
    const generator = await CoreGenerator.load(cardPath, { device: 'cpu', threads: 1 });
    try {
      const prepared = recorded === undefined ? prepareForInspection(file!, generator, settings) : prepareRowForInspection(recorded.row, generator, recorded.config);
      const [inspected] = (await inspectPrepared(generator, [prepared], settings)) as [InspectedSource];
      if (recorded !== undefined && inspected.row.agn_z !== recorded.row.agn_z) {
        process.stderr.write(`inspect: warning: agn_z recomputes as ${inspected.row.agn_z}, the catalogue has ${recorded.row.agn_z} (another model or input file?)\n`);
      }
      const out = figureBase(options.out ?? path.join('.', `inspect-${inspected.row.object_id}`));
      if (options.out === undefined) refuseToOverwrite(figureFiles(out), options.overwrite);
      const files = await writeFigure(out, renderInspectionPanel(inspected.view));
      process.stdout.write(`${inspected.lines.join('\n')}\npanel: ${files.png} and ${files.svg} (${((performance.now() - started) / 1000).toFixed(2)} s)\n`);
    } finally {
      await generator.release();
    }
  });
}

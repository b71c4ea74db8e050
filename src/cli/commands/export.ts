/**
 * `vis-agn export CATALOG.arrow --format parquet|fits|csv|ds9 [--out FILE] [--candidates-only]`:
 * converts a run's Arrow catalogue for DuckDB, TOPCAT/astropy, spreadsheets or ds9. The output appears
 * only when complete.
 */

import path from 'node:path';

import { Option, type Command } from 'commander';

import { UsageError } from '../../errors.js';
import { defaultExportPath, EXPORT_FORMATS, exportCatalog, type ExportFormatName } from '../../catalog/formats.js';
import { COLUMN_NAMINGS, MER_COLUMN_NAMES, type ColumnNaming } from '../../catalog/schema.js';
import { overwriteOption, refuseToOverwrite } from '../overwrite.js';

interface ExportCommandOptions {
  format: ExportFormatName;
  out?: string;
  candidatesOnly?: boolean;
  overwrite?: boolean;
  columnNames: ColumnNaming;
}

export function register(program: Command): void {
  const formats = Object.entries(EXPORT_FORMATS).map(([name, format]) => `${name} (${format.description})`);
  const command = program
    .command('export')
    .description('convert an Arrow catalogue to Parquet, FITS, CSV or a ds9 region file')
    .argument('<catalog>', 'Arrow IPC catalogue written by a run')
    .addOption(new Option('--format <format>', `output format: ${formats.join('; ')}`).choices(Object.keys(EXPORT_FORMATS)).makeOptionMandatory())
    .option('--out <file>', 'output file (default: the catalogue name with the format extension)')
    .option('--candidates-only', 'keep only AGN/QSO candidates (is_candidate); ds9 always does')
    .addOption(
      new Option('--column-names <naming>', `vis-agn's names, or mer: the Euclid MER catalogue's where the meaning is the same (${Object.entries(MER_COLUMN_NAMES).map(([ours, mer]) => `${ours} -> ${mer}`).join(', ')})`)
        .choices(COLUMN_NAMINGS)
        .default('vis-agn'),
    );
  overwriteOption(command).action(async (catalog: string, options: ExportCommandOptions) => {
      const candidatesOnly = options.candidatesOnly === true;
      const out = options.out ?? defaultExportPath(catalog, options.format, candidatesOnly);
      if (path.resolve(out) === path.resolve(catalog)) throw new UsageError(`the output ${out} would replace the catalogue it is read from`);
      refuseToOverwrite([out], options.overwrite);
      const rows = await exportCatalog(catalog, options.format, out, { candidatesOnly, naming: options.columnNames });
      process.stdout.write(`wrote ${rows} ${options.format === 'ds9' ? 'regions' : 'rows'} to ${out}\n`);
    });
}

/**
 * `vis-agn fitsinfo FILE [--json]`: every HDU's kind, shape, type, compression, pixel statistics or
 * table columns, and checksum status (fits/info.ts). The JSON form is the contract in docs/fitsinfo-json.md.
 */

import type { Command } from 'commander';

import { fitsInfo, FITSINFO_SCHEMA, formatFitsInfo } from '../../fits/info.js';

export function register(program: Command): void {
  program
    .command('fitsinfo')
    .description('list the HDUs of a FITS file: kind, shape, type, compression, pixel statistics, table columns, checksums')
    .argument('<file>', 'FITS file (plain, .gz, or tile-compressed)')
    .option('--json', `machine-readable output (schema ${FITSINFO_SCHEMA}, docs/fitsinfo-json.md)`)
    .action((file: string, options: { json?: boolean }) => {
      const info = fitsInfo(file);
      process.stdout.write(options.json ? `${JSON.stringify(info, null, 2)}\n` : formatFitsInfo(info));
      // Everything readable is listed; the first unreadable HDU still decides the exit status.
      const failed = info.hdus.find((h) => h.error);
      if (failed?.error) process.exitCode = failed.error.exitCode;
    });
}

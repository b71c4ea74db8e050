/**
 * Outputs are never replaced by surprise: a command that would write over an existing file stops
 * before any work, naming the file, unless it was given `--overwrite`.
 */

import { existsSync } from 'node:fs';

import type { Command } from 'commander';

import { OutputError } from '../errors.js';

export function overwriteOption(command: Command): Command {
  return command.option('--overwrite', 'replace output files that already exist');
}

/** OutputError naming the first of `files` that exists, unless `overwrite`. */
export function refuseToOverwrite(files: readonly string[], overwrite: boolean | undefined): void {
  if (overwrite === true) return;
  const existing = files.find((file) => existsSync(file));
  if (existing !== undefined) throw new OutputError('already exists; give --overwrite to replace it', { file: existing });
}

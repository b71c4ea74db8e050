#!/usr/bin/env node
/**
 * Strips the notebooks for committing: no outputs, no execution counts, no execution timing, written
 * the way Jupyter writes them (sorted keys, one-space indent, trailing newline) so a notebook saved from
 * Jupyter and then stripped gives a minimal diff. test/notebooks/notebooks.test.ts checks the result.
 *
 *   npm run notebooks:strip                  # every notebooks/*.ipynb, in place
 *   npm run notebooks:strip -- A.ipynb ...   # these files
 *   npm run notebooks:strip -- --check       # list unstripped notebooks and exit 1, change nothing
 */

import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Cell metadata that only records a run (nbclient timing, the ExecuteTime extension). */
const RUN_METADATA = ['execution', 'ExecuteTime'];

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys(value[key])]));
}

/** The notebook without anything a run leaves behind. */
export function stripNotebook(notebook) {
  const cells = notebook.cells.map((cell) => {
    const metadata = { ...cell.metadata };
    for (const key of RUN_METADATA) delete metadata[key];
    return cell.cell_type === 'code' ? { ...cell, metadata, outputs: [], execution_count: null } : { ...cell, metadata };
  });
  return { ...notebook, cells };
}

export function formatNotebook(notebook) {
  return `${JSON.stringify(sortKeys(notebook), null, 1)}\n`;
}

function main(argv) {
  const check = argv.includes('--check');
  const named = argv.filter((arg) => arg !== '--check');
  const notebooksDir = path.join(repoRoot, 'notebooks');
  const files = named.length > 0 ? named : readdirSync(notebooksDir).filter((name) => name.endsWith('.ipynb')).sort().map((name) => path.join(notebooksDir, name));
  const changed = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const stripped = formatNotebook(stripNotebook(JSON.parse(text)));
    if (stripped === text) continue;
    changed.push(path.relative(process.cwd(), file));
    if (!check) {
      // Atomically: an interrupted run never leaves half a notebook.
      const temporary = `${file}.strip-${process.pid}`;
      writeFileSync(temporary, stripped);
      renameSync(temporary, file);
    }
  }
  if (check) {
    if (changed.length > 0) {
      process.stderr.write(`not stripped (run npm run notebooks:strip): ${changed.join(', ')}\n`);
      process.exitCode = 1;
    }
  } else {
    process.stdout.write(changed.length === 0 ? `${files.length} notebooks already stripped\n` : `stripped ${changed.join(', ')}\n`);
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));

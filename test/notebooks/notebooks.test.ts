/**
 * The notebooks in notebooks/: committed stripped, and every cell runs under `jupyter nbconvert
 * --execute` (Debian's jupyter-nbconvert) with the tslab kernel from node_modules, as CI runs them.
 *
 * The kernel is registered in a temporary Jupyter tree (JUPYTER_PATH, with JUPYTER_DATA_DIR,
 * JUPYTER_RUNTIME_DIR and JUPYTER_CONFIG_DIR there too), never in the user's ~/.local/share/jupyter
 * or /usr/local/share/jupyter: its kernel.json starts this Node with node_modules/tslab/bin/tslab.
 *
 * tslab reports a failing cell only on the cell's stderr stream (its execute_reply carries no
 * ename/evalue, so nbconvert's own message reads an empty `<Error>:`). So the notebooks run with
 * --allow-errors and the executed copy is read back: a cell with stderr output has failed, and the
 * test fails with that cell's source and error. The notebooks write nothing else to stderr. A dead
 * kernel or a timeout still makes nbconvert exit non-zero, which fails the test with its stderr.
 *
 * The Q1 walkthrough needs the real cutouts in ../shared/data/euclid-q1 (or VIS_AGN_SHARED): without
 * them it is skipped with a message (run by hand, its first cell stops with a message that says so).
 */

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { commandWorks, describeIf, euclidQ1Dir, repoRoot } from '../helpers/shared.js';

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

interface Cell {
  cell_type: 'code' | 'markdown' | 'raw';
  id?: string;
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: Output[];
  execution_count?: number | null;
}

interface Notebook {
  cells: Cell[];
  metadata: { kernelspec?: { name?: string } };
  nbformat: number;
}

const notebooksDir = path.join(repoRoot, 'notebooks');
const notebookFiles = readdirSync(notebooksDir).filter((name) => name.endsWith('.ipynb')).sort();
const stripScript = path.join(repoRoot, 'pipelines', 'tools', 'strip-notebooks.mjs');
const tslabBin = path.join(repoRoot, 'node_modules', 'tslab', 'bin', 'tslab');
const builtProject = path.join(repoRoot, 'dist', 'batch', 'run.js');

const run = promisify(execFile);
const text = (value: string | string[] | undefined): string => (Array.isArray(value) ? value.join('') : (value ?? ''));
const readNotebook = (file: string): Notebook => JSON.parse(readFileSync(file, 'utf8')) as Notebook;

const hasNbconvert = commandWorks('jupyter-nbconvert', ['--version']);

/** What a run leaves in a notebook; empty for a stripped one. */
function runLeftovers(notebook: Notebook): string[] {
  return notebook.cells.flatMap((cell, i) => {
    const found: string[] = [];
    if (cell.cell_type === 'code' && (cell.outputs?.length ?? 0) > 0) found.push(`cell ${i} has ${cell.outputs!.length} outputs`);
    if (cell.cell_type === 'code' && cell.execution_count !== null) found.push(`cell ${i} has execution_count ${String(cell.execution_count)}`);
    for (const key of ['execution', 'ExecuteTime']) if (key in cell.metadata) found.push(`cell ${i} has metadata.${key}`);
    return found;
  });
}

describe('committed notebooks', () => {
  it('are there: the quickstart and the Q1 walkthrough', () => {
    expect(notebookFiles).toEqual(expect.arrayContaining(['quickstart.ipynb', 'q1-walkthrough.ipynb']));
  });

  it.each(notebookFiles)('%s is stripped (no outputs, no execution counts) and uses the tslab kernel', (name) => {
    const notebook = readNotebook(path.join(notebooksDir, name));
    expect(runLeftovers(notebook)).toEqual([]);
    expect(notebook.nbformat).toBe(4);
    expect(notebook.metadata.kernelspec?.name).toBe('tslab');
  });

  it.each(notebookFiles)('%s is formatted as npm run notebooks:strip writes it', async (name) => {
    await expect(run(process.execPath, [stripScript, '--check', path.join(notebooksDir, name)])).resolves.toBeDefined();
  });

  describe('npm run notebooks:strip', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-strip-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('removes outputs, execution counts and timing, keeps sources, and --check tells the difference', async () => {
      const file = path.join(dir, 'run.ipynb');
      const executed = readNotebook(path.join(notebooksDir, 'quickstart.ipynb'));
      executed.cells.forEach((cell, i) => {
        cell.metadata = { ...cell.metadata, execution: { 'iopub.status.busy': '2026-01-01T00:00:00Z' }, tags: ['kept'] };
        if (cell.cell_type === 'code') {
          cell.execution_count = i + 1;
          cell.outputs = [{ output_type: 'stream', name: 'stdout', text: ['hello\n'] }];
        }
      });
      writeFileSync(file, JSON.stringify(executed));
      await expect(run(process.execPath, [stripScript, '--check', file])).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('not stripped') });
      await run(process.execPath, [stripScript, file]);
      const stripped = readNotebook(file);
      expect(runLeftovers(stripped)).toEqual([]);
      expect(stripped.cells.map((cell) => text(cell.source))).toEqual(executed.cells.map((cell) => text(cell.source)));
      expect(stripped.cells.every((cell) => (cell.metadata.tags as string[])[0] === 'kept')).toBe(true);
      await expect(run(process.execPath, [stripScript, '--check', file])).resolves.toBeDefined();
    });
  });
});

interface Executed {
  notebook: Notebook;
  seconds: number;
}

const requirements = [
  [hasNbconvert, 'jupyter-nbconvert not found (Debian: apt-get install jupyter-nbconvert)'],
  [existsSync(tslabBin), `${tslabBin} not found (npm ci installs tslab)`],
  [existsSync(builtProject), `${builtProject} not found (npm run build compiles the project the notebooks import)`],
] as const;
const missing = requirements.filter(([ok]) => !ok).map(([, why]) => why);

describeIf(missing.length === 0, missing.join('; '), 'notebooks run under jupyter nbconvert --execute with the tslab kernel', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-notebooks-'));
  const jupyterPath = path.join(dir, 'share', 'jupyter');

  beforeAll(() => {
    const kernelDir = path.join(jupyterPath, 'kernels', 'tslab');
    mkdirSync(kernelDir, { recursive: true });
    // What `tslab install` writes, with this Node and this checkout's tslab instead of a `tslab` on PATH.
    const spec = { argv: [process.execPath, tslabBin, 'kernel', '--config-path', '{connection_file}'], display_name: 'TypeScript', language: 'typescript' };
    writeFileSync(path.join(kernelDir, 'kernel.json'), JSON.stringify(spec, null, 1));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function execute(name: string): Promise<Executed> {
    const outputDir = path.join(dir, 'executed');
    const env = {
      ...process.env,
      JUPYTER_PATH: jupyterPath,
      JUPYTER_DATA_DIR: path.join(dir, 'data'),
      JUPYTER_RUNTIME_DIR: path.join(dir, 'runtime'),
      JUPYTER_CONFIG_DIR: path.join(dir, 'config'),
      VIS_AGN_NOTEBOOK_OUT: path.join(dir, `out-${path.basename(name, '.ipynb')}`),
    };
    const args = [
      '--to', 'notebook', '--execute', '--allow-errors',
      '--ExecutePreprocessor.kernel_name=tslab', '--ExecutePreprocessor.timeout=300',
      '--output-dir', outputDir, path.join(notebooksDir, name),
    ];
    const started = performance.now();
    try {
      await run('jupyter-nbconvert', args, { cwd: notebooksDir, env, timeout: 540_000, maxBuffer: 64 << 20 });
    } catch (error) {
      const { code, signal, stderr } = error as { code?: number; signal?: string; stderr?: string };
      throw new Error(`jupyter-nbconvert ${name} failed (exit ${String(code ?? signal)}):\n${(stderr ?? '').slice(-6000)}`);
    }
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`${name}: executed in ${seconds.toFixed(1)} s\n`);
    const notebook = readNotebook(path.join(outputDir, name));
    const failures = notebook.cells.flatMap((cell, i) => {
      const errors = (cell.outputs ?? []).filter((o) => o.output_type === 'error' || (o.output_type === 'stream' && o.name === 'stderr'));
      if (errors.length === 0) return [];
      const message = errors.map((o) => (o.output_type === 'error' ? `${o.ename}: ${o.evalue}\n${(o.traceback ?? []).join('\n')}` : text(o.text))).join('');
      return [`cell ${i} (${cell.id ?? 'no id'}) failed:\n${text(cell.source)}\n--- error ---\n${message}`];
    });
    if (failures.length > 0) throw new Error(`${name}: ${failures.length} cell(s) failed; the first:\n${failures[0]}`);
    return { notebook, seconds };
  }

  const outputsOf = (notebook: Notebook, kind: string): string[] =>
    notebook.cells.flatMap((cell) => (cell.outputs ?? []).flatMap((o) => (kind === 'stdout' ? (o.name === 'stdout' ? [text(o.text)] : []) : o.data?.[kind] === undefined ? [] : [text(o.data[kind])])));

  it('quickstart.ipynb: simulates, detects, reads the catalogue, plots completeness and shows a panel', async () => {
    const { notebook } = await execute('quickstart.ipynb');
    expect(outputsOf(notebook, 'stdout').join('')).toMatch(/400 sources in [\d.]+ s/);
    expect(outputsOf(notebook, 'text/markdown').join('\n')).toMatch(/\| true f_PS \| sources \|/);
    // The completeness plot and the inspection panel.
    expect(outputsOf(notebook, 'image/png')).toHaveLength(2);
  }, 600_000);

  describeIf(existsSync(euclidQ1Dir), `${euclidQ1Dir} not found; set VIS_AGN_SHARED`, 'with the real Q1 cutouts', () => {
    it('q1-walkthrough.ipynb: headers, images, detection and the three panels', async () => {
      const { notebook } = await execute('q1-walkthrough.ipynb');
      expect(outputsOf(notebook, 'stdout').join('')).toMatch(/MAGZERO 24\.6/);
      expect(outputsOf(notebook, 'text/markdown').join('\n')).toMatch(/\*\*3 sources, \d+ candidates\*\*/);
      // The VIS images and one panel per cutout.
      expect(outputsOf(notebook, 'image/png')).toHaveLength(4);
      }, 600_000);
  });
});

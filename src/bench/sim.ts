/**
 * `node dist/bench/sim.js`: how fast the simulator makes 100x100 cutouts and 64x64 training stamps.
 *
 *   (a) render only: simulateObject in this thread, cutouts/s and CPU ms per cutout;
 *   (b) `simulate cutouts` end to end with --workers W: render, write FITS files, truth tables;
 *   (c) `simulate shards` end to end with --workers W: 64x64 stamps into float32 shards.
 *
 * The machine is shared, so the report also gives the load average before the run and the CPU time
 * the run used. Options: --n N (cutouts and stamps, default 2000), --quick (n = 200, for CI),
 * --workers W (default 2), --size S (default 100), --dir D (work there and keep the outputs; default a
 * temporary folder, removed), --out F (default bench/results/sim.json; the markdown table goes beside
 * it as .md), --seed S.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { simulateCutouts } from '../sim/cutouts.js';
import { simulateObject } from '../sim/products.js';
import { DEFAULT_RECIPE } from '../sim/recipe.js';
import { writeTrainingShards } from '../sim/shards.js';
import { writeBenchResults } from './report.js';

interface Timing {
  readonly count: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** CPU time of this process and its worker threads, per item. */
  readonly cpuMsPerItem: number;
}

async function timed(count: number, run: () => Promise<void> | void): Promise<Timing> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run();
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { count, seconds, perSecond: count / seconds, cpuMsPerItem: (used.user + used.system) / 1000 / count };
}

function positive(text: string | undefined, fallback: number): number {
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`expected a positive integer, got '${text}'`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      n: { type: 'string' },
      quick: { type: 'boolean', default: false },
      workers: { type: 'string' },
      size: { type: 'string' },
      seed: { type: 'string' },
      dir: { type: 'string' },
      out: { type: 'string', default: path.join('bench', 'results', 'sim.json') },
    },
  });
  const n = positive(values.n, values.quick ? 200 : 2000);
  const workers = positive(values.workers, 2);
  const size = positive(values.size, 100);
  const seed = positive(values.seed, 1);
  const dir = values.dir ?? mkdtempSync(path.join(os.tmpdir(), 'vis-agn-bench-sim-'));
  const loadBefore = os.loadavg();

  // Warm the JIT on a few objects first, so (a) measures the steady state.
  for (let id = 1; id <= 20; id++) simulateObject(DEFAULT_RECIPE, seed + 1, id, 0, size);
  const renderOnly = await timed(Math.min(n, 500), () => {
    for (let id = 1; id <= Math.min(n, 500); id++) simulateObject(DEFAULT_RECIPE, seed, id, 0, size);
  });
  const cutouts = await timed(n, async () => {
    await simulateCutouts({ count: n, seed, out: path.join(dir, 'cutouts'), size, workers });
  });
  const shards = await timed(n, async () => {
    await writeTrainingShards({ count: n, seed, out: path.join(dir, 'shards'), stamp: 64, workers });
  });

  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${os.cpus()[0]?.model ?? 'unknown'} x${os.cpus().length}`,
    loadAverageBefore: loadBefore,
    options: { n, workers, size, seed },
    renderOnly,
    cutouts,
    shards,
  };
  const rows: [string, Timing][] = [
    [`render ${size}x${size} cutouts, 1 thread`, renderOnly],
    [`simulate cutouts (FITS files), ${workers} workers`, cutouts],
    [`simulate shards (64x64 stamps), ${workers} workers`, shards],
  ];
  const markdown = [
    `Simulator, ${result.cpu}, Node ${result.node}, load average before the run ${loadBefore.map((l) => l.toFixed(2)).join(' ')}.`,
    '',
    '| | per second | CPU ms each |',
    '| --- | ---: | ---: |',
    ...rows.map(([what, t]) => `| ${what} | ${t.perSecond.toFixed(0)} | ${t.cpuMsPerItem.toFixed(2)} |`),
    '',
  ].join('\n');
  writeBenchResults(values.out!, result, markdown);
  if (values.dir === undefined) rmSync(dir, { recursive: true, force: true });
}

await main();
